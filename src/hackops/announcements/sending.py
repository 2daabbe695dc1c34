"""An announcement going out: one guarded state change, then its `announcement.sent` event.

Each transition is a single `UPDATE … WHERE id = … AND status = <from> RETURNING id`: two
requests, two jobs, or a job and the sweep racing on one announcement serialize on its row, and
only the first finds it in the state it expects; the others change nothing and emit nothing.
The `announcement.sent` event is written in the same transaction (`outbox.emit`), so an
announcement is sent exactly when its event exists, and the people channel (the rule in
`announcements.rules`) tells each recipient once, keyed by that event's id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import SYSTEM, Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.models import Announcement, AnnouncementStatus, User
from hackops.outbox.catalog import AnnouncementSent
from hackops.outbox.service import emit
from hackops.tenancy import set_tenant

log = structlog.get_logger("hackops.announcements")


async def transition(
    session: AsyncSession,
    announcement_id: uuid.UUID,
    expected: AnnouncementStatus,
    *conditions: Any,
    **values: Any,
) -> bool:
    """Move the announcement from `expected` (and `conditions`) to `values`; False when another
    transaction moved it first (or it never was in that state)."""
    changed = await session.scalar(
        update(Announcement)
        .where(Announcement.id == announcement_id, Announcement.status == expected, *conditions)
        .values(**values)
        .returning(Announcement.id)
        .execution_options(synchronize_session=False)
    )
    return changed is not None


async def announce(session: AsyncSession, actor: Actor, announcement: Announcement) -> None:
    """Emit the `announcement.sent` event of an announcement just marked sent, and keep its id
    (the key of every notification and mail it causes)."""
    row = await emit(
        session,
        actor,
        AnnouncementSent(
            announcement_id=announcement.id,
            audience=announcement.audience.value,
            channels=list(announcement.channels),
        ),
        org_id=announcement.org_id,
        event_id=announcement.event_id,
    )
    await session.execute(
        update(Announcement)
        .where(Announcement.id == announcement.id)
        .values(outbox_event_id=row.id)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(announcement)


def audit_details(announcement: Announcement) -> dict[str, Any]:
    return {
        "title": announcement.title,
        "status": announcement.status.value,
        "audience": announcement.audience.value,
        "track_id": str(announcement.track_id) if announcement.track_id else None,
        "channels": list(announcement.channels),
        "send_at": announcement.send_at.isoformat() if announcement.send_at else None,
    }


async def send_due(session: AsyncSession, announcement_id: uuid.UUID) -> bool:
    """Send a scheduled announcement whose time has come (the database clock): the job queued
    for its time and the minute sweep both call this; only one of them sends it."""
    now: datetime = await db_now(session)
    sent = await transition(
        session,
        announcement_id,
        AnnouncementStatus.SCHEDULED,
        Announcement.send_at <= now,
        status=AnnouncementStatus.SENT,
        sent_at=now,
    )
    if not sent:
        return False
    announcement = await session.scalar(
        select(Announcement)
        .where(Announcement.id == announcement_id)
        .execution_options(populate_existing=True)
    )
    assert announcement is not None
    await set_tenant(session, announcement.org_id)
    author = (
        await session.get(User, announcement.created_by_id) if announcement.created_by_id else None
    )
    actor = Actor(user=author, user_agent="scheduled") if author is not None else SYSTEM
    await announce(session, actor, announcement)
    await record(
        session,
        SYSTEM,
        "announcement.sent",
        resource_type="announcement",
        resource_id=announcement.id,
        org_id=announcement.org_id,
        details={**audit_details(announcement), "scheduled": True},
    )
    log.info("announcement_sent", announcement_id=str(announcement_id), scheduled=True)
    return True
