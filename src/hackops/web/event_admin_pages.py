"""Event admin pages: an organization's events, creating one, and running one (settings, dates,
publish / unpublish / archive). Questions and roles: `event_content_pages`; tracks and awards:
`event_tracks_pages`; registrations and the check-in desk: `registration_pages`.

Who may: organization organizers and up, the event's own organizers and platform admins —
`events.deps.organizer_access`, exactly as for the API (the public gets the 404 page; judges and
mentors, who know the event exists, get 403). Every change calls the same service function as
the API, checked with the API's own input models; forms follow `org_pages` (savepoint, the form
comes back with the message and the input, flash + 303 on success).

Dates are entered as `datetime-local` values, which carry no zone: they are read in the event's
own time zone (a wall-clock time that does not exist there, skipped by a clock change, is
refused rather than silently moved).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.deps import ActorDep, get_actor
from hackops.actor import Actor
from hackops.browser import csrf_protect, flash
from hackops.db import SessionDep, db_now
from hackops.errors import AppError
from hackops.events import service
from hackops.events.deps import EventAccess, load_event_access, organizer_access
from hackops.events.lifecycle import EventState, state_at
from hackops.events.schemas import WINDOW_FIELDS, EventIn, EventUpdate
from hackops.models import Event, EventMode, OrgRole, Visibility
from hackops.orgs.deps import org_access
from hackops.orgs.service import InsufficientRole, rank
from hackops.routing import Router, SlugPath
from hackops.web.forms import (
    Form,
    all_or_nothing,
    form_data,
    kept,
    redirect,
    refuse,
    render,
    to_login,
    validated,
)

router = Router(
    dependencies=[Depends(csrf_protect), Depends(get_actor)],
    include_in_schema=False,
)

EVENT_BASE = "/orgs/{slug}/events/{event_slug}"
ADMIN = EVENT_BASE + "/admin"

SLUG_HINT = (
    "Lowercase letters, digits and hyphens, 1 to 63 characters, not starting or ending with a"
    " hyphen."
)
SETTINGS_FIELDS = (
    "name",
    "tagline",
    "description",
    "mode",
    "venue",
    "timezone",
    "capacity",
    "waitlist_enabled",
    "team_min",
    "team_max",
    "visibility",
    "allowed_email_domains",
    "results_show_breakdown",
)
SETTINGS_HINTS = {
    "capacity": "A whole number from 0 to 1,000,000, or empty for no limit.",
    "team_min": "A whole number from 1 to 100.",
    "team_max": "A whole number from 1 to 100.",
    "mode": "Choose one of the modes.",
    "visibility": "Choose one of the visibilities.",
}
WINDOW_LABELS = {
    "registration_opens_at": "Registration opens",
    "registration_closes_at": "Registration closes",
    "starts_at": "Starts",
    "submissions_close_at": "Submissions close",
    "judging_closes_at": "Judging closes",
}
FIELD_LABELS = {
    **WINDOW_LABELS,
    "grace_minutes": "Grace minutes",
    "team_min": "Minimum team size",
    "team_max": "Maximum team size",
    "venue": "Venue",
}
MODE_OPTIONS = [
    (EventMode.ONLINE.value, "Online"),
    (EventMode.IN_PERSON.value, "In person"),
    (EventMode.HYBRID.value, "Hybrid"),
]
VISIBILITY_OPTIONS = [
    (Visibility.PUBLIC.value, "Public: listed and open to everyone"),
    (Visibility.UNLISTED.value, "Unlisted: anyone with the link"),
    (Visibility.PRIVATE.value, "Private: invite-only"),
]
SETTINGS_ERRORS: dict[type[AppError] | str, str] = {
    service.CapacityBelowRegistered: "capacity",
    service.TeamMaxBelowMembers: "team_max",
}


@cache
def time_zones() -> list[str]:
    return sorted(available_timezones())


# --- loading and authorizing ------------------------------------------------------------------


def admin_base(access: EventAccess) -> str:
    return ADMIN.format(slug=access.org.slug, event_slug=access.event.slug)


async def organizer_event(
    session: AsyncSession, actor: Actor, slug: str, event_slug: str
) -> EventAccess:
    """The event, for whoever runs it (as the API's `EventOrganizerDep`)."""
    return await organizer_access(await load_event_access(session, actor, slug, event_slug))


def can_grant_roles(access: EventAccess) -> bool:
    """Event roles are handed out by organization organizers and up (as the API)."""
    if access.actor.is_platform_admin:
        return True
    return access.org_role is not None and rank(access.org_role) >= rank(OrgRole.ORGANIZER)


async def admin_context(
    session: AsyncSession, access: EventAccess, tab: str, **extra: Any
) -> dict[str, Any]:
    """What every admin page shows in its header: the event, its state, the tabs."""
    state = state_at(access.event, await db_now(session)).value
    return {
        "org": access.org,
        "event": access.event,
        "access": access,
        "state": state,
        "buttons": lifecycle_buttons(state),
        "admin": admin_base(access),
        "public_url": EVENT_BASE.format(slug=access.org.slug, event_slug=access.event.slug),
        "tab": tab,
        "can_grant": can_grant_roles(access),
        **extra,
    }


async def reload(session: AsyncSession, obj: object) -> None:
    """After a refused change: drop what the service set on the object but never wrote."""
    session.expire(obj)
    await session.refresh(obj)


async def act(
    request: Request,
    session: AsyncSession,
    back: str,
    action: Callable[[], Awaitable[Any]],
    done: str,
) -> Response:
    """A button's action: run it in a savepoint, flash the result or the refusal, go back."""
    try:
        async with all_or_nothing(session):
            await action()
    except AppError as exc:
        flash(request, exc.message, "error")
        return redirect(back)
    flash(request, done, "success")
    return redirect(back)


def humanize(message: str) -> str:
    """A service message about field names ("must be after registration_opens_at"), in words."""
    for name, label in FIELD_LABELS.items():
        message = message.replace(name, label.lower())
    message = message.replace("a in_person", "an in-person")
    return message[:1].upper() + message[1:]


def place_details(form: Form, exc: AppError) -> bool:
    """Put a 422's per-field details (`[{"field", "message"}]`) on the form's fields."""
    details = exc.details if isinstance(exc.details, list) else []
    placed = False
    for item in details:
        if isinstance(item, Mapping) and item.get("field") and item.get("message"):
            form.errors.setdefault(str(item["field"]), humanize(str(item["message"])) + ".")
            placed = True
    return placed


# --- dates in the event's time zone -----------------------------------------------------------


def local_value(moment: datetime | None, zone: ZoneInfo) -> str:
    """A stored instant as the `datetime-local` value of the event's wall clock."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""


def parse_local(value: str, zone: ZoneInfo) -> datetime | None:
    """A `datetime-local` value read in the event's zone (empty: None). ValueError if invalid."""
    value = value.strip()
    if not value:
        return None
    wall = datetime.fromisoformat(value)
    if wall.tzinfo is not None:
        raise ValueError("A date and time without a zone, like 2031-06-04T09:30.")
    moment = wall.replace(tzinfo=zone)
    if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise ValueError(f"This time does not exist in {zone.key} (the clocks change).")
    return moment


# --- an organization's events, and creating one -----------------------------------------------


@router.get("/orgs/{slug}/events", name="organization_events")
async def organization_events(
    slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await org_access(slug, session, actor.user, actor)
    organizer = rank(access.role) >= rank(OrgRole.ORGANIZER)
    events = await service.list_org_events(
        session, access.org, everything=organizer, offset=0, limit=100
    )
    now = await db_now(session)
    rows = [(event, state_at(event, now).value) for event in events]
    context = {"org": access.org, "role": access.role, "rows": rows, "organizer": organizer}
    return render(request, "events/list.html", context)


def _new_page(request: Request, org: Any, form: Form, status_code: int = 200) -> Response:
    context = {
        "org": org,
        "form": form,
        "modes": MODE_OPTIONS,
        "zones": time_zones(),
    }
    return render(request, "events/new.html", context, status_code=status_code)


async def _organizer_org(slug: str, session: AsyncSession, actor: Actor) -> Any:
    assert actor.user is not None
    access = await org_access(slug, session, actor.user, actor)
    if rank(access.role) < rank(OrgRole.ORGANIZER):
        raise InsufficientRole
    return access


@router.get("/orgs/{slug}/new-event", name="new_event")
async def new_event_form(
    slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await _organizer_org(slug, session, actor)
    defaults = {"mode": EventMode.ONLINE.value, "timezone": "UTC"}
    return _new_page(request, access.org, Form(values=defaults))


@router.post("/orgs/{slug}/new-event")
async def create_event(
    slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await _organizer_org(slug, session, actor)
    data = await form_data(request)
    names = ("name", "slug", "tagline", "mode", "venue", "timezone")
    form = Form(values=kept(data, *names))
    raw = {name: data.get(name, "") for name in names}
    raw["slug"] = raw["slug"].strip().lower()
    body = validated(EventIn, raw, form, hints={"slug": SLUG_HINT, "mode": SETTINGS_HINTS["mode"]})
    if body is None:
        return _new_page(request, access.org, form, 422)
    try:
        async with all_or_nothing(session):
            event = await service.create_event(session, actor, access.org, body.changes())
    except AppError as exc:
        if not place_details(form, exc):
            return _new_page(
                request, access.org, form, refuse(form, exc, {service.EventSlugTaken: "slug"})
            )
        return _new_page(request, access.org, form, exc.status_code)
    flash(request, f"{event.name} is created as a draft; publish it when it is ready.", "success")
    return redirect(f"/orgs/{access.org.slug}/events/{event.slug}/admin")


# --- settings ---------------------------------------------------------------------------------


def settings_values(event: Event) -> dict[str, str]:
    return {
        "name": event.name,
        "tagline": event.tagline,
        "description": event.description,
        "mode": event.mode,
        "venue": event.venue,
        "timezone": event.timezone,
        "capacity": "" if event.capacity is None else str(event.capacity),
        "waitlist_enabled": "on" if event.waitlist_enabled else "",
        "team_min": str(event.team_min),
        "team_max": str(event.team_max),
        "visibility": event.visibility,
        "allowed_email_domains": ", ".join(event.allowed_email_domains or []),
        "results_show_breakdown": "on" if event.results_show_breakdown else "",
    }


async def _settings_page(
    request: Request,
    session: AsyncSession,
    access: EventAccess,
    form: Form,
    status_code: int = 200,
) -> Response:
    context = await admin_context(
        session,
        access,
        "settings",
        form=form,
        modes=MODE_OPTIONS,
        visibilities=VISIBILITY_OPTIONS,
        zones=time_zones(),
    )
    return render(request, "events/admin/settings.html", context, status_code=status_code)


@router.get(ADMIN, name="event_admin")
async def event_settings(
    slug: SlugPath, event_slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    return await _settings_page(
        request, session, access, Form(values=settings_values(access.event))
    )


def _settings_input(data: Mapping[str, str]) -> dict[str, Any]:
    """The form's text as the API's JSON would carry it."""
    values: dict[str, Any] = {name: data.get(name, "") for name in SETTINGS_FIELDS}
    values["capacity"] = values["capacity"].strip() or None
    values["waitlist_enabled"] = data.get("waitlist_enabled") == "on"
    values["results_show_breakdown"] = data.get("results_show_breakdown") == "on"
    values["allowed_email_domains"] = [
        d for d in re.split(r"[\s,;]+", values["allowed_email_domains"]) if d
    ]
    return values


@router.post(ADMIN)
async def save_settings(
    slug: SlugPath, event_slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    data = await form_data(request)
    form = Form(values=kept(data, *SETTINGS_FIELDS))
    body = validated(EventUpdate, _settings_input(data), form, hints=SETTINGS_HINTS)
    if body is None:
        return await _settings_page(request, session, access, form, 422)
    try:
        async with all_or_nothing(session):
            await service.update_event(session, actor, access.event, body.changes())
    except AppError as exc:
        await reload(session, access.event)
        status = exc.status_code
        if not place_details(form, exc):
            status = refuse(form, exc, SETTINGS_ERRORS)
        return await _settings_page(request, session, access, form, status)
    flash(request, "The settings are saved.", "success")
    return redirect(admin_base(access))


# --- dates ------------------------------------------------------------------------------------


def windows_values(event: Event) -> dict[str, str]:
    zone = ZoneInfo(event.timezone)
    values = {name: local_value(getattr(event, name), zone) for name in WINDOW_FIELDS}
    values["grace_minutes"] = str(event.grace_minutes)
    return values


async def _windows_page(
    request: Request,
    session: AsyncSession,
    access: EventAccess,
    form: Form,
    status_code: int = 200,
) -> Response:
    context = await admin_context(session, access, "windows", form=form, labels=WINDOW_LABELS)
    return render(request, "events/admin/windows.html", context, status_code=status_code)


@router.get(ADMIN + "/windows", name="event_windows")
async def event_windows(
    slug: SlugPath, event_slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    return await _windows_page(request, session, access, Form(values=windows_values(access.event)))


@router.post(ADMIN + "/windows")
async def save_windows(
    slug: SlugPath, event_slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    data = await form_data(request)
    form = Form(values=kept(data, *WINDOW_FIELDS, "grace_minutes"))
    zone = ZoneInfo(access.event.timezone)
    raw: dict[str, Any] = {"grace_minutes": data.get("grace_minutes", "").strip() or "0"}
    for name in WINDOW_FIELDS:
        try:
            raw[name] = parse_local(data.get(name, ""), zone)
        except ValueError as exc:
            message = str(exc)
            if not message.startswith(("A date", "This time")):
                message = "A date and time like 2031-06-04T09:30."
            form.errors[name] = message
    body = validated(
        EventUpdate,
        {k: v for k, v in raw.items() if k not in form.errors},
        form,
        hints={"grace_minutes": "A whole number of minutes from 0 to 1440."},
    )
    if body is None or form.errors:
        return await _windows_page(request, session, access, form, 422)
    try:
        async with all_or_nothing(session):
            await service.update_event(session, actor, access.event, body.changes())
    except AppError as exc:
        await reload(session, access.event)
        status = exc.status_code
        if not place_details(form, exc):
            status = refuse(form, exc)
        else:
            form.error = "These dates do not fit together; see the marked fields."
        return await _windows_page(request, session, access, form, status)
    flash(request, "The dates are saved.", "success")
    return redirect(admin_base(access) + "/windows")


# --- publish, unpublish, archive --------------------------------------------------------------

LIFECYCLE: dict[str, tuple[Callable[..., Awaitable[Event]], str]] = {
    "publish": (service.publish, "The event is published."),
    "unpublish": (service.unpublish, "The event is back to draft."),
    "archive": (service.archive, "The event is archived; it is read-only now."),
    "publish-results": (
        service.publish_results,
        "The results are published: the results page and the winners are public now.",
    ),
}


async def lifecycle_action(
    slug: SlugPath, event_slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    verb = request.url.path.rsplit("/", 1)[-1]
    call, done = LIFECYCLE[verb]
    if verb == "publish-results":  # freezes the ranking and winners too (results domain)
        from hackops.results.service import publish

        base_url = request.app.state.settings.base_url
        return await act(
            request, session, admin_base(access), lambda: publish(session, access, base_url), done
        )
    return await act(
        request,
        session,
        admin_base(access),
        lambda: call(session, actor, access.event),
        done,
    )


for _verb in LIFECYCLE:
    router.post(f"{ADMIN}/{_verb}")(lifecycle_action)


def lifecycle_buttons(state: str) -> list[tuple[str, str]]:
    """(action, label) of the lifecycle buttons that make sense in this state."""
    if state == EventState.ARCHIVED.value:
        return []
    if state == EventState.DRAFT.value:
        return [("publish", "Publish"), ("archive", "Archive")]
    if state == EventState.JUDGING.value:
        return [("publish-results", "Publish results"), ("archive", "Archive")]
    return [("unpublish", "Back to draft"), ("archive", "Archive")]
