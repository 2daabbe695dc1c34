"""Delivering webhooks for real: a worker sends outbox events to a receiver on 127.0.0.1 that
verifies the signatures with the `standardwebhooks` library. Retries back off and keep the
webhook-id; a rotation's overlap signs with both secrets; sustained failure turns the endpoint
off and tells the owners."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hackops.config import Settings
from hackops.db import Database
from hackops.models import AuditEntry, DeliveryStatus, Notification, OutboundEmail
from hackops.tenancy import set_actor, set_tenant
from hackops.webhooks import service
from hackops.webhooks.signing import new_secret
from tests.conftest import make_settings
from tests.core.test_jobs import running_worker, wait_until
from tests.webhooks.receiver import Answer, Receiver
from tests.webhooks.scenario import (
    bring_forward,
    hours_ago,
    scene,
    send_test_event,
    set_endpoint,
    state,
    waiting_retry,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def hook_settings(database_url: str, storage_dir: Path) -> Settings:
    """Dev mode with loopback endpoints allowed (the receiver is on 127.0.0.1)."""
    return make_settings(database_url, storage_dir, hackops_env="dev", webhook_allow_loopback=True)


async def test_retries_back_off_keep_the_webhook_id_and_end_delivered(
    hook_settings: Settings, committed_db: Database
) -> None:
    secret = new_secret()
    async with Receiver({"current": secret}) as receiver:
        receiver.answers = [Answer(500, b"boom"), Answer(503, b"later")]
        s = await scene(committed_db, receiver.url(), secret=secret)
        event_id = await send_test_event(committed_db, s)

        async def delivered() -> bool:
            found = await state(committed_db, s.endpoint_id)
            return [d.status for d in found.deliveries] == [DeliveryStatus.DELIVERED]

        async with running_worker(hook_settings, committed_db):
            for attempt, wait in ((1, 5), (2, 10)):
                await receiver.wait_for(attempt)

                async def retry_waiting() -> bool:
                    return await waiting_retry(committed_db) is not None

                await wait_until(retry_waiting)
                (delivery,) = (await state(committed_db, s.endpoint_id)).deliveries
                assert delivery.status is DeliveryStatus.PENDING
                assert delivery.attempts == attempt
                assert delivery.last_attempt_at is not None
                assert delivery.next_attempt_at == delivery.last_attempt_at + timedelta(
                    seconds=wait
                )
                due = await waiting_retry(committed_db)
                assert due is not None
                assert abs((due - delivery.next_attempt_at).total_seconds()) < 2
                await bring_forward(committed_db)
            await wait_until(delivered)

            # A redelivery by hand: one more attempt, the same id and body.
            async with committed_db.transaction() as session:
                await set_actor(session, s.owner.id)
                await set_tenant(session, s.org.id)
                access = s.owner_access()
                endpoint = await service.get_endpoint(session, access, s.endpoint_id)
                await service.redeliver(session, access, endpoint, delivery.id)
            await receiver.wait_for(4)

            async def four_logged() -> bool:
                return len((await state(committed_db, s.endpoint_id)).log) == 4

            await wait_until(four_logged)

    assert [r.verified for r in receiver.requests] == [["current"]] * 4
    assert {r.headers["webhook-id"] for r in receiver.requests} == {str(event_id)}
    assert len({r.body for r in receiver.requests}) == 1
    document = json.loads(receiver.requests[0].body)
    assert document["type"] == "webhook.test"
    assert document["data"]["id"] == str(event_id)
    assert document["data"]["endpoint_id"] == str(s.endpoint_id)
    assert document["data"]["org_id"] == str(s.org.id)
    assert receiver.requests[0].headers["content-type"] == "application/json"

    found = await state(committed_db, s.endpoint_id)
    assert [
        (a.number, a.manual, a.status_code, a.succeeded, a.response_excerpt) for a in found.log
    ] == [
        (1, False, 500, False, "boom"),
        (2, False, 503, False, "later"),
        (3, False, 200, True, "thanks"),
        (4, True, 200, True, "thanks"),
    ]
    assert found.log[0].error == (
        "The endpoint answered HTTP 500 Internal Server Error: the receiver has a problem of its"
        " own; it is tried again later."
    )
    (delivery,) = found.deliveries
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.DELIVERED,
        4,
        None,
    )
    assert (found.endpoint.consecutive_failures, found.endpoint.failing_since) == (0, None)
    assert found.endpoint.last_success_at is not None


async def test_a_rotation_signs_with_both_secrets_until_the_overlap_ends(
    hook_settings: Settings, committed_db: Database
) -> None:
    old = new_secret()
    async with Receiver({"old": old}) as receiver:
        s = await scene(committed_db, receiver.url(), secret=old)
        async with running_worker(hook_settings, committed_db):
            await send_test_event(committed_db, s)
            await receiver.wait_for(1)

            async with committed_db.transaction() as session:
                await set_actor(session, s.owner.id)
                await set_tenant(session, s.org.id)
                access = s.owner_access()
                endpoint = await service.get_endpoint(session, access, s.endpoint_id)
                _, new = await service.rotate_secret(
                    session,
                    access,
                    endpoint,
                    overlap=timedelta(hours=24),
                    secret_key=hook_settings.secret_key.get_secret_value(),
                )
            receiver.secrets["new"] = new
            await send_test_event(committed_db, s)
            await receiver.wait_for(2)

            await set_endpoint(committed_db, s.endpoint_id, previous_secret_expires_at=hours_ago(1))
            await send_test_event(committed_db, s)
            await receiver.wait_for(3)

    first, during, after = receiver.requests
    assert first.verified == ["old"]
    assert during.verified == ["old", "new"]
    assert during.headers["webhook-signature"].count("v1,") == 2
    assert after.verified == ["new"]
    assert after.headers["webhook-signature"].count("v1,") == 1


async def test_sustained_failure_turns_the_endpoint_off_and_tells_the_owners(
    hook_settings: Settings, committed_db: Database
) -> None:
    async with Receiver() as receiver:
        receiver.default = Answer(500, b"down")
        # Failing for 73 hours, 9 attempts in a row: the next failure turns it off.
        s = await scene(
            committed_db,
            receiver.url(),
            consecutive_failures=9,
            failing_since=hours_ago(73),
        )
        # Failing for an hour only, however many attempts: it stays on.
        young = await scene(
            committed_db, receiver.url(), consecutive_failures=40, failing_since=hours_ago(1)
        )

        async def off() -> bool:
            return not (await state(committed_db, s.endpoint_id)).endpoint.enabled

        async def young_failed_again() -> bool:
            return (await state(committed_db, young.endpoint_id)).endpoint.consecutive_failures > 40

        async with running_worker(hook_settings, committed_db):
            await send_test_event(committed_db, s)
            await send_test_event(committed_db, young)
            await wait_until(off)
            await wait_until(young_failed_again)
            await wait_until(lambda: _retry_waiting(committed_db))
            await bring_forward(committed_db)  # the next attempt finds the endpoint off

            async def failed() -> bool:
                found = await state(committed_db, s.endpoint_id)
                return found.deliveries[0].status is DeliveryStatus.FAILED

            await wait_until(failed)

    found = await state(committed_db, s.endpoint_id)
    assert found.endpoint.disabled_at is not None
    assert found.endpoint.disabled_reason.startswith(
        "Turned off automatically: every attempt failed since "
    )
    assert "(10 in a row). The last: The endpoint answered HTTP 500" in (
        found.endpoint.disabled_reason
    )
    assert found.deliveries[0].last_error == "Not sent: the endpoint is turned off."
    assert len(found.log) == 1  # the request after the switch-off was never made
    assert (await state(committed_db, young.endpoint_id)).endpoint.enabled

    async with committed_db.transaction() as session:
        await set_actor(session, None, platform_admin=True)
        notes = list(await session.scalars(select(Notification)))
        mails = list(await session.scalars(select(OutboundEmail)))
        audit = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.resource_id == str(s.endpoint_id))
            )
        )
    assert [(n.user_id, n.category, n.title, n.link) for n in notes] == [
        (
            s.owner.id,
            "system",
            f"A webhook endpoint of {s.org.name} was turned off",
            f"/orgs/{s.org.slug}/webhooks/{s.endpoint_id}",
        )
    ]
    assert [(m.to_address, m.subject) for m in mails] == [
        (s.owner.email, f"{s.org.name}: webhook endpoint turned off after failures")
    ]
    assert [(a.action, a.actor_id) for a in audit] == [
        ("webhook_endpoint.disabled_automatically", None)
    ]


async def _retry_waiting(database: Database) -> bool:
    return await waiting_retry(database) is not None
