"""The webhooks API: admins and owners manage endpoints (the secret shown once, stored sealed),
addresses pass the SSRF guard, every change is audited without the secret, and nobody else —
another organization's admin, a plain member, an organizer — reaches them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import AuditEntry, DeliveryStatus, OutboxEvent, WebhookEndpoint
from hackops.tenancy import forget_tenant, set_tenant
from hackops.webhooks.service import MAX_ENDPOINTS
from hackops.webhooks.signing import open_sealed
from tests.accounts.helpers import bearer
from tests.factories import (
    create_webhook_attempt,
    create_webhook_delivery,
    create_webhook_endpoint,
)
from tests.factories.webhooks import TEST_SECRET_KEY
from tests.helpers import count_queries
from tests.webhooks.helpers import crew

LOCAL = "http://127.0.0.1:9/hook"  # never contacted here: no worker runs in these tests


async def as_platform(session: AsyncSession) -> None:
    forget_tenant(session)
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))


async def stored(session: AsyncSession, endpoint_id: str) -> WebhookEndpoint:
    await as_platform(session)
    found = await session.get(WebhookEndpoint, uuid.UUID(endpoint_id), populate_existing=True)
    assert found is not None
    return found


async def audit_of(session: AsyncSession, endpoint_id: str) -> list[AuditEntry]:
    await as_platform(session)
    rows = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.resource_id == endpoint_id)
        .order_by(AuditEntry.created_at, AuditEntry.id)
    )
    return list(rows)


async def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await crew(session)
    created = await dev_client.post(
        c.base,
        json={
            "url": " HTTP://127.0.0.1:9/hook?token=abc#part ",
            "description": "CRM sync",
            "event_types": ["registration.created", "registration.cancelled"],
        },
        headers=bearer(c.tokens["admin"]),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert body["url"] == "http://127.0.0.1:9/hook?token=abc"
    assert body["event_types"] == ["registration.cancelled", "registration.created"]
    assert (body["enabled"], body["description"]) == (True, "CRM sync")

    listed = await dev_client.get(c.base, headers=bearer(c.tokens["owner"]))
    one = await dev_client.get(f"{c.base}/{body['id']}", headers=bearer(c.tokens["admin"]))
    assert [item["id"] for item in listed.json()] == [body["id"]]
    for answer in (listed, one):
        assert answer.status_code == 200
        assert "secret" not in (answer.json()[0] if answer is listed else answer.json())
        assert secret not in answer.text

    row = await stored(session, body["id"])
    assert secret.encode() not in row.secret_sealed
    assert open_sealed(row.secret_sealed, endpoint_id=row.id, secret_key=TEST_SECRET_KEY) == secret
    (entry,) = await audit_of(session, body["id"])
    assert entry.action == "webhook_endpoint.created"
    assert entry.actor_id == c.users["admin"].id
    assert entry.details == {
        "url": "http://127.0.0.1:9/hook?…",
        "event_types": ["registration.cancelled", "registration.created"],
        "enabled": True,
    }
    assert secret not in json.dumps(entry.details)


async def test_the_address_must_be_https_outside_dev_mode(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await crew(session)
    answer = await client.post(c.base, json={"url": LOCAL}, headers=bearer(c.tokens["admin"]))
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_endpoint_url"
    assert answer.json()["error"]["message"] == (
        "The address must start with https://: webhooks carry your organization's data, so "
        "they are only sent encrypted."
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "https://10.0.0.5/hook",
            "The address points to a private network address (10.0.0.5); webhooks are only sent"
            " to public internet addresses.",
        ),
        (
            "https://169.254.169.254/latest/meta-data",
            "The address points to a cloud metadata service address (169.254.169.254); webhooks"
            " are only sent to public internet addresses.",
        ),
        (
            "https://2130706433/hook",
            "The address points to a loopback address (127.0.0.1); webhooks are only sent to"
            " public internet addresses.",
        ),
        (
            "https://[::ffff:192.168.1.9]/hook",
            "The address points to a private network address (192.168.1.9); webhooks are only"
            " sent to public internet addresses.",
        ),
        (
            "https://no-such-host.invalid/hook",
            "The host name no-such-host.invalid could not be found; check the spelling of the"
            " address.",
        ),
        (
            "ftp://example.com/x",
            "The address must start with https:// (webhooks are sent over the web).",
        ),
        ("https://user:pw@example.com/x", "Addresses must not contain a user name or password."),
    ],
)
async def test_private_and_unusable_addresses_are_refused(
    client: httpx2.AsyncClient, session: AsyncSession, url: str, message: str
) -> None:
    c = await crew(session)
    answer = await client.post(c.base, json={"url": url}, headers=bearer(c.tokens["owner"]))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == {
        "code": "invalid_endpoint_url",
        "message": message,
        "details": None,
    }
    await as_platform(session)
    assert await session.scalar(select(WebhookEndpoint.id)) is None


async def test_a_name_resolving_to_this_machine_needs_the_loopback_allowance(
    client: httpx2.AsyncClient, dev_client: httpx2.AsyncClient, app: object, session: AsyncSession
) -> None:
    c = await crew(session)
    settings = app.state.settings  # type: ignore[attr-defined]
    app.state.settings = settings.model_copy(update={"webhook_allow_loopback": False})  # type: ignore[attr-defined]
    try:
        refused = await dev_client.post(
            c.base, json={"url": "http://localhost:9/hook"}, headers=bearer(c.tokens["owner"])
        )
    finally:
        app.state.settings = settings  # type: ignore[attr-defined]
    assert refused.status_code == 422
    assert refused.json()["error"]["message"].startswith(
        "localhost resolves to a loopback address ("
    )
    allowed = await dev_client.post(
        c.base, json={"url": "http://localhost:9/hook"}, headers=bearer(c.tokens["owner"])
    )
    assert allowed.status_code == 201, allowed.text


@pytest.mark.parametrize(
    ("types", "message"),
    [
        (["nope.never"], "'nope.never' is not an event type an endpoint can subscribe to"),
        (["webhook.test"], "'webhook.test' is not an event type an endpoint can subscribe to"),
        ([], "Choose at least one event type, or send null to receive every type"),
    ],
)
async def test_event_types_are_checked(
    dev_client: httpx2.AsyncClient, session: AsyncSession, types: list[str], message: str
) -> None:
    c = await crew(session)
    answer = await dev_client.post(
        c.base, json={"url": LOCAL, "event_types": types}, headers=bearer(c.tokens["owner"])
    )
    assert answer.status_code == 422
    assert message in answer.text


async def test_the_event_types_are_listed(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await crew(session)
    answer = await dev_client.get(f"{c.base}/event-types", headers=bearer(c.tokens["admin"]))
    types = {item["type"]: item for item in answer.json()}
    assert "webhook.test" not in types
    assert types["registration.created"] == {
        "type": "registration.created",
        "version": 1,
        "category": "registration",
        "summary": "A person registered for an event (seated or on the waitlist).",
    }


async def test_change_turn_off_and_on_rotate_and_delete(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await crew(session)
    headers = bearer(c.tokens["owner"])
    created = (await dev_client.post(c.base, json={"url": LOCAL}, headers=headers)).json()
    first_secret, url = created["secret"], f"{c.base}/{created['id']}"
    assert created["event_types"] is None

    changed = await dev_client.patch(
        url,
        json={"description": "Slack relay", "event_types": ["results.published"]},
        headers=headers,
    )
    assert changed.json()["event_types"] == ["results.published"]
    everything = await dev_client.patch(url, json={"event_types": None}, headers=headers)
    assert everything.json()["event_types"] is None
    assert everything.json()["description"] == "Slack relay"

    refused = await dev_client.patch(url, json={"url": "https://10.1.1.1/"}, headers=headers)
    assert refused.status_code == 422
    assert (await dev_client.get(url, headers=headers)).json()["url"] == LOCAL
    moved = await dev_client.patch(url, json={"url": "http://127.0.0.1:10/new"}, headers=headers)
    assert moved.json()["url"] == "http://127.0.0.1:10/new"

    row = await stored(session, created["id"])
    row.consecutive_failures, row.failing_since = 4, datetime.now(UTC) - timedelta(hours=1)
    await session.flush()
    off = (await dev_client.patch(url, json={"enabled": False}, headers=headers)).json()
    assert off["enabled"] is False
    assert off["disabled_at"] is not None
    on = (await dev_client.patch(url, json={"enabled": True}, headers=headers)).json()
    assert (on["enabled"], on["disabled_at"], on["disabled_reason"]) == (True, None, "")
    assert (on["consecutive_failures"], on["failing_since"]) == (0, None)

    rotated = await dev_client.post(f"{url}/rotate-secret", headers=headers)
    assert rotated.status_code == 200, rotated.text
    second_secret = rotated.json()["secret"]
    assert second_secret.startswith("whsec_")
    assert second_secret != first_secret
    until = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
    assert timedelta(hours=23, minutes=59) < until - datetime.now(UTC) <= timedelta(hours=24)
    row = await stored(session, created["id"])
    assert row.previous_secret_sealed is not None
    opened = open_sealed(row.previous_secret_sealed, endpoint_id=row.id, secret_key=TEST_SECRET_KEY)
    assert opened == first_secret
    assert open_sealed(row.secret_sealed, endpoint_id=row.id, secret_key=TEST_SECRET_KEY) == (
        second_secret
    )
    now_only = await dev_client.post(
        f"{url}/rotate-secret", json={"overlap_hours": 0}, headers=headers
    )
    assert now_only.json()["previous_secret_expires_at"] is None
    assert (await stored(session, created["id"])).previous_secret_sealed is None

    actions = [e.action for e in await audit_of(session, created["id"])]
    assert actions == [
        "webhook_endpoint.created",
        "webhook_endpoint.updated",
        "webhook_endpoint.updated",
        "webhook_endpoint.updated",
        "webhook_endpoint.disabled",
        "webhook_endpoint.enabled",
        "webhook_endpoint.secret_rotated",
        "webhook_endpoint.secret_rotated",
    ]
    logged = json.dumps([e.details for e in await audit_of(session, created["id"])])
    for secret in (first_secret, second_secret, now_only.json()["secret"]):
        assert secret not in logged

    assert (await dev_client.delete(url, headers=headers)).status_code == 204
    gone = await dev_client.get(url, headers=headers)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "webhook_endpoint_not_found"
    assert (await audit_of(session, created["id"]))[-1].action == "webhook_endpoint.deleted"


async def test_only_this_organizations_admins_and_owners_reach_its_webhooks(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    ours, theirs = await crew(session), await crew(session)
    endpoint = await create_webhook_endpoint(session, ours.org)
    delivery = await create_webhook_delivery(session, endpoint)
    path = f"{ours.base}/{endpoint.id}"
    # Their admin, through their own organization's address or through ours: nothing exists.
    for base in (theirs.base, ours.base):
        other = f"{base}/{endpoint.id}"
        who = bearer(theirs.tokens["admin"])
        calls = [
            dev_client.get(other, headers=who),
            dev_client.patch(other, json={"enabled": False}, headers=who),
            dev_client.delete(other, headers=who),
            dev_client.post(f"{other}/rotate-secret", headers=who),
            dev_client.post(f"{other}/test", headers=who),
            dev_client.get(f"{other}/deliveries", headers=who),
            dev_client.get(f"{other}/deliveries/{delivery.id}", headers=who),
            dev_client.post(f"{other}/deliveries/{delivery.id}/redeliver", headers=who),
        ]
        for call in calls:
            answer = await call
            assert answer.status_code == 404, answer.text
    # A plain member and an organizer of ours: not allowed; an outsider: nothing exists.
    for role, status in (("member", 403), ("organizer", 403), ("outsider", 404)):
        who = bearer(ours.tokens[role])
        for answer in (
            await dev_client.get(ours.base, headers=who),
            await dev_client.post(ours.base, json={"url": LOCAL}, headers=who),
            await dev_client.get(path, headers=who),
            await dev_client.post(f"{path}/deliveries/{delivery.id}/redeliver", headers=who),
        ):
            assert answer.status_code == status, (role, answer.text)
    assert (await dev_client.get(ours.base)).status_code == 401
    # The endpoint is as it was.
    assert (await dev_client.get(path, headers=bearer(ours.tokens["admin"]))).json()["enabled"]


async def test_a_test_event_and_a_redelivery_are_queued(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await crew(session)
    endpoint = await create_webhook_endpoint(session, c.org, url=LOCAL)
    path, headers = f"{c.base}/{endpoint.id}", bearer(c.tokens["admin"])

    sent = await dev_client.post(f"{path}/test", headers=headers)
    assert sent.status_code == 202, sent.text
    await as_platform(session)
    event = await session.get(OutboxEvent, uuid.UUID(sent.json()["event_id"]))
    assert event is not None
    assert (event.type, event.org_id, event.payload) == (
        "webhook.test",
        c.org.id,
        {"endpoint_id": str(endpoint.id)},
    )

    delivery = await create_webhook_delivery(
        session, endpoint, status=DeliveryStatus.FAILED, attempts=25
    )
    again = await dev_client.post(f"{path}/deliveries/{delivery.id}/redeliver", headers=headers)
    assert again.status_code == 202, again.text
    jobs = await session.execute(
        text("SELECT args FROM procrastinate_jobs WHERE task_name = 'webhooks.deliver'")
    )
    assert [row.args for row in jobs] == [{"delivery_id": str(delivery.id), "manual": True}]
    missing = await dev_client.post(f"{path}/deliveries/{uuid.uuid4()}/redeliver", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "webhook_delivery_not_found"

    await dev_client.patch(path, json={"enabled": False}, headers=headers)
    for answer in (
        await dev_client.post(f"{path}/test", headers=headers),
        await dev_client.post(f"{path}/deliveries/{delivery.id}/redeliver", headers=headers),
    ):
        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "webhook_endpoint_disabled"
        assert "turn it on" in answer.json()["error"]["message"]


async def test_the_delivery_log_pages_newest_first_with_every_attempt(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await crew(session)
    endpoint = await create_webhook_endpoint(session, c.org)
    made = [await create_webhook_delivery(session, endpoint) for _ in range(5)]
    await set_tenant(session, c.org.id)
    made[1].status = DeliveryStatus.DELIVERED
    await create_webhook_attempt(session, made[0], status_code=500)
    await create_webhook_attempt(
        session, made[0], status_code=200, succeeded=True, error="", response_excerpt="ok"
    )
    path, headers = f"{c.base}/{endpoint.id}", bearer(c.tokens["owner"])

    first = (await dev_client.get(f"{path}/deliveries?limit=3", headers=headers)).json()
    second = (
        await dev_client.get(
            f"{path}/deliveries?limit=3&cursor={first['next_cursor']}", headers=headers
        )
    ).json()
    newest_first = [str(d.id) for d in reversed(made)]
    assert [d["id"] for d in first["items"]] + [d["id"] for d in second["items"]] == newest_first
    assert second["next_cursor"] is None
    delivered = (
        await dev_client.get(f"{path}/deliveries?status=delivered", headers=headers)
    ).json()
    assert [d["id"] for d in delivered["items"]] == [str(made[1].id)]
    bad = await dev_client.get(f"{path}/deliveries?cursor=nonsense", headers=headers)
    assert bad.status_code == 422

    detail = (await dev_client.get(f"{path}/deliveries/{made[0].id}", headers=headers)).json()
    assert detail["attempts"] == 2
    assert [(a["number"], a["status_code"], a["succeeded"]) for a in detail["log"]] == [
        (1, 500, False),
        (2, 200, True),
    ]
    assert detail["log"][1]["response_excerpt"] == "ok"


async def test_lists_cost_the_same_queries_for_one_item_as_for_twenty(
    dev_client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    c = await crew(session)
    headers = bearer(c.tokens["owner"])
    endpoints = [await create_webhook_endpoint(session, c.org)]
    with count_queries(connection) as one:
        assert len((await dev_client.get(c.base, headers=headers)).json()) == 1
    for _ in range(19):
        forget_tenant(session)
        endpoints.append(await create_webhook_endpoint(session, c.org))
    with count_queries(connection) as twenty:
        assert len((await dev_client.get(c.base, headers=headers)).json()) == 20
    assert twenty.count == one.count

    url = f"{c.base}/{endpoints[0].id}/deliveries"
    forget_tenant(session)
    await create_webhook_delivery(session, endpoints[0])
    with count_queries(connection) as one:
        assert len((await dev_client.get(url, headers=headers)).json()["items"]) == 1
    for _ in range(19):
        forget_tenant(session)
        await create_webhook_delivery(session, endpoints[0])
    with count_queries(connection) as twenty:
        assert len((await dev_client.get(url, headers=headers)).json()["items"]) == 20
    assert twenty.count == one.count


async def test_an_organization_has_at_most_twenty_endpoints(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await crew(session)
    for _ in range(MAX_ENDPOINTS):
        await create_webhook_endpoint(session, c.org)
    answer = await dev_client.post(c.base, json={"url": LOCAL}, headers=bearer(c.tokens["owner"]))
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "too_many_webhook_endpoints"
