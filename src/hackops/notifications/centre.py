"""The in-app notification centre: a person's own notifications, newest first.

Every query names the person (`user_id = me`) as well as running under row-level security with
them as the actor: a platform administrator's transactions see every row, and must still list
only their own. Pages are keyset-paginated on (created_at, id) — `ix_notifications_user_recent`
— with an opaque cursor, so a page never repeats or skips a notification when new ones arrive
meanwhile. The header's badge is `unread_count` (one scan of `ix_notifications_unread`, capped).

Marking read tells the person's other open pages (`push.announce`), so their badges follow.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import NotFound, ValidationFailed
from hackops.models import Notification, User
from hackops.notifications.push import announce

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
#: The badge counts this far at most ("99+"): its cost stays bounded for anyone.
BADGE_CAP = 100


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    message = "There is no such notification among yours."


class BadCursor(ValidationFailed):
    code = "invalid_cursor"
    message = "The pagination cursor is not valid; start again without it."


def encode_cursor(created_at: datetime, ident: uuid.UUID) -> str:
    """The opaque position of one notification in a person's list."""
    raw = f"{created_at.isoformat()}|{ident}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, _, ident = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None:
            raise ValueError("a cursor's time has its offset")
        return moment, uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor from exc


def cursor_of(notification: Notification) -> str:
    return encode_cursor(notification.created_at, notification.id)


@dataclass(frozen=True)
class Page:
    items: list[Notification]
    #: The cursor of the next (older) page; None on the last page.
    next_cursor: str | None


async def list_mine(
    session: AsyncSession,
    user: User,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    unread_only: bool = False,
) -> Page:
    """The person's notifications, newest first, `limit` (1..100) after `cursor`."""
    limit = max(1, min(limit, MAX_LIMIT))
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if cursor:
        created, ident = decode_cursor(cursor)
        query = query.where(tuple_(Notification.created_at, Notification.id) < (created, ident))
    rows = list(
        await session.scalars(
            query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1)
        )
    )
    next_cursor = cursor_of(rows[limit - 1]) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor)


async def unread_count(session: AsyncSession, user_id: uuid.UUID, *, cap: int | None = None) -> int:
    """How many of the person's notifications are unread (`cap` at most). One count on the
    partial index `ix_notifications_unread` (unread rows only); the cap is applied here, not by
    a LIMIT, which can tempt the planner into a sequential scan."""
    count = int(
        await session.scalar(
            select(func.count()).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )
    return count if cap is None else min(count, cap)


async def mark_read(
    session: AsyncSession, actor: Actor, user: User, notification_id: uuid.UUID
) -> Notification:
    """Mark one of the person's notifications read (already read: unchanged)."""
    row = await session.scalar(
        select(Notification)
        .where(Notification.id == notification_id, Notification.user_id == user.id)
        .with_for_update()
    )
    if row is None:
        raise NotificationNotFound
    if row.read_at is None:
        row.read_at = await db_now(session)
        await record(
            session, actor, "notification.read", resource_type="notification", resource_id=row.id
        )
        await announce(session, [user.id])
    return row


async def mark_all_read(
    session: AsyncSession, actor: Actor, user: User, *, up_to: str | None = None
) -> int:
    """Mark read every unread notification of the person — or, with `up_to` (a notification's
    cursor), that one and every older one: a page marks what it showed, not what arrived since.
    Returns how many were marked."""
    condition = [Notification.user_id == user.id, Notification.read_at.is_(None)]
    if up_to:
        created, ident = decode_cursor(up_to)
        condition.append(tuple_(Notification.created_at, Notification.id) <= (created, ident))
    result = await session.execute(
        update(Notification)
        .where(*condition)
        .values(read_at=func.app_now())
        .execution_options(synchronize_session=False)
    )
    marked = int(cast(CursorResult[Any], result).rowcount or 0)
    if marked:
        await record(
            session,
            actor,
            "notifications.read_all",
            resource_type="user",
            resource_id=user.id,
            details={"marked": marked},
        )
        await announce(session, [user.id])
    return marked
