"""An event's schedule: the organizers' Schedule tab (the agenda, add, edit, remove items) and the
event's calendar file (`…/calendar.ics`, linked as "Add to calendar" from the public page).

Same rules as the other admin tabs (`web.events.tracks`): organizers only (`OrganizerPageDep`),
form posts through `AdminPage.form_action`, checked with the API's own input models. Times are
entered as `datetime-local` values read on the event's own clock (`eventkit.parse_local`: a time
skipped by a clock change is refused, not moved) and shown with the zone's offset. The calendar
follows the public page's rules (`PublicEventDep`): whoever can see the event can subscribe.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from hackops.db import SessionDep, db_now
from hackops.errors import AppError
from hackops.events.calendar import agenda_ics
from hackops.events.schedule import service as schedule
from hackops.events.schedule.days import by_day, offset_label
from hackops.events.schedule.schemas import KIND_HINT, ScheduleItemIn, ScheduleItemUpdate
from hackops.models import ScheduleItem, ScheduleKind
from hackops.web import eventkit, kit
from hackops.web.deps import OrganizerPageDep, PublicEventDep, page_router

router = page_router()

FIELDS = ("title", "kind", "starts_at", "ends_at", "place", "url", "description")
TIME_FIELDS = ("starts_at", "ends_at")
HINTS = {
    "title": "Give the item a title of 1 to 200 characters.",
    "kind": KIND_HINT,
    "starts_at": "Enter when it starts: a date and a time between the years 2000 and 2099.",
    "ends_at": "A date and a time between the years 2000 and 2099, or leave it empty.",
    "place": "At most 300 characters.",
    "url": "A web address starting with http:// or https://, at most 2000 characters.",
    "description": "At most 2000 characters.",
}
ERRORS: dict[type[AppError] | str, str] = {schedule.InvalidScheduleTimes: "ends_at"}
KIND_OPTIONS = [
    (ScheduleKind.TALK.value, "Talk"),
    (ScheduleKind.WORKSHOP.value, "Workshop"),
    (ScheduleKind.MEAL.value, "Meal"),
    (ScheduleKind.DEADLINE.value, "Deadline"),
    (ScheduleKind.OTHER.value, "Other"),
]
BLANK = {"kind": ScheduleKind.TALK.value}


def _zone_hint(zone_name: str, moment: datetime) -> str:
    zone = ZoneInfo(zone_name)
    return f"{zone.key}, {offset_label(moment, zone)}"


def _input(data: Mapping[str, str], zone: ZoneInfo, form: kit.Form) -> dict[str, Any]:
    """The form's text as the API's JSON would carry it; a time that cannot be read is put on
    the form (and left out)."""
    values: dict[str, Any] = {name: data.get(name, "") for name in FIELDS}
    for name in TIME_FIELDS:
        try:
            values[name] = eventkit.parse_local(values[name], zone)
        except ValueError as exc:
            message = str(exc)
            if not message.startswith(("A date", "This time")):
                message = "A date and a time, like 2031-06-04T09:30."
            form.errors[name] = message
            del values[name]
    return values


def _values(item: ScheduleItem, zone: ZoneInfo) -> dict[str, str]:
    return {
        "title": item.title,
        "kind": item.kind.value,
        "starts_at": eventkit.local_value(item.starts_at, zone),
        "ends_at": eventkit.local_value(item.ends_at, zone),
        "place": item.place,
        "url": item.url,
        "description": item.description,
    }


async def _schedule_page(
    page: eventkit.AdminPage, form: kit.Form | None = None, status_code: int = 200
) -> Response:
    event = page.access.event
    now = await db_now(page.session)
    return await page.render(
        "events/admin/schedule.html",
        "schedule",
        status_code=status_code,
        days=by_day(await schedule.agenda(page.session, event), event.timezone),
        form=form or kit.Form(values=dict(BLANK)),
        kind_options=KIND_OPTIONS,
        zone_hint=_zone_hint(event.timezone, event.starts_at or now),
        max_items=schedule.MAX_ITEMS,
    )


@router.get(kit.ADMIN + "/schedule", name="event_schedule")
async def event_schedule(page: OrganizerPageDep) -> Response:
    return await _schedule_page(page)


@router.post(kit.ADMIN + "/schedule")
async def add_item(page: OrganizerPageDep) -> Response:
    access = page.access
    data = await kit.form_data(page.request)
    form = kit.Form(values=kit.kept(data, *FIELDS))
    values = _input(data, ZoneInfo(access.event.timezone), form)
    return await page.form_action(
        form,
        model=ScheduleItemIn,
        data=values,
        hints=HINTS,
        call=lambda body: schedule.create_item(page.session, access, body),
        page=lambda form, status: _schedule_page(page, form, status),
        fields=ERRORS,
        done=lambda item: f"“{item.title}” added to the schedule.",
        then=page.at("/schedule"),
    )


# --- one item: edit, remove -------------------------------------------------------------------


async def schedule_item(schedule_item_id: uuid.UUID, page: OrganizerPageDep) -> ScheduleItem:
    return await schedule.get_item(page.session, page.access.event, schedule_item_id)


ItemDep = Annotated[ScheduleItem, Depends(schedule_item)]
ITEM = kit.ADMIN + "/schedule/{schedule_item_id}"


async def _edit_page(
    page: eventkit.AdminPage, item: ScheduleItem, form: kit.Form, status_code: int = 200
) -> Response:
    event = page.access.event
    return await page.render(
        "events/admin/schedule_edit.html",
        "schedule",
        status_code=status_code,
        item=item,
        form=form,
        kind_options=KIND_OPTIONS,
        zone_hint=_zone_hint(event.timezone, item.starts_at),
    )


@router.get(ITEM + "/edit")
async def edit_form(page: OrganizerPageDep, item: ItemDep) -> Response:
    zone = ZoneInfo(page.access.event.timezone)
    return await _edit_page(page, item, kit.Form(values=_values(item, zone)))


@router.post(ITEM + "/edit")
async def edit_item(page: OrganizerPageDep, item: ItemDep) -> Response:
    access = page.access
    data = await kit.form_data(page.request)
    form = kit.Form(values=kit.kept(data, *FIELDS))
    values = _input(data, ZoneInfo(access.event.timezone), form)
    model: type[BaseModel] = ScheduleItemIn  # every field is on the form: all are sent

    async def update(body: BaseModel) -> ScheduleItem:
        assert isinstance(body, ScheduleItemIn)
        changes = ScheduleItemUpdate.model_validate(body.values())
        return await schedule.update_item(page.session, access, item, changes)

    return await page.form_action(
        form,
        model=model,
        data=values,
        hints=HINTS,
        call=update,
        page=lambda form, status: _edit_page(page, item, form, status),
        expire=[item],
        fields=ERRORS,
        done=lambda saved: f"“{saved.title}” saved.",
        then=page.at("/schedule"),
    )


@router.post(ITEM + "/delete")
async def delete_item(page: OrganizerPageDep, item: ItemDep) -> Response:
    title = item.title
    return await page.act(
        page.at("/schedule"),
        lambda: schedule.delete_item(page.session, page.access, item),
        f"“{title}” removed from the schedule.",
    )


# --- the event's calendar -------------------------------------------------------------------


@router.get(kit.EVENT_BASE + "/calendar.ics", name="event_calendar")
async def event_calendar(request: Request, session: SessionDep, access: PublicEventDep) -> Response:
    """The event, its dates and its schedule as an iCalendar file (to download or subscribe)."""
    event = access.event
    base_url = kit.settings_of(request).base_url.rstrip("/")
    items = await schedule.list_items(session, event)
    stamps = {"event": event.updated_at} | {f"item-{i.id}": i.updated_at for i in items}
    body = agenda_ics(
        event,
        schedule.agenda_of(event, items),
        host=urlsplit(base_url).hostname or "localhost",
        url=base_url + eventkit.event_url(access),
        stamps=stamps,
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{event.slug}.ics"',
            "Cache-Control": "no-cache",
        },
    )
