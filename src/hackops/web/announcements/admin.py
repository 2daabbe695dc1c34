"""The "Announcements" tab of an event's admin: compose (preview, keep as a draft, send now or at
a time on the event's wall clock), the list with delivery figures, one announcement with what
people read, and the reminder switches.

Same rules as the other admin tabs: organizers only (`OrganizerPageDep`), every change through
the announcements services and the API's own input models (`AnnouncementIn`,
`AnnouncementContent`, `RemindersIn`), refusals back on the form; a draft's "send at" is read
on the event's wall clock as the API reads a time without an offset. The preview button
renders exactly what the fan-out will send (`reading.preview`, which calls `content.compose` as
the rule does).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import Response

from hackops.announcements import audience, content, reading, reminders, service
from hackops.announcements.schemas import AnnouncementContent, AnnouncementIn, RemindersIn
from hackops.errors import AppError
from hackops.events.tracks import service as tracks
from hackops.models import Announcement, Audience, Track
from hackops.web import eventkit, kit
from hackops.web.deps import OrganizerPageDep, page_router

router = page_router()

TAB = "announcements"
FIELDS = ("title", "body", "audience", "channel_in_app", "channel_email", "send_at")
HOURS = [(str(h), f"{h:02d}:00") for h in range(24)]


def audience_options(found: list[Track]) -> list[tuple[str, str]]:
    """The audience select: one option per segment, one per track ("track:<id>")."""
    options = [(a.value, audience.LABELS[a]) for a in Audience if a is not Audience.TRACK]
    options += [(f"track:{t.id}", f"The teams of the track “{t.name}”") for t in found]
    return options


def content_input(data: dict[str, str]) -> dict[str, Any]:
    """The form's text as the API's JSON: the track out of the audience's value, the channels
    from their checkboxes."""
    chosen = data.get("audience", "")
    track_id: str | None = None
    if chosen.startswith("track:"):
        chosen, track_id = "track", chosen.removeprefix("track:")
    return {
        "title": data.get("title", ""),
        "body": data.get("body", ""),
        "audience": chosen,
        "track_id": track_id,
        "channels": [c for c in ("in_app", "email") if data.get(f"channel_{c}") == "on"],
    }


def as_input(data: dict[str, str], deliver: str) -> dict[str, Any]:
    """… and how it goes out: a time given means "at that time" (the event's wall clock)."""
    values = content_input(data) | {"deliver": deliver}
    if deliver == "at":
        values["send_at"] = data.get("send_at", "").strip()
    return values


def model_errors_on_form(form: kit.Form) -> None:
    """Checks across fields (track and audience, time and delivery) name no field: the form's."""
    if "" in form.errors:
        form.error = form.errors.pop("")
    if "track_id" in form.errors:
        form.errors.setdefault("audience", form.errors.pop("track_id"))


def refused(form: kit.Form, exc: AppError) -> int:
    """A service's refusal: on its field when it names one, else the form's (its own words:
    the budget's and the cap's messages say when the next one can go out)."""
    details = exc.details if isinstance(exc.details, list) else []
    fields = {"track_id": "audience"}
    for item in details:
        if isinstance(item, dict) and item.get("field"):
            name = str(item["field"])
            form.errors[fields.get(name, name)] = str(item.get("message", ""))
    if not form.errors:
        form.error = exc.message
    return kit.status_of(exc)


async def _tab(
    page: eventkit.AdminPage,
    *,
    form: kit.Form | None = None,
    preview: reading.Preview | None = None,
    status_code: int = 200,
) -> Response:
    event = page.access.event
    found = await reading.list_for_organizers(page.session, event)
    figures = await reading.figures(page.session, found)
    switches = await reminders.switches_of(page.session, event)
    return await page.render(
        "announcements/admin.html",
        TAB,
        status_code=status_code,
        form=form or kit.Form(values={"channel_in_app": "on", "channel_email": "on"}),
        preview=preview,
        audience_options=audience_options(await tracks.list_tracks(page.session, event)),
        announcements=found,
        figures=figures,
        labels=audience.LABELS,
        zone_note=zone_note(event.timezone),
        local=eventkit.clock(event.timezone),
        switches=kit.Form(values=_switch_values(switches)),
        hours=HOURS,
    )


def zone_note(zone_name: str) -> str:
    """'Asia/Kolkata, now UTC+05:30': the zone the form's times are read in."""
    shown = content.with_offset(datetime.now(UTC), zone_name)
    return f"{zone_name}, now {shown[shown.index('(') + 1 : -1]}"


def _switch_values(switches: Any) -> dict[str, str]:
    values = {name: "on" if getattr(switches, name) else "" for name in reminders.SWITCHES}
    values["judging_hour"] = str(switches.judging_hour)
    return values


@router.get(kit.ADMIN + "/announcements", name="event_announcements")
async def announcements_tab(page: OrganizerPageDep) -> Response:
    return await _tab(page)


@router.post(kit.ADMIN + "/announcements")
async def compose(page: OrganizerPageDep) -> Response:
    """One form, three buttons: preview it, keep it as a draft, or send it (now, or at the time
    given)."""
    data = await kit.form_data(page.request)
    action = data.get("intent", "preview")
    form = kit.Form(values=kit.kept(data, *FIELDS))
    if action == "preview":
        return await _preview(page, form, data)
    deliver = "draft" if action == "draft" else ("at" if data.get("send_at", "").strip() else "now")
    limiter = page.request.app.state.limiter

    async def create(body: AnnouncementIn) -> Announcement:
        return await service.create(
            page.session,
            page.access,
            limiter,
            body.draft(),
            deliver=body.deliver,
            send_at=body.send_at,
        )

    def done(announcement: Announcement) -> str:
        if announcement.status.value == "draft":
            return f"Draft “{announcement.title}” saved."
        if announcement.status.value == "scheduled":
            when = eventkit.clock(page.access.event.timezone)(announcement.send_at)
            return f"“{announcement.title}” will go out on {when}."
        return f"“{announcement.title}” is on its way."

    return await page.form_action(
        form,
        model=AnnouncementIn,
        data=as_input(data, deliver),
        call=create,
        page=lambda f, status: _tab(page, form=f, status_code=status),
        invalid=model_errors_on_form,
        refused=refused,
        done=done,
        then=lambda a: page.at(f"/announcements/{a.id}"),
    )


async def _preview(page: eventkit.AdminPage, form: kit.Form, data: dict[str, str]) -> Response:
    body = kit.validated(AnnouncementContent, content_input(data), form)
    if body is None:
        model_errors_on_form(form)
        return await _tab(page, form=form, status_code=422)
    try:
        shown = await reading.preview(page.session, page.access.event, body.draft())
    except AppError as exc:
        return await _tab(page, form=form, status_code=refused(form, exc))
    return await _tab(page, form=form, preview=shown)


# --- one announcement ----------------------------------------------------------------------


async def the_announcement(announcement_id: uuid.UUID, page: OrganizerPageDep) -> Announcement:
    return await service.get(page.session, page.access.event, announcement_id)


AnnouncementDep = Annotated[Announcement, Depends(the_announcement)]


async def _one(
    page: eventkit.AdminPage,
    announcement: Announcement,
    form: kit.Form | None = None,
    status_code: int = 200,
) -> Response:
    event = page.access.event
    shown = await reading.preview(
        page.session, event, reading.draft_of(announcement), announcement.id
    )
    figures = (await reading.figures(page.session, [announcement])).get(announcement.id)
    return await page.render(
        "announcements/admin_one.html",
        TAB,
        status_code=status_code,
        announcement=announcement,
        preview=shown,
        figures=figures,
        label=audience.LABELS[announcement.audience],
        local=eventkit.clock(event.timezone),
        zone_note=zone_note(event.timezone),
        form=form or kit.Form(),
    )


@router.get(kit.ADMIN + "/announcements/{announcement_id}", name="event_announcement")
async def announcement_page(page: OrganizerPageDep, announcement: AnnouncementDep) -> Response:
    return await _one(page, announcement)


@router.post(kit.ADMIN + "/announcements/{announcement_id}/send")
async def send_announcement(page: OrganizerPageDep, announcement: AnnouncementDep) -> Response:
    limiter = page.request.app.state.limiter
    here = page.at(f"/announcements/{announcement.id}")
    data = await kit.form_data(page.request)
    when = data.get("send_at", "").strip()
    form = kit.Form(values={"send_at": when})

    async def send() -> Announcement:
        if when:
            return await service.schedule(
                page.session, page.access, limiter, announcement, _parse(when)
            )
        return await service.send_now(page.session, page.access, limiter, announcement)

    return await kit.attempt(
        page.session,
        form,
        send,
        page=lambda f, status: _one(page, announcement, f, status),
        reply=lambda a: kit.flash_redirect(page.request, here, f"“{a.title}” is {a.status.value}."),
        refused=refused,
        expire=[announcement],
    )


def _parse(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise service.InvalidSendTime(
            "A date and time, like 2031-06-04T09:30.",
            details=[{"field": "send_at", "message": "A date and time, like 2031-06-04T09:30."}],
        ) from None


@router.post(kit.ADMIN + "/announcements/{announcement_id}/cancel")
async def cancel_announcement(page: OrganizerPageDep, announcement: AnnouncementDep) -> Response:
    here = page.at(f"/announcements/{announcement.id}")
    return await page.act(
        here,
        lambda: service.cancel(page.session, page.access, announcement),
        f"“{announcement.title}” is cancelled; it will not go out.",
    )


@router.post(kit.ADMIN + "/announcements/reminders")
async def save_reminders(page: OrganizerPageDep) -> Response:
    data = await kit.form_data(page.request)
    values: dict[str, Any] = {name: data.get(name) == "on" for name in reminders.SWITCHES}
    values["judging_hour"] = data.get("judging_hour", "9") or "9"
    return await page.act_checked(
        page.at("/announcements"),
        model=RemindersIn,
        data=values,
        action=lambda body: reminders.set_switches(
            page.session, page.access.actor, page.access.event, body.model_dump()
        ),
        done="Reminders saved.",
    )
