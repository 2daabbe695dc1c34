"""Who is told what when an announcement goes out or a reminder falls due: the people-channel
rules of `announcement.sent`, `reminder.due` and `judging.evaluation_reminder`, connected by
`hackops.wiring` (`connect`).

Each rule resolves its people when the event is dispatched (not when it was written), and the
channel delivers with the event's id as the key, so a second run of the fan-out tells nobody
twice. `announcement.sent` also records whom its audience resolved to (the delivery figures'
"recipients"), in the fan-out's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.announcements import audience, content
from hackops.models import (
    Announcement,
    AnnouncementStatus,
    Audience,
    Event,
    OutboxEvent,
    ReminderKind,
)
from hackops.notifications.links import event_path
from hackops.notifications.service import Message
from hackops.notifications.telling import Telling, rule
from hackops.outbox.catalog import AnnouncementSent, EvaluationReminder, Payload, ReminderDue


async def _record_recipients(
    session: AsyncSession, announcement: Announcement, user_ids: Sequence[uuid.UUID]
) -> None:
    """Whom the audience resolved to: one INSERT of an array (one parameter, not three a row)."""
    await session.execute(
        text(
            "INSERT INTO announcement_recipients (announcement_id, user_id, org_id)"
            " SELECT :announcement, person, :org FROM unnest(CAST(:people AS uuid[])) person"
            " ON CONFLICT DO NOTHING"
        ),
        {"announcement": announcement.id, "org": announcement.org_id, "people": list(user_ids)},
    )
    await session.execute(
        update(Announcement)
        .where(Announcement.id == announcement.id)
        .values(recipient_count=len(user_ids))
        .execution_options(synchronize_session=False)
    )


async def announcement_sent(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    assert isinstance(payload, AnnouncementSent)
    announcement = await session.get(Announcement, payload.announcement_id)
    if announcement is None or announcement.status is not AnnouncementStatus.SENT:
        return []
    if announcement.outbox_event_id not in (None, row.id):
        return []  # not its event: an announcement is told once, by its own event
    event = await session.get(Event, announcement.event_id)
    if event is None:
        return []
    people = await audience.resolve(session, event.id, announcement.audience, announcement.track_id)
    await _record_recipients(session, announcement, people)
    link = await event_path(session, event, f"/announcements/{announcement.id}")
    message = content.compose(
        event,
        title=announcement.title,
        body=announcement.body,
        channels=list(announcement.channels),
        link=link,
    )
    return [Telling(people, message)] if people else []


def _reminder_message(event: Event, kind: ReminderKind, link: str) -> Message | None:
    zone = event.timezone
    if kind is ReminderKind.REGISTRATION_CLOSING and event.registration_closes_at is not None:
        when = content.with_offset(event.registration_closes_at, zone)
        return Message(
            category="reminders",
            title=f"Registration for {event.name} closes on {when}",
            body=(
                "Teammates who have not registered yet must register before then; after it"
                " closes, nobody new can join the event."
            ),
            link=link,
        )
    if event.submissions_close_at is None:
        return None
    when = content.with_offset(event.submissions_close_at, zone)
    left = "24 hours" if kind is ReminderKind.SUBMISSIONS_CLOSING_24H else "1 hour"
    return Message(
        category="reminders",
        title=f"Submissions for {event.name} close in about {left}",
        body=(
            f"Your team has not submitted its project yet. Submissions close on {when}."
            " Submit a version from your team's page; you can still change it until then."
        ),
        link=link,
    )


async def reminder_due(session: AsyncSession, row: OutboxEvent, payload: Payload) -> list[Telling]:
    assert isinstance(payload, ReminderDue)
    event = await session.get(Event, payload.event_id)
    if event is None:
        return []
    try:
        kind = ReminderKind(payload.kind)
    except ValueError:
        return []
    if kind is ReminderKind.REGISTRATION_CLOSING:
        people = await audience.active_registrations(session, event.id)
    elif kind in (ReminderKind.SUBMISSIONS_CLOSING_24H, ReminderKind.SUBMISSIONS_CLOSING_1H):
        people = await audience.resolve(session, event.id, Audience.TEAMS_WITHOUT_SUBMISSION, None)
    else:
        return []
    message = _reminder_message(event, kind, await event_path(session, event))
    return [Telling(people, message)] if people and message is not None else []


async def evaluation_reminder(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    assert isinstance(payload, EvaluationReminder)
    event = await session.get(Event, row.event_id) if row.event_id else None
    if event is None or payload.unfinished < 1:
        return []
    projects = "project still waits" if payload.unfinished == 1 else "projects still wait"
    closes = (
        f" Judging closes on {content.with_offset(event.judging_closes_at, event.timezone)}."
        if event.judging_closes_at is not None
        else ""
    )
    message = Message(
        category="judging",
        title=f"{payload.unfinished} {projects} for your evaluation in {event.name}",
        body=f"Open your judging queue to score them.{closes}",
        link=await event_path(session, event, "/judging"),
    )
    return [Telling([payload.judge_id], message)]


def connect() -> None:
    """Register the rules (idempotent; another rule for one of these types is an error)."""
    rule(AnnouncementSent.type)(announcement_sent)
    rule(ReminderDue.type)(reminder_due)
    rule(EvaluationReminder.type)(evaluation_reminder)
