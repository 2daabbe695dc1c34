"""Rows of the notification centre: news held for a person's daily digest."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import NotificationDigestItem, User
from hackops.tenancy import set_actor
from tests.factories.accounts import create_user
from tests.factories.rows import insert, unique


async def create_notification_digest_item(
    session: AsyncSession, user: User | None = None, **overrides: Any
) -> NotificationDigestItem:
    """A team-activity item held for `user`'s digest (the actor set to them: their own rows)."""
    user = user or await create_user(session)
    await set_actor(session, user.id)
    values: dict[str, Any] = {
        "user_id": user.id,
        "dedupe_key": f"test-{unique(6)}",
        "category": "team",
        "title": "Grace joined your team Byte Club",
        "body": "",
        "link": "",
    }
    values.update(overrides)
    return await insert(session, NotificationDigestItem, values)
