"""An organization's webhook endpoints: create, change, turn on and off, rotate the secret,
delete, send a test event, read the delivery log and redeliver.

Only the organization's admins and owners manage webhooks (`require_admin`, also enforced by
the routes' dependencies); an endpoint or delivery of another organization is a 404. Every
change of an endpoint is audited (`webhook_endpoint.*`), never with the secret, and with the
address shown without its query (which may carry a token of the receiver's). The secret is
returned by `create_endpoint` and `rotate_secret` once and stored sealed (`signing.py`).
The address given here is already normalised and checked for public addresses by the caller
(`urls.check_public`, run with no database connection held).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.audit.service import decode_cursor, record
from hackops.db import db_now
from hackops.errors import Conflict, NotFound
from hackops.jobs import enqueue
from hackops.models import (
    DeliveryStatus,
    Organization,
    OrgRole,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    new_id,
)
from hackops.orgs.access import OrgAccess
from hackops.orgs.service import InsufficientRole, rank
from hackops.outbox.catalog import WebhookTest
from hackops.outbox.service import emit
from hackops.webhooks.schemas import EndpointIn, EndpointUpdate
from hackops.webhooks.signing import new_secret, seal
from hackops.webhooks.tasks import QUEUE, deliver
from hackops.webhooks.urls import display_url

MAX_ENDPOINTS = 20


class EndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"
    message = "No such webhook endpoint in this organization."


class DeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"
    message = "No such delivery of this webhook endpoint."


class TooManyEndpoints(Conflict):
    code = "too_many_webhook_endpoints"
    message = (
        f"An organization can have at most {MAX_ENDPOINTS} webhook endpoints; delete one you no "
        "longer use first."
    )


class EndpointDisabled(Conflict):
    code = "webhook_endpoint_disabled"
    message = "The endpoint is turned off; turn it on first."


def require_admin(access: OrgAccess) -> None:
    if rank(access.role) < rank(OrgRole.ADMIN):
        raise InsufficientRole("Only the organization's admins and owners manage webhooks.")


def _types_text(types: Sequence[str] | None) -> str | list[str]:
    return "all" if types is None else list(types)


async def list_endpoints(session: AsyncSession, access: OrgAccess) -> list[WebhookEndpoint]:
    require_admin(access)
    rows = await session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.org_id == access.org.id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return list(rows)


async def get_endpoint(
    session: AsyncSession, access: OrgAccess, endpoint_id: uuid.UUID
) -> WebhookEndpoint:
    require_admin(access)
    endpoint = await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.org_id == access.org.id
        )
    )
    if endpoint is None:
        raise EndpointNotFound
    return endpoint


async def create_endpoint(
    session: AsyncSession, access: OrgAccess, body: EndpointIn, *, url: str, secret_key: str
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint at the checked `url`; returns it with its secret (shown once)."""
    require_admin(access)
    # The organization's row serializes creations, so the count below holds.
    await session.execute(
        select(Organization.id).where(Organization.id == access.org.id).with_for_update()
    )
    count = await session.scalar(
        select(func.count())
        .select_from(WebhookEndpoint)
        .where(WebhookEndpoint.org_id == access.org.id)
    )
    if (count or 0) >= MAX_ENDPOINTS:
        raise TooManyEndpoints
    secret = new_secret()
    endpoint_id = new_id()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        org_id=access.org.id,
        url=url,
        description=body.description,
        event_types=body.event_types,
        enabled=body.enabled,
        secret_sealed=seal(secret, endpoint_id=endpoint_id, secret_key=secret_key),
        created_by_id=access.actor.user.id if access.actor.user is not None else None,
    )
    if not body.enabled:
        endpoint.disabled_at = await db_now(session)
    session.add(endpoint)
    await session.flush()
    await session.refresh(endpoint)
    await record(
        session,
        access.actor,
        "webhook_endpoint.created",
        resource_type="webhook_endpoint",
        resource_id=endpoint.id,
        org_id=access.org.id,
        details={
            "url": display_url(url),
            "event_types": _types_text(body.event_types),
            "enabled": body.enabled,
        },
    )
    return endpoint, secret


async def update_endpoint(
    session: AsyncSession,
    access: OrgAccess,
    endpoint: WebhookEndpoint,
    body: EndpointUpdate,
    *,
    url: str | None = None,
) -> WebhookEndpoint:
    """Apply the sent fields (`url` is the checked form of `body.url`). Turning an endpoint on
    clears its failure streak; turning it off keeps pending deliveries from being sent."""
    require_admin(access)
    changes = body.changes()
    details: dict[str, Any] = {}
    if "url" in changes and url is not None and url != endpoint.url:
        endpoint.url = url
        details["url"] = display_url(url)
    if "description" in changes and changes["description"] != endpoint.description:
        endpoint.description = changes["description"]
        details["description"] = changes["description"]
    if "event_types" in changes and changes["event_types"] != endpoint.event_types:
        endpoint.event_types = changes["event_types"]
        details["event_types"] = _types_text(changes["event_types"])
    action = "webhook_endpoint.updated"
    if "enabled" in changes and changes["enabled"] != endpoint.enabled:
        endpoint.enabled = changes["enabled"]
        if endpoint.enabled:
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
            endpoint.consecutive_failures = 0
            endpoint.failing_since = None
            action = "webhook_endpoint.enabled"
        else:
            endpoint.disabled_at = await db_now(session)
            endpoint.disabled_reason = ""
            action = "webhook_endpoint.disabled"
        details["enabled"] = endpoint.enabled
    if not details:
        return endpoint
    await session.flush()
    await session.refresh(endpoint)
    await record(
        session,
        access.actor,
        action,
        resource_type="webhook_endpoint",
        resource_id=endpoint.id,
        org_id=access.org.id,
        details=details,
    )
    return endpoint


async def delete_endpoint(
    session: AsyncSession, access: OrgAccess, endpoint: WebhookEndpoint
) -> None:
    """Delete the endpoint with its deliveries and their log."""
    require_admin(access)
    await record(
        session,
        access.actor,
        "webhook_endpoint.deleted",
        resource_type="webhook_endpoint",
        resource_id=endpoint.id,
        org_id=access.org.id,
        details={"url": display_url(endpoint.url)},
    )
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(
    session: AsyncSession,
    access: OrgAccess,
    endpoint: WebhookEndpoint,
    *,
    overlap: timedelta,
    secret_key: str,
) -> tuple[WebhookEndpoint, str]:
    """A new secret (returned once); the one it replaces keeps signing beside it for `overlap`
    (a secret replaced earlier stops now)."""
    require_admin(access)
    locked = await session.scalar(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise EndpointNotFound
    secret = new_secret()
    now = await db_now(session)
    if overlap > timedelta(0):
        locked.previous_secret_sealed = locked.secret_sealed
        locked.previous_secret_expires_at = now + overlap
    else:
        locked.previous_secret_sealed = None
        locked.previous_secret_expires_at = None
    locked.secret_sealed = seal(secret, endpoint_id=locked.id, secret_key=secret_key)
    await session.flush()
    await session.refresh(locked)
    await record(
        session,
        access.actor,
        "webhook_endpoint.secret_rotated",
        resource_type="webhook_endpoint",
        resource_id=locked.id,
        org_id=access.org.id,
        details={"overlap_hours": round(overlap.total_seconds() / 3600, 2)},
    )
    return locked, secret


async def send_test(
    session: AsyncSession, access: OrgAccess, endpoint: WebhookEndpoint
) -> OutboxEvent:
    """Emit a `webhook.test` event that goes to this endpoint only."""
    require_admin(access)
    if not endpoint.enabled:
        raise EndpointDisabled("The endpoint is turned off; turn it on to send it a test event.")
    event = await emit(
        session, access.actor, WebhookTest(endpoint_id=endpoint.id), org_id=access.org.id
    )
    await record(
        session,
        access.actor,
        "webhook_endpoint.test_sent",
        resource_type="webhook_endpoint",
        resource_id=endpoint.id,
        org_id=access.org.id,
        details={"event_id": str(event.id)},
    )
    return event


def _cursor(delivery: WebhookDelivery) -> str:
    raw = f"{delivery.created_at.isoformat()}|{delivery.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def list_deliveries(
    session: AsyncSession,
    access: OrgAccess,
    endpoint: WebhookEndpoint,
    *,
    status: DeliveryStatus | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[WebhookDelivery], str | None]:
    """The endpoint's deliveries, newest first, a page at a time (keyset)."""
    require_admin(access)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if cursor:
        created, ident = decode_cursor(cursor)
        query = query.where(
            tuple_(WebhookDelivery.created_at, WebhookDelivery.id) < tuple_(created, ident)
        )
    rows = list(
        await session.scalars(
            query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(
                limit + 1
            )
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, _cursor(rows[-1]) if more and rows else None


async def get_delivery(
    session: AsyncSession, access: OrgAccess, endpoint: WebhookEndpoint, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    """A delivery of the endpoint and its log, first attempt first."""
    require_admin(access)
    delivery = await session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id
        )
    )
    if delivery is None:
        raise DeliveryNotFound
    log = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery.id)
        .order_by(WebhookAttempt.number)
    )
    return delivery, list(log)


async def redeliver(
    session: AsyncSession, access: OrgAccess, endpoint: WebhookEndpoint, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Queue one attempt of the delivery now (its automatic schedule, if any, continues)."""
    require_admin(access)
    delivery, _ = await get_delivery(session, access, endpoint, delivery_id)
    if not endpoint.enabled:
        raise EndpointDisabled("The endpoint is turned off; turn it on to redeliver to it.")
    await enqueue(session, deliver, queue=QUEUE, delivery_id=str(delivery.id), manual=True)
    await record(
        session,
        access.actor,
        "webhook_delivery.redelivered",
        resource_type="webhook_endpoint",
        resource_id=endpoint.id,
        org_id=access.org.id,
        details={"delivery_id": str(delivery.id), "event_type": delivery.event_type},
    )
    return delivery


async def last_attempts(
    session: AsyncSession, access: OrgAccess, deliveries: Sequence[WebhookDelivery]
) -> dict[uuid.UUID, WebhookAttempt]:
    """The latest attempt of each delivery (one query, whatever their number)."""
    require_admin(access)
    if not deliveries:
        return {}
    rows = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_([d.id for d in deliveries]))
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number.desc())
        .ext(distinct_on(WebhookAttempt.delivery_id))
    )
    return {row.delivery_id: row for row in rows}
