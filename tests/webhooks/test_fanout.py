"""The webhooks channel: each enabled endpoint of the event's organization that wants the type
gets one delivery and one job, once however often the fan-out runs; a test event goes to its
endpoint only."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import SYSTEM
from hackops.models import DeliveryStatus, OutboxEvent, WebhookAttempt, WebhookDelivery
from hackops.outbox.catalog import CATALOG, RegistrationCreated, WebhookTest
from hackops.outbox.service import emit
from hackops.outbox.tasks import fan_out
from hackops.webhooks import message
from hackops.webhooks.openapi import envelope
from hackops.webhooks.tasks import prune
from tests.factories import (
    create_organization,
    create_registration,
    create_webhook_attempt,
    create_webhook_delivery,
    create_webhook_endpoint,
)
from tests.registrations.helpers import scene


async def deliver_jobs(session: AsyncSession) -> list[dict[str, object]]:
    rows = await session.execute(
        text(
            "SELECT args FROM procrastinate_jobs WHERE task_name = 'webhooks.deliver'"
            " AND queue_name = 'webhooks' ORDER BY id"
        )
    )
    return [row.args for row in rows]


async def deliveries(session: AsyncSession, event_id: uuid.UUID) -> list[WebhookDelivery]:
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    rows = await session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.outbox_event_id == event_id)
        .order_by(WebhookDelivery.created_at)
    )
    return list(rows)


async def test_an_event_reaches_the_endpoints_that_want_it_once(session: AsyncSession) -> None:
    s = await scene(session)
    every = await create_webhook_endpoint(session, s.org)
    registrations = await create_webhook_endpoint(
        session, s.org, event_types=["registration.created", "registration.cancelled"]
    )
    await create_webhook_endpoint(session, s.org, event_types=["team.member_joined"])
    await create_webhook_endpoint(session, s.org, enabled=False)
    elsewhere = await create_organization(session)
    await create_webhook_endpoint(session, elsewhere)
    registration = await create_registration(session, s.event, user=s.organizer)
    row = await emit(
        session,
        SYSTEM,
        RegistrationCreated(
            registration_id=registration.id, user_id=s.organizer.id, status="registered"
        ),
        org_id=s.org.id,
        event_id=s.event.id,
    )

    assert await fan_out(session, row.id) == "registration.created"
    row.dispatched_at = None  # a second run that could not see the mark adds nothing
    await session.flush()
    assert await fan_out(session, row.id) == "registration.created"

    made = await deliveries(session, row.id)
    assert {d.endpoint_id for d in made} == {every.id, registrations.id}
    assert {d.status for d in made} == {DeliveryStatus.PENDING}
    assert {d.event_type for d in made} == {"registration.created"}
    assert {d.org_id for d in made} == {s.org.id}
    jobs = await deliver_jobs(session)
    assert sorted(j["delivery_id"] for j in jobs) == sorted(str(d.id) for d in made)
    assert {(j["attempt"], j["token"]) for j in jobs} == {(1, str(d.job_token)) for d in made}


async def test_a_test_event_goes_to_its_endpoint_only(session: AsyncSession) -> None:
    org = await create_organization(session)
    target = await create_webhook_endpoint(session, org, event_types=["results.published"])
    await create_webhook_endpoint(session, org)
    row = await emit(session, SYSTEM, WebhookTest(endpoint_id=target.id), org_id=org.id)
    await fan_out(session, row.id)
    assert [d.endpoint_id for d in await deliveries(session, row.id)] == [target.id]


async def test_the_body_has_the_standard_shape_with_the_ids(session: AsyncSession) -> None:
    s = await scene(session)
    registration = await create_registration(session, s.event, user=s.organizer)
    row = await emit(
        session,
        SYSTEM,
        RegistrationCreated(
            registration_id=registration.id, user_id=s.organizer.id, status="waitlisted"
        ),
        org_id=s.org.id,
        event_id=s.event.id,
    )
    event = await session.get(OutboxEvent, row.id, populate_existing=True)
    assert event is not None
    document = json.loads(message.body(event))
    assert document == {
        "type": "registration.created",
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": {
            "id": str(row.id),
            "version": 1,
            "org_id": str(s.org.id),
            "event_id": str(s.event.id),
            "registration_id": str(registration.id),
            "user_id": str(s.organizer.id),
            "status": "waitlisted",
        },
    }
    assert message.body(event) == message.body(event)  # every attempt sends the same bytes


async def test_the_log_keeps_thirty_days_and_every_pending_delivery(session: AsyncSession) -> None:
    endpoint = await create_webhook_endpoint(session)
    month_ago = datetime.now(UTC) - timedelta(days=31)
    old_done = await create_webhook_delivery(
        session, endpoint, status=DeliveryStatus.DELIVERED, created_at=month_ago
    )
    await create_webhook_attempt(session, old_done)
    old_failed = await create_webhook_delivery(
        session, endpoint, status=DeliveryStatus.FAILED, created_at=month_ago
    )
    old_pending = await create_webhook_delivery(session, endpoint, created_at=month_ago)
    recent = await create_webhook_delivery(session, endpoint, status=DeliveryStatus.DELIVERED)
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))

    assert await prune(session) == 2
    assert await prune(session) == 0
    left = set(await session.scalars(select(WebhookDelivery.id)))
    assert left == {old_pending.id, recent.id}
    assert old_failed.id not in left
    assert await session.scalar(select(func.count()).select_from(WebhookAttempt)) == 0


async def test_the_openapi_document_describes_every_body_we_send(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    document = (await client.get("/openapi.json")).json()
    assert sorted(document["webhooks"]) == sorted(CATALOG)
    operation = document["webhooks"]["registration.created"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RegistrationCreatedWebhook"
    }
    # What a delivery carries is exactly what the document says (its model forbids extras).
    org = await create_organization(session)
    endpoint = await create_webhook_endpoint(session, org)
    row = await emit(session, SYSTEM, WebhookTest(endpoint_id=endpoint.id), org_id=org.id)
    event = await session.get(OutboxEvent, row.id, populate_existing=True)
    assert event is not None
    sent = envelope(WebhookTest).model_validate_json(message.body(event))
    assert sent.model_dump(mode="json")["data"] == {
        "id": str(row.id),
        "version": 1,
        "org_id": str(org.id),
        "event_id": None,
        "endpoint_id": str(endpoint.id),
    }
