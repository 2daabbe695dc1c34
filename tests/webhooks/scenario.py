"""Committed scenes for the delivery tests (a real worker, a real receiver): an organization
with an owner and an admin, an endpoint at the receiver, events emitted through the outbox, and
the state of the endpoint, its deliveries and their log read back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text

from hackops.actor import SYSTEM, Actor
from hackops.db import Database
from hackops.models import (
    Organization,
    OrgRole,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from hackops.orgs.access import OrgAccess
from hackops.outbox.catalog import WebhookTest
from hackops.outbox.service import emit
from hackops.tenancy import set_actor, set_tenant
from tests.factories import create_membership, create_organization, create_user
from tests.factories.webhooks import create_webhook_endpoint


@dataclass
class Scene:
    org: Organization
    owner: User
    admin: User
    endpoint_id: uuid.UUID

    def owner_access(self) -> OrgAccess:
        return OrgAccess(org=self.org, role=OrgRole.OWNER, actor=Actor(user=self.owner))


async def scene(database: Database, url: str, **endpoint: Any) -> Scene:
    async with database.transaction() as session:
        org = await create_organization(session)
        verified = datetime.now(UTC)
        owner = await create_user(session, email_verified_at=verified)
        admin = await create_user(session, email_verified_at=verified)
        await create_membership(session, org, owner, role="owner")
        await create_membership(session, org, admin, role="admin")
        made = await create_webhook_endpoint(session, org, url=url, **endpoint)
        return Scene(org, owner, admin, made.id)


async def send_test_event(database: Database, scene: Scene) -> uuid.UUID:
    """A `webhook.test` event for the scene's endpoint, through the outbox (dispatch job)."""
    async with database.transaction() as session:
        await set_tenant(session, scene.org.id)
        row = await emit(
            session, SYSTEM, WebhookTest(endpoint_id=scene.endpoint_id), org_id=scene.org.id
        )
        return row.id


@dataclass
class State:
    endpoint: WebhookEndpoint
    deliveries: list[WebhookDelivery]
    log: list[WebhookAttempt]


async def state(database: Database, endpoint_id: uuid.UUID) -> State:
    """The endpoint, its deliveries and its attempt log. The log is read first: each statement
    sees what was committed when it began, so the endpoint and deliveries read after it show at
    least what the attempts in the log wrote (an attempt, its delivery and the endpoint's streak
    commit together)."""
    async with database.transaction() as session:
        await set_actor(session, None, platform_admin=True)
        log = list(
            await session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.endpoint_id == endpoint_id)
                .order_by(WebhookAttempt.started_at, WebhookAttempt.number)
            )
        )
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        deliveries = await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.created_at)
        )
        return State(endpoint, list(deliveries), log)


async def waiting_retry(database: Database) -> datetime | None:
    """When the waiting (scheduled) attempt job is due, if there is one."""
    async with database.engine.connect() as conn:
        return await conn.scalar(
            text(
                "SELECT scheduled_at FROM procrastinate_jobs WHERE task_name = 'webhooks.deliver'"
                " AND status = 'todo' AND scheduled_at IS NOT NULL ORDER BY id DESC LIMIT 1"
            )
        )


async def bring_forward(database: Database) -> None:
    """Make the waiting retries due now (the schedule itself is checked by the caller)."""
    async with database.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE procrastinate_jobs SET scheduled_at = now()"
                " WHERE task_name = 'webhooks.deliver' AND status = 'todo'"
            )
        )


async def set_endpoint(database: Database, endpoint_id: uuid.UUID, **values: Any) -> None:
    async with database.transaction() as session:
        await set_actor(session, None, platform_admin=True)
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
        assert endpoint is not None
        for key, value in values.items():
            setattr(endpoint, key, value)


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)
