"""Every write route of an organization's webhooks writes exactly one audit row (see
tests/security/audit.py), and none of them carries the secret."""

from __future__ import annotations

import uuid

import httpx2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.actor import SYSTEM
from hackops.models import WebhookEndpoint
from hackops.outbox.catalog import WebhookTest
from hackops.outbox.service import emit
from hackops.tenancy import set_tenant
from tests.accounts.helpers import bearer
from tests.factories import create_webhook_delivery
from tests.security.audit import AUDITED, WEBHOOKS, Recorder
from tests.webhooks.helpers import crew

ROUTES = {key for key in AUDITED if key[1].startswith(WEBHOOKS)}


async def test_every_webhook_write_writes_exactly_one_audit_row(
    dev_client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    c = await crew(session)
    r = Recorder(dev_client, connection)
    headers = bearer(c.tokens["admin"])
    created = await r.call(
        "POST",
        WEBHOOKS,
        c.base,
        headers=headers,
        json={"url": "http://127.0.0.1:9/hook", "event_types": None},
    )
    secret = created.json()["secret"]
    one = f"{c.base}/{created.json()['id']}"
    template = WEBHOOKS + "/{endpoint_id}"
    await r.call("PATCH", template, one, headers=headers, json={"description": "CRM"})
    rotated = await r.call(
        "POST", template + "/rotate-secret", one + "/rotate-secret", headers=headers
    )
    await r.call("POST", template + "/test", one + "/test", headers=headers)
    await set_tenant(session, c.org.id)
    endpoint = await session.get(WebhookEndpoint, uuid.UUID(created.json()["id"]))
    assert endpoint is not None
    event = await emit(session, SYSTEM, WebhookTest(endpoint_id=endpoint.id), org_id=c.org.id)
    delivery = await create_webhook_delivery(session, endpoint, event)
    await r.call(
        "POST",
        template + "/deliveries/{delivery_id}/redeliver",
        f"{one}/deliveries/{delivery.id}/redeliver",
        headers=headers,
    )
    await r.call("DELETE", template, one, headers=headers)
    assert r.covered == ROUTES
    details = await connection.scalar(
        text("SELECT string_agg(details::text, ' ') FROM audit_log WHERE org_id = :org"),
        {"org": c.org.id},
    )
    for value in (secret, rotated.json()["secret"]):
        assert value not in (details or "")
