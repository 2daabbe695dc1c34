"""Rows of communication: outbox events, in-app notifications, notification preferences."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import (
    Channel,
    Notification,
    NotificationPreference,
    Organization,
    OutboxEvent,
    User,
)
from hackops.tenancy import set_actor, set_tenant
from tests.factories.accounts import create_user
from tests.factories.orgs import create_organization
from tests.factories.rows import insert, unique


async def create_outbox_event(
    session: AsyncSession, org: Organization | None = None, **overrides: Any
) -> OutboxEvent:
    """An undispatched, unpublished `webhook.test` event of `org` (tenant set to it)."""
    org = org or await create_organization(session)
    await set_tenant(session, org.id)
    endpoint = uuid.uuid4()
    values: dict[str, Any] = {
        "type": "webhook.test",
        "version": 1,
        "org_id": org.id,
        "subject_type": "endpoint",
        "subject_id": endpoint,
        "payload": {"endpoint_id": str(endpoint)},
    }
    values.update(overrides)
    return await insert(session, OutboxEvent, values)


async def create_notification(
    session: AsyncSession, user: User | None = None, **overrides: Any
) -> Notification:
    """An unread in-app notification of `user` (the actor set to them: their own rows)."""
    user = user or await create_user(session)
    await set_actor(session, user.id)
    values: dict[str, Any] = {
        "user_id": user.id,
        "dedupe_key": f"test-{unique(6)}",
        "category": "announcements",
        "title": "Room change: the final pitches are in Hall B",
        "body": "",
        "link": "",
    }
    values.update(overrides)
    return await insert(session, Notification, values)


async def create_notification_preference(
    session: AsyncSession, user: User | None = None, **overrides: Any
) -> NotificationPreference:
    """`user` turned off team activity by email (the actor set to them: their own rows)."""
    user = user or await create_user(session)
    await set_actor(session, user.id)
    values: dict[str, Any] = {
        "user_id": user.id,
        "category": "team",
        "channel": Channel.EMAIL,
        "enabled": False,
    }
    values.update(overrides)
    return await insert(session, NotificationPreference, values)
