"""Event reminders: the switches an organizer turns on, when each reminder falls due, and firing
it exactly once.

When (the database clock, `app_now()`; the event's time zone for the daily one):
- registration closing: from 24 h before `registration_closes_at` until it closes;
- submissions closing: from 24 h to 1 h before `submissions_close_at` (the 24 h reminder), and
  in the last hour (the 1 h one) — a reminder whose window passed while nothing ran is skipped,
  never sent late;
- judging: once a local day, from `judging_hour` for `CATCH_UP_HOURS` hours on the event's wall
  clock, while the event is judging (submissions closed, judging not closed, results not
  published), one `judging.evaluation_reminder` per judge with unfinished evaluations.
- results published: not a switch. The results domain mails each team its place when results are
  published (`results/notify.py`) and the `results.published` event tells the participants: it
  is the answer people waited for, and each person can turn the "results" category off.

Once (`fire`): the first worker to insert the claim (event, kind, occurrence — the deadline's
instant, or the local date of a daily reminder) with `INSERT … ON CONFLICT DO NOTHING RETURNING`
emits the reminder's outbox event in the same transaction; every other finds the claim and does
nothing. A moved deadline is a new occurrence: its reminders fire again for the new moment.
The people each event tells are resolved when it is dispatched, and `deliver` keys their
notifications and mails by the event's id, so nobody is told twice however often it runs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import SYSTEM, Actor
from hackops.announcements import audience
from hackops.audit.service import record
from hackops.db import db_now
from hackops.events.lifecycle import EventState, judging_closure, state_at
from hackops.models import Event, EventReminders, ReminderClaim, ReminderKind
from hackops.outbox.catalog import EvaluationReminder, ReminderDue
from hackops.outbox.service import emit
from hackops.tenancy import set_tenant

log = structlog.get_logger("hackops.reminders")

DAY = timedelta(hours=24)
HOUR = timedelta(hours=1)
#: A daily judging reminder missed at its hour (no worker ran) still goes out this long after.
CATCH_UP_HOURS = 3
SWITCHES = ("registration_closing", "submissions_closing", "judging_daily")


@dataclass(frozen=True)
class Due:
    kind: ReminderKind
    occurrence: str


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def due_reminders(event: Event, switches: EventReminders, now: datetime) -> list[Due]:
    """The reminders of `event` that fall due at `now` (claimed or not)."""
    if event.published_at is None or event.archived_at is not None:
        return []
    if event.results_published_at is not None:
        return []
    found: list[Due] = []
    closes = event.registration_closes_at
    if switches.registration_closing and closes is not None and closes - DAY <= now < closes:
        found.append(Due(ReminderKind.REGISTRATION_CLOSING, _instant(closes)))
    deadline = event.submissions_close_at
    if switches.submissions_closing and deadline is not None:
        if deadline - DAY <= now < deadline - HOUR:
            found.append(Due(ReminderKind.SUBMISSIONS_CLOSING_24H, _instant(deadline)))
        elif deadline - HOUR <= now < deadline:
            found.append(Due(ReminderKind.SUBMISSIONS_CLOSING_1H, _instant(deadline)))
    if (
        switches.judging_daily
        and state_at(event, now) is EventState.JUDGING
        and judging_closure(event, now) is None
    ):
        local = now.astimezone(ZoneInfo(event.timezone))
        if switches.judging_hour <= local.hour < switches.judging_hour + CATCH_UP_HOURS:
            found.append(Due(ReminderKind.JUDGING_DAILY, local.date().isoformat()))
    return found


async def switches_of(session: AsyncSession, event: Event) -> EventReminders:
    """The event's switches (all off, judges at 09:00, when never set)."""
    found = await session.get(EventReminders, event.id)
    if found is not None:
        return found
    return EventReminders(
        event_id=event.id,
        org_id=event.org_id,
        registration_closing=False,
        submissions_closing=False,
        judging_daily=False,
        judging_hour=9,
    )


async def set_switches(
    session: AsyncSession, actor: Actor, event: Event, values: dict[str, Any]
) -> EventReminders:
    """Turn reminders on or off (organizers; the caller has authorized)."""
    now = await db_now(session)
    row = {"event_id": event.id, "org_id": event.org_id, "updated_at": now, **values}
    await session.execute(
        insert(EventReminders)
        .values(row)
        .on_conflict_do_update(index_elements=["event_id"], set_={**values, "updated_at": now})
    )
    switches = await session.scalar(
        select(EventReminders)
        .where(EventReminders.event_id == event.id)
        .execution_options(populate_existing=True)
    )
    assert switches is not None
    await record(
        session,
        actor,
        "event_reminders.updated",
        resource_type="event",
        resource_id=event.id,
        org_id=event.org_id,
        details=dict(values),
    )
    return switches


async def candidates(session: AsyncSession) -> list[uuid.UUID]:
    """Events with a reminder switched on whose moment is near: a deadline in the next 24 hours,
    or judging under way (any organization; the caller acts as the platform)."""
    now = await db_now(session)
    soon = now + DAY
    rows = await session.scalars(
        select(Event.id)
        .join(EventReminders, EventReminders.event_id == Event.id)
        .where(
            Event.published_at.is_not(None),
            Event.archived_at.is_(None),
            Event.results_published_at.is_(None),
            or_(
                and_(
                    EventReminders.registration_closing,
                    Event.registration_closes_at > now,
                    Event.registration_closes_at <= soon,
                ),
                and_(
                    EventReminders.submissions_closing,
                    Event.submissions_close_at > now,
                    Event.submissions_close_at <= soon,
                ),
                and_(
                    EventReminders.judging_daily,
                    Event.submissions_close_at <= now,
                    or_(Event.judging_closes_at.is_(None), Event.judging_closes_at > now),
                ),
            ),
        )
        .order_by(Event.id)
    )
    return list(rows)


async def claim(session: AsyncSession, event: Event, due: Due) -> bool:
    """Take the reminder for this run; False when another run (or worker) has it."""
    claimed = await session.scalar(
        insert(ReminderClaim)
        .values(event_id=event.id, org_id=event.org_id, kind=due.kind, occurrence=due.occurrence)
        .on_conflict_do_nothing(index_elements=["event_id", "kind", "occurrence"])
        .returning(ReminderClaim.event_id)
    )
    return claimed is not None


async def fire_due(session: AsyncSession, event_id: uuid.UUID) -> list[Due]:
    """Claim and emit every reminder of the event due now; the ones this call fired."""
    event = await session.scalar(
        select(Event).where(Event.id == event_id).execution_options(populate_existing=True)
    )
    if event is None:
        return []
    await set_tenant(session, event.org_id)
    switches = await switches_of(session, event)
    fired: list[Due] = []
    for due in due_reminders(event, switches, await db_now(session)):
        if not await claim(session, event, due):
            continue
        fired.append(due)
        await _emit(session, SYSTEM, event, due)
        log.info("reminder_due", event_id=str(event.id), kind=due.kind.value)
    return fired


async def _emit(session: AsyncSession, actor: Actor, event: Event, due: Due) -> None:
    if due.kind is not ReminderKind.JUDGING_DAILY:
        await emit(
            session,
            actor,
            ReminderDue(event_id=event.id, kind=due.kind.value),
            org_id=event.org_id,
            event_id=event.id,
        )
        return
    for judge_id, left in sorted((await audience.unfinished(session, event.id)).items()):
        await emit(
            session,
            actor,
            EvaluationReminder(judge_id=judge_id, unfinished=left),
            org_id=event.org_id,
            event_id=event.id,
        )
