"""An event's schedule: the agenda is readable by whoever can see the event; adding, changing and
removing items takes an organizer (each change audited)."""

from __future__ import annotations

import uuid

from fastapi import Response, status

from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.events.deps import EventDep, EventOrganizerDep
from hackops.events.schedule import service as schedule
from hackops.events.schedule.schemas import (
    ScheduleEntryOut,
    ScheduleItemIn,
    ScheduleItemOut,
    ScheduleItemUpdate,
)
from hackops.routing import Router

router = Router(prefix="/organizations", tags=["events"])

SCHEDULE = "/{slug}/events/{event_slug}/schedule"
ITEM = SCHEDULE + "/{schedule_item_id}"
READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
NO_CONTENT = status.HTTP_204_NO_CONTENT


def entry_out(entry: schedule.AgendaEntry) -> ScheduleEntryOut:
    return ScheduleEntryOut(
        id=entry.id,
        key=entry.key,
        title=entry.title,
        kind=entry.kind,
        starts_at=entry.starts_at,
        ends_at=entry.ends_at,
        place=entry.place,
        url=entry.url,
        description=entry.description,
        derived=entry.derived,
        window=entry.window,
    )


@router.get(SCHEDULE, response_model=list[ScheduleEntryOut], responses=READ_ERRORS)
async def agenda(session: SessionDep, access: EventDep) -> list[ScheduleEntryOut]:
    """The event's agenda in time order: its schedule items and its own dates (registration,
    start, deadlines, results; `derived`: true)."""
    return [entry_out(e) for e in await schedule.agenda(session, access.event)]


@router.post(
    SCHEDULE,
    status_code=status.HTTP_201_CREATED,
    response_model=ScheduleItemOut,
    responses=WRITE_ERRORS,
)
async def create_item(
    body: ScheduleItemIn, session: SessionDep, access: EventOrganizerDep
) -> ScheduleItemOut:
    """Add an item to the schedule (organizers)."""
    return ScheduleItemOut.model_validate(await schedule.create_item(session, access, body))


@router.get(ITEM, response_model=ScheduleItemOut, responses=READ_ERRORS)
async def get_item(
    schedule_item_id: uuid.UUID, session: SessionDep, access: EventDep
) -> ScheduleItemOut:
    """One schedule item."""
    item = await schedule.get_item(session, access.event, schedule_item_id)
    return ScheduleItemOut.model_validate(item)


@router.patch(ITEM, response_model=ScheduleItemOut, responses=WRITE_ERRORS)
async def update_item(
    schedule_item_id: uuid.UUID,
    body: ScheduleItemUpdate,
    session: SessionDep,
    access: EventOrganizerDep,
) -> ScheduleItemOut:
    """Change a schedule item; `ends_at: null` clears its end (organizers)."""
    item = await schedule.get_item(session, access.event, schedule_item_id)
    item = await schedule.update_item(session, access, item, body)
    return ScheduleItemOut.model_validate(item)


@router.delete(ITEM, status_code=NO_CONTENT, responses=WRITE_ERRORS)
async def delete_item(
    schedule_item_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> Response:
    """Remove a schedule item (organizers)."""
    item = await schedule.get_item(session, access.event, schedule_item_id)
    await schedule.delete_item(session, access, item)
    return Response(status_code=NO_CONTENT)
