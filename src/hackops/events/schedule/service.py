"""An event's schedule: the items organizers add (talks, workshops, meals, deadlines, other) and
the agenda that shows them with the event's own dates.

- Items are looked up by (event_id, id): another event's id, or another tenant's, is simply not
  found. An end comes after the start (`check_times`, held by `ck_schedule_items_ends_after_start`),
  a link is http or https (the input model, held by `ck_schedule_items_url_web`).
- An event has at most `MAX_ITEMS` items, counted under the event row's lock so two concurrent
  additions cannot both take the last place.
- The agenda derives the event's windows (registration opens and closes, the start, the
  deadlines, the results) from the event on every read: they are never stored, so they cannot
  disagree with the event's dates. Each agenda entry has a `key` that names it for good
  (`item-<id>`, `window-<field>`): the calendar's UIDs are made from it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.db import db_now
from hackops.errors import Conflict, NotFound, ValidationFailed
from hackops.events.access import EventAccess
from hackops.events.schedule.schemas import ScheduleItemIn, ScheduleItemUpdate
from hackops.events.service import audit_event_child, require_writable
from hackops.models import Event, ScheduleItem, ScheduleKind

#: The most items one event's schedule holds.
MAX_ITEMS = 500


class ScheduleItemNotFound(NotFound):
    code = "schedule_item_not_found"
    message = "No such schedule item in this event."


class InvalidScheduleTimes(ValidationFailed):
    code = "invalid_schedule_times"
    message = "The item would end before it starts: the end must come after the start."


class ScheduleFull(Conflict):
    code = "schedule_full"
    message = f"This event's schedule already has {MAX_ITEMS} items; remove one to add another."


@dataclass(frozen=True)
class AgendaEntry:
    """One line of the agenda: a stored item, or one of the event's dates (`window` names the
    event's field; `derived` entries change on the event's Dates tab, not in the schedule)."""

    key: str
    title: str
    kind: ScheduleKind
    starts_at: datetime
    ends_at: datetime | None = None
    place: str = ""
    url: str = ""
    description: str = ""
    id: uuid.UUID | None = None
    window: str | None = None

    @property
    def derived(self) -> bool:
        return self.window is not None


#: The event's own dates in the agenda: (the event's field, the title, the kind).
WINDOWS: tuple[tuple[str, str, ScheduleKind], ...] = (
    ("registration_opens_at", "Registration opens", ScheduleKind.OTHER),
    ("registration_closes_at", "Registration closes", ScheduleKind.DEADLINE),
    ("starts_at", "The event starts", ScheduleKind.OTHER),
    ("submissions_close_at", "Submissions close", ScheduleKind.DEADLINE),
    ("voting_opens_at", "Public voting opens", ScheduleKind.OTHER),
    ("voting_closes_at", "Public voting closes", ScheduleKind.DEADLINE),
    ("judging_closes_at", "Judging closes", ScheduleKind.DEADLINE),
    ("results_published_at", "Results published", ScheduleKind.OTHER),
)


def windows(event: Event) -> list[AgendaEntry]:
    """The event's dates that are set, as agenda entries."""
    return [
        AgendaEntry(key=f"window-{field}", title=title, kind=kind, starts_at=moment, window=field)
        for field, title, kind in WINDOWS
        if (moment := getattr(event, field)) is not None
    ]


def entry_of(item: ScheduleItem) -> AgendaEntry:
    return AgendaEntry(
        key=f"item-{item.id}",
        title=item.title,
        kind=item.kind,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        place=item.place,
        url=item.url,
        description=item.description,
        id=item.id,
    )


def _in_order(entries: list[AgendaEntry]) -> list[AgendaEntry]:
    """By start; at the same moment the event's own date first, then by title."""
    return sorted(entries, key=lambda e: (e.starts_at, not e.derived, e.title.lower(), e.key))


def check_times(starts_at: datetime, ends_at: datetime | None) -> None:
    if ends_at is not None and ends_at <= starts_at:
        raise InvalidScheduleTimes(
            details=[{"field": "ends_at", "message": "must be after the start"}]
        )


async def list_items(session: AsyncSession, event: Event) -> list[ScheduleItem]:
    """The event's stored items in time order."""
    rows = await session.scalars(
        select(ScheduleItem)
        .where(ScheduleItem.event_id == event.id)
        .order_by(ScheduleItem.starts_at, ScheduleItem.title, ScheduleItem.id)
    )
    return list(rows)


def agenda_of(event: Event, items: list[ScheduleItem]) -> list[AgendaEntry]:
    """The event's stored `items` and its dates, in time order."""
    return _in_order([entry_of(item) for item in items] + windows(event))


async def agenda(session: AsyncSession, event: Event) -> list[AgendaEntry]:
    """The whole agenda: the stored items and the event's dates, in time order."""
    return agenda_of(event, await list_items(session, event))


async def upcoming_items(
    session: AsyncSession, event_id: uuid.UUID, limit: int = 5
) -> list[AgendaEntry]:
    """The next `limit` agenda entries of the event (the caller has set the tenant): the ones
    still running or to come at the database clock's now, in time order, the event's dates
    included. Empty for an event the session cannot see."""
    event = await session.get(Event, event_id)
    if event is None or limit <= 0:
        return []
    now = await db_now(session)
    rows = await session.scalars(
        select(ScheduleItem)
        .where(
            ScheduleItem.event_id == event.id,
            func.coalesce(ScheduleItem.ends_at, ScheduleItem.starts_at) >= now,
        )
        .order_by(ScheduleItem.starts_at, ScheduleItem.title, ScheduleItem.id)
        .limit(limit)
    )
    coming = [entry_of(item) for item in rows]
    coming += [w for w in windows(event) if w.starts_at >= now]
    return _in_order(coming)[:limit]


async def get_item(session: AsyncSession, event: Event, item_id: uuid.UUID) -> ScheduleItem:
    """One item of this event (another event's is as absent as a made-up id)."""
    item = await session.scalar(
        select(ScheduleItem).where(ScheduleItem.event_id == event.id, ScheduleItem.id == item_id)
    )
    if item is None:
        raise ScheduleItemNotFound
    return item


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Changed values as the audit record keeps them (moments as ISO 8601 text)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


async def create_item(
    session: AsyncSession, access: EventAccess, body: ScheduleItemIn
) -> ScheduleItem:
    event = access.event
    require_writable(event)
    values = body.values()
    check_times(values["starts_at"], values["ends_at"])
    # The event row's lock makes counting and adding one step for concurrent additions.
    await session.execute(select(Event.id).where(Event.id == event.id).with_for_update())
    count = await session.scalar(
        select(func.count()).select_from(ScheduleItem).where(ScheduleItem.event_id == event.id)
    )
    if (count or 0) >= MAX_ITEMS:
        raise ScheduleFull
    item = ScheduleItem(org_id=event.org_id, event_id=event.id, **values)
    session.add(item)
    await session.flush()
    await session.refresh(item)
    await audit_event_child(
        session,
        access.actor,
        "schedule_item.created",
        "schedule_item",
        item.id,
        event,
        {"title": item.title, "starts_at": item.starts_at.isoformat()},
    )
    return item


async def update_item(
    session: AsyncSession, access: EventAccess, item: ScheduleItem, body: ScheduleItemUpdate
) -> ScheduleItem:
    event = access.event
    require_writable(event)
    changed = {k: v for k, v in body.changes().items() if getattr(item, k) != v}
    if not changed:
        return item
    check_times(changed.get("starts_at", item.starts_at), changed.get("ends_at", item.ends_at))
    for key, value in changed.items():
        setattr(item, key, value)
    await session.flush()
    await session.refresh(item)
    await audit_event_child(
        session,
        access.actor,
        "schedule_item.updated",
        "schedule_item",
        item.id,
        event,
        _plain(changed),
    )
    return item


async def delete_item(session: AsyncSession, access: EventAccess, item: ScheduleItem) -> None:
    event = access.event
    require_writable(event)
    await session.delete(item)
    await session.flush()
    await audit_event_child(
        session,
        access.actor,
        "schedule_item.deleted",
        "schedule_item",
        item.id,
        event,
        {"title": item.title},
    )
