"""Organizer announcements: write one (a draft), send it now, schedule it, cancel it.

Life cycle (`AnnouncementStatus`), each step one guarded UPDATE (`sending.transition`) that
checks, writes, audits and emits:
- draft → sent (`send_now`): marked sent and its `announcement.sent` event written in the same
  transaction; the outbox's dispatcher resolves the audience and tells people;
- draft → scheduled (`schedule`): a job is queued for `send_at` (and the minute sweep is the
  safety net); at its time it becomes sent the same way (`sending.send_due`);
- scheduled → cancelled (`cancel`): refused once it went out.
Sending or scheduling spends the organization's burst budget and a place in its plan's cap
(`limits`). Drafts can be edited (`update_draft`); nothing else changes once it left draft.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import jobs
from hackops.announcements import content, limits, sending, tasks
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import Conflict, NotFound, ValidationFailed
from hackops.events.access import EventAccess
from hackops.models import Announcement, AnnouncementStatus, Audience, Event, Track
from hackops.ratelimit import Limiter

#: How far ahead an announcement can be scheduled.
LONGEST_SCHEDULE = timedelta(days=366)
Deliver = Literal["draft", "now", "at"]


class AnnouncementNotFound(NotFound):
    code = "announcement_not_found"
    message = "No such announcement."


class NotADraft(Conflict):
    code = "announcement_not_draft"
    message = "Only a draft can be changed, sent or scheduled."


class NotScheduled(Conflict):
    code = "announcement_not_scheduled"
    message = "Only a scheduled announcement can be cancelled."


class UnknownTrack(ValidationFailed):
    code = "unknown_track"
    message = "That track is not one of this event's tracks; choose one of its tracks."


class InvalidSendTime(ValidationFailed):
    code = "invalid_send_at"
    message = "Choose a time to send in the future."


@dataclass(frozen=True)
class Draft:
    """What the organizer wrote, checked by the input model (`schemas.AnnouncementIn`)."""

    title: str
    body: str
    audience: Audience
    track_id: uuid.UUID | None
    channels: list[str]


async def check_track(session: AsyncSession, event: Event, draft: Draft) -> None:
    if draft.track_id is None:
        return
    found = await session.scalar(
        select(Track.id).where(Track.id == draft.track_id, Track.event_id == event.id)
    )
    if found is None:
        raise UnknownTrack(details=[{"field": "track_id", "message": UnknownTrack.message}])


async def send_time(session: AsyncSession, event: Event, value: datetime) -> datetime:
    """`value` as an instant (a naive value is the event's wall clock), in the future."""
    try:
        moment = content.local_moment(value, event.timezone)
    except ValueError as exc:
        message = str(exc)
        raise InvalidSendTime(message, details=[{"field": "send_at", "message": message}]) from None
    now = await db_now(session)
    shown = content.with_offset(moment, event.timezone)
    if moment <= now:
        message = (
            f"{shown} has already passed in {event.timezone}; choose a later time, or send now."
        )
        raise InvalidSendTime(message, details=[{"field": "send_at", "message": message}])
    if moment > now + LONGEST_SCHEDULE:
        message = "An announcement can be scheduled at most a year ahead."
        raise InvalidSendTime(message, details=[{"field": "send_at", "message": message}])
    return moment


async def get(session: AsyncSession, event: Event, announcement_id: uuid.UUID) -> Announcement:
    found = await session.scalar(
        select(Announcement).where(
            Announcement.id == announcement_id, Announcement.event_id == event.id
        )
    )
    if found is None:
        raise AnnouncementNotFound
    return found


async def create(
    session: AsyncSession,
    access: EventAccess,
    limiter: Limiter,
    draft: Draft,
    *,
    deliver: Deliver = "draft",
    send_at: datetime | None = None,
) -> Announcement:
    """A new announcement: kept as a draft, sent now, or scheduled for `send_at`."""
    event = access.event
    await check_track(session, event, draft)
    moment = await send_time(session, event, send_at) if deliver == "at" and send_at else None
    announcement = Announcement(
        org_id=event.org_id,
        event_id=event.id,
        title=draft.title,
        body=draft.body,
        body_html=content.render(draft.body),
        audience=draft.audience,
        track_id=draft.track_id,
        channels=list(draft.channels),
        created_by_id=access.actor.user.id if access.actor.user else None,
    )
    session.add(announcement)
    await session.flush()
    await session.refresh(announcement)
    if deliver == "now":
        await _send_now(session, access, limiter, announcement)
    elif moment is not None:
        await _schedule(session, access, limiter, announcement, moment)
    await _audit(session, access, "announcement.created", announcement)
    return announcement


async def update_draft(
    session: AsyncSession, access: EventAccess, announcement: Announcement, draft: Draft
) -> Announcement:
    await check_track(session, access.event, draft)
    changed = await sending.transition(
        session,
        announcement.id,
        AnnouncementStatus.DRAFT,
        title=draft.title,
        body=draft.body,
        body_html=content.render(draft.body),
        audience=draft.audience,
        track_id=draft.track_id,
        channels=list(draft.channels),
    )
    await session.refresh(announcement)
    if not changed:
        raise _not_a_draft(announcement)
    await _audit(session, access, "announcement.updated", announcement)
    return announcement


def _not_a_draft(announcement: Announcement) -> NotADraft:
    return NotADraft(
        f"This announcement is {announcement.status.value}; only a draft can be changed,"
        " sent or scheduled.",
        details={"status": announcement.status.value},
    )


async def _spend(
    session: AsyncSession, access: EventAccess, limiter: Limiter, now: datetime
) -> None:
    await limits.check_cap(session, access.org, now)
    await limits.spend_burst(limiter, access.org)


async def _send_now(
    session: AsyncSession, access: EventAccess, limiter: Limiter, announcement: Announcement
) -> None:
    now = await db_now(session)
    await _spend(session, access, limiter, now)
    sent = await sending.transition(
        session,
        announcement.id,
        AnnouncementStatus.DRAFT,
        status=AnnouncementStatus.SENT,
        sent_at=now,
        queued_at=now,
    )
    await session.refresh(announcement)
    if not sent:
        raise _not_a_draft(announcement)
    await sending.announce(session, access.actor, announcement)


async def _schedule(
    session: AsyncSession,
    access: EventAccess,
    limiter: Limiter,
    announcement: Announcement,
    moment: datetime,
) -> None:
    now = await db_now(session)
    await _spend(session, access, limiter, now)
    scheduled = await sending.transition(
        session,
        announcement.id,
        AnnouncementStatus.DRAFT,
        status=AnnouncementStatus.SCHEDULED,
        send_at=moment,
        queued_at=now,
    )
    await session.refresh(announcement)
    if not scheduled:
        raise _not_a_draft(announcement)
    await jobs.enqueue(
        session,
        tasks.send_scheduled,
        queue="notifications",
        schedule_at=moment,
        announcement_id=str(announcement.id),
    )


async def send_now(
    session: AsyncSession, access: EventAccess, limiter: Limiter, announcement: Announcement
) -> Announcement:
    """Send a draft now (organizers)."""
    await _send_now(session, access, limiter, announcement)
    await _audit(session, access, "announcement.sent", announcement)
    return announcement


async def schedule(
    session: AsyncSession,
    access: EventAccess,
    limiter: Limiter,
    announcement: Announcement,
    send_at: datetime,
) -> Announcement:
    """Schedule a draft for `send_at` (organizers)."""
    moment = await send_time(session, access.event, send_at)
    await _schedule(session, access, limiter, announcement, moment)
    await _audit(session, access, "announcement.scheduled", announcement)
    return announcement


async def cancel(
    session: AsyncSession, access: EventAccess, announcement: Announcement
) -> Announcement:
    """Cancel a scheduled announcement before it goes out (organizers)."""
    now = await db_now(session)
    cancelled = await sending.transition(
        session,
        announcement.id,
        AnnouncementStatus.SCHEDULED,
        status=AnnouncementStatus.CANCELLED,
        cancelled_at=now,
    )
    await session.refresh(announcement)
    if not cancelled:
        if announcement.status is AnnouncementStatus.SENT:
            message = "This announcement has already been sent; it can no longer be cancelled."
        elif announcement.status is AnnouncementStatus.CANCELLED:
            message = "This announcement is already cancelled."
        else:
            message = "This announcement is a draft: it is not scheduled, so nothing to cancel."
        raise NotScheduled(message, details={"status": announcement.status.value})
    await _audit(session, access, "announcement.cancelled", announcement)
    return announcement


async def _audit(
    session: AsyncSession, access: EventAccess, action: str, announcement: Announcement
) -> None:
    """The one audit row of an organizer's change to an announcement (what it says and to whom,
    `sending.audit_details`)."""
    await record(
        session,
        access.actor,
        action,
        resource_type="announcement",
        resource_id=announcement.id,
        org_id=announcement.org_id,
        details=sending.audit_details(announcement),
    )
