"""Rows of outbound webhooks: endpoints, deliveries and the attempts of the delivery log."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import (
    Organization,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    new_id,
)
from hackops.tenancy import set_tenant
from hackops.webhooks.signing import new_secret, seal
from tests.factories.orgs import create_organization
from tests.factories.outbox import create_outbox_event
from tests.factories.rows import insert, unique

#: The tests' SECRET_KEY (`tests.conftest.make_settings`): secrets sealed here open in the app.
TEST_SECRET_KEY = "test-" + "s" * 40


async def create_webhook_endpoint(
    session: AsyncSession,
    org: Organization | None = None,
    *,
    secret: str | None = None,
    **overrides: Any,
) -> WebhookEndpoint:
    """An enabled endpoint of `org` for every event type (tenant set to it); its secret is
    `secret` (a new one when not given), sealed with the tests' SECRET_KEY."""
    org = org or await create_organization(session)
    await set_tenant(session, org.id)
    endpoint_id = overrides.pop("id", None) or new_id()
    values: dict[str, Any] = {
        "id": endpoint_id,
        "org_id": org.id,
        "url": f"https://hooks-{unique(4)}.example.com/hackops",
        "secret_sealed": seal(
            secret or new_secret(), endpoint_id=endpoint_id, secret_key=TEST_SECRET_KEY
        ),
    }
    values.update(overrides)
    return await insert(session, WebhookEndpoint, values)


async def create_webhook_delivery(
    session: AsyncSession,
    endpoint: WebhookEndpoint | None = None,
    event: OutboxEvent | None = None,
    **overrides: Any,
) -> WebhookDelivery:
    """A pending delivery of an outbox event of the endpoint's organization."""
    endpoint = endpoint or await create_webhook_endpoint(session)
    await set_tenant(session, endpoint.org_id)
    org = await session.get(Organization, endpoint.org_id)
    event = event or await create_outbox_event(session, org)
    values: dict[str, Any] = {
        "org_id": endpoint.org_id,
        "endpoint_id": endpoint.id,
        "outbox_event_id": event.id,
        "event_type": event.type,
    }
    values.update(overrides)
    return await insert(session, WebhookDelivery, values)


async def create_webhook_attempt(
    session: AsyncSession, delivery: WebhookDelivery | None = None, **overrides: Any
) -> WebhookAttempt:
    """A failed first attempt (HTTP 500) of `delivery`."""
    delivery = delivery or await create_webhook_delivery(session)
    await set_tenant(session, delivery.org_id)
    delivery.attempts += 1
    values: dict[str, Any] = {
        "org_id": delivery.org_id,
        "delivery_id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "number": delivery.attempts,
        "status_code": 500,
        "latency_ms": 12,
        "response_excerpt": "Internal Server Error",
        "error": "The endpoint answered HTTP 500 Internal Server Error.",
    }
    values.update(overrides)
    return await insert(session, WebhookAttempt, values)
