"""Event admin pages: an organization's events, creating one, and running one (settings, dates,
publish / unpublish / archive). Questions: `web.events.content`; roles: `web.events.roles`;
tracks and awards: `web.events.tracks`; registrations and the check-in desk:
`web.registrations.pages`.

Who may: organization organizers and up, the event's own organizers and platform admins — the
`OrganizerPageDep` page dependency, the API's `organizer_access` (the public gets the 404 page;
judges and mentors, who know the event exists, get 403). Every change calls the same service
function as the API through `kit.form_action`, checked with the API's own input models.

Dates are entered as `datetime-local` values, which carry no zone: they are read in the event's
own time zone (a wall-clock time that does not exist there, skipped by a clock change, is
refused rather than silently moved).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.db import SessionDep, db_now
from hackops.errors import AppError
from hackops.events import service
from hackops.events.lifecycle import state_at
from hackops.events.schemas import WINDOW_FIELDS, EventIn, EventUpdate
from hackops.models import Event, EventMode, Organization, OrgRole, Visibility
from hackops.orgs.service import rank
from hackops.results import readiness
from hackops.results.service import publish as publish_with_results
from hackops.web import eventkit, kit
from hackops.web.deps import OrganizerPageDep, OrgMemberPageDep, OrgOrganizerPageDep, page_router

router = page_router()

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
    "approval_required",
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
    (EventMode.ONLINE, "Online"),
    (EventMode.IN_PERSON, "In person"),
    (EventMode.HYBRID, "Hybrid"),
]
VISIBILITY_OPTIONS = [
    (Visibility.PUBLIC, "Public: listed and open to everyone"),
    (Visibility.UNLISTED, "Unlisted: anyone with the link"),
    (Visibility.PRIVATE, "Private: invite-only"),
]
SETTINGS_ERRORS: dict[type[AppError] | str, str] = {
    service.CapacityBelowRegistered: "capacity",
    service.TeamMaxBelowMembers: "team_max",
}


@cache
def time_zones() -> list[str]:
    return sorted(available_timezones())


def humanize(message: str) -> str:
    """A service message about field names ("must be after registration_opens_at"), in words."""
    for name, label in FIELD_LABELS.items():
        message = message.replace(name, label.lower())
    message = message.replace("a in_person", "an in-person")
    return message[:1].upper() + message[1:]


def place_details(form: kit.Form, exc: AppError) -> bool:
    """Put a 422's per-field details (`[{"field", "message"}]`) on the form's fields."""
    details = exc.details if isinstance(exc.details, list) else []
    placed = False
    for item in details:
        if isinstance(item, Mapping) and item.get("field") and item.get("message"):
            form.errors.setdefault(str(item["field"]), humanize(str(item["message"])) + ".")
            placed = True
    return placed


def details_or(
    fields: Mapping[type[AppError] | str, str] | None = None, *, placed: str | None = None
) -> Callable[[kit.Form, AppError], int]:
    """A refusal by the event service: its per-field details on the fields (and `placed` on
    the form), else the message where `fields` puts it."""

    def refused(form: kit.Form, exc: AppError) -> int:
        if not place_details(form, exc):
            return kit.refuse(form, exc, fields)
        if placed is not None:
            form.error = placed
        return exc.status_code

    return refused


# --- an organization's events, and creating one -----------------------------------------------


@router.get("/orgs/{slug}/events", name="organization_events")
async def organization_events(
    request: Request, session: SessionDep, access: OrgMemberPageDep
) -> Response:
    organizer = rank(access.role) >= rank(OrgRole.ORGANIZER)
    events = await service.list_org_events(
        session, access.org, everything=organizer, offset=0, limit=100
    )
    now = await db_now(session)
    rows = [(event, state_at(event, now).value) for event in events]
    context = {"org": access.org, "role": access.role, "rows": rows, "organizer": organizer}
    return kit.render(request, "events/list.html", context)


async def _new_page(
    request: Request,
    session: AsyncSession,
    org: Organization,
    form: kit.Form,
    status_code: int = 200,
) -> Response:
    active = await service.active_event_count(session, org)
    context = {
        "org": org,
        "form": form,
        "active_events": active,
        "limit_reached": active >= org.max_active_events,
        "modes": MODE_OPTIONS,
        "zones": time_zones(),
    }
    return kit.render(request, "events/new.html", context, status_code=status_code)


def _creation_refused(form: kit.Form, exc: AppError) -> int:
    """The plan's limit in one line (the page says beside it what to do and who can raise
    it); any other refusal where the event service's details put it."""
    if isinstance(exc, service.EventLimitReached):
        form.error = "The event was not created: the plan's limit of active events is reached."
        return exc.status_code
    return details_or({service.EventSlugTaken: "slug"})(form, exc)


@router.get("/orgs/{slug}/new-event", name="new_event")
async def new_event_form(
    request: Request, session: SessionDep, access: OrgOrganizerPageDep
) -> Response:
    defaults = {"mode": EventMode.ONLINE, "timezone": "UTC"}
    return await _new_page(request, session, access.org, kit.Form(values=defaults))


@router.post("/orgs/{slug}/new-event")
async def create_event(
    request: Request, session: SessionDep, access: OrgOrganizerPageDep
) -> Response:
    data = await kit.form_data(request)
    names = ("name", "slug", "tagline", "mode", "venue", "timezone")
    raw = {name: data.get(name, "") for name in names}
    raw["slug"] = raw["slug"].strip().lower()
    return await kit.form_action(
        request,
        session,
        kit.Form(values=kit.kept(data, *names)),
        model=EventIn,
        data=raw,
        hints={"slug": SLUG_HINT, "mode": SETTINGS_HINTS["mode"]},
        call=lambda body: service.create_event(session, access.actor, access.org, body.changes()),
        page=lambda form, status: _new_page(request, session, access.org, form, status),
        refused=_creation_refused,
        done=lambda event: f"{event.name} is created as a draft; publish it when it is ready.",
        then=lambda event: f"/orgs/{access.org.slug}/events/{event.slug}/admin",
    )


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
        "approval_required": "on" if event.approval_required else "",
        "team_min": str(event.team_min),
        "team_max": str(event.team_max),
        "visibility": event.visibility,
        "allowed_email_domains": ", ".join(event.allowed_email_domains or []),
        "results_show_breakdown": "on" if event.results_show_breakdown else "",
    }


def _form_tab(
    tab: str, **choices: Any
) -> Callable[[eventkit.AdminPage, kit.Form, int], Awaitable[Response]]:
    """The renderer of a tab that is one form (`events/admin/<tab>.html`), with its choices."""

    async def tab_page(
        page: eventkit.AdminPage, form: kit.Form, status_code: int = 200
    ) -> Response:
        return await page.render(
            f"events/admin/{tab}.html", tab, status_code=status_code, form=form, **choices
        )

    return tab_page


_settings_page = _form_tab(
    "settings", modes=MODE_OPTIONS, visibilities=VISIBILITY_OPTIONS, zones=time_zones()
)


@router.get(kit.ADMIN, name="event_admin")
async def event_settings(page: OrganizerPageDep) -> Response:
    return await _settings_page(page, kit.Form(values=settings_values(page.access.event)), 200)


def _settings_input(data: Mapping[str, str]) -> dict[str, Any]:
    """The form's text as the API's JSON would carry it."""
    values: dict[str, Any] = {name: data.get(name, "") for name in SETTINGS_FIELDS}
    values["capacity"] = values["capacity"].strip() or None
    values["waitlist_enabled"] = data.get("waitlist_enabled") == "on"
    values["approval_required"] = data.get("approval_required") == "on"
    values["results_show_breakdown"] = data.get("results_show_breakdown") == "on"
    values["allowed_email_domains"] = [
        d for d in re.split(r"[\s,;]+", values["allowed_email_domains"]) if d
    ]
    return values


@router.post(kit.ADMIN)
async def save_settings(page: OrganizerPageDep) -> Response:
    data = await kit.form_data(page.request)
    access = page.access
    return await page.form_action(
        kit.Form(values=kit.kept(data, *SETTINGS_FIELDS)),
        model=EventUpdate,
        data=_settings_input(data),
        hints=SETTINGS_HINTS,
        call=lambda body: service.update_event(page.session, access.actor, access.event, body),
        page=lambda form, status: _settings_page(page, form, status),
        expire=[access.event],
        refused=details_or(SETTINGS_ERRORS),
        done="The settings are saved.",
        then=page.at(),
    )


# --- dates ------------------------------------------------------------------------------------


def windows_values(event: Event) -> dict[str, str]:
    zone = ZoneInfo(event.timezone)
    values = {name: eventkit.local_value(getattr(event, name), zone) for name in WINDOW_FIELDS}
    values["grace_minutes"] = str(event.grace_minutes)
    return values


_windows_page = _form_tab("windows", labels=WINDOW_LABELS)


@router.get(kit.ADMIN + "/windows", name="event_windows")
async def event_windows(page: OrganizerPageDep) -> Response:
    return await _windows_page(page, kit.Form(values=windows_values(page.access.event)), 200)


@router.post(kit.ADMIN + "/windows")
async def save_windows(page: OrganizerPageDep) -> Response:
    data = await kit.form_data(page.request)
    access = page.access
    form = kit.Form(values=kit.kept(data, *WINDOW_FIELDS, "grace_minutes"))
    zone = ZoneInfo(access.event.timezone)
    raw: dict[str, Any] = {"grace_minutes": data.get("grace_minutes", "").strip() or "0"}
    for name in WINDOW_FIELDS:
        try:
            raw[name] = eventkit.parse_local(data.get(name, ""), zone)
        except ValueError as exc:
            message = str(exc)
            if not message.startswith(("A date", "This time")):
                message = "A date and time like 2031-06-04T09:30."
            form.errors[name] = message
    return await page.form_action(
        form,
        model=EventUpdate,
        data={k: v for k, v in raw.items() if k not in form.errors},
        hints={"grace_minutes": "A whole number of minutes from 0 to 1440."},
        call=lambda body: service.update_event(page.session, access.actor, access.event, body),
        page=lambda form, status: _windows_page(page, form, status),
        expire=[access.event],
        refused=details_or(placed="These dates do not fit together; see the marked fields."),
        done="The dates are saved.",
        then=page.at("/windows"),
    )


# --- publish, unpublish, archive, publish results: each asks first ----------------------------

LIFECYCLE: dict[str, tuple[Callable[..., Awaitable[Event]], str]] = {
    "publish": (service.publish, "The event is published."),
    "unpublish": (service.unpublish, "The event is back to draft."),
    "archive": (service.archive, "The event is archived; it is read-only now."),
    "publish-results": (
        service.publish_results,
        "The results are published: the results page and the winners are public now; judging"
        " is closed and scores are final.",
    ),
}
VISIBILITY_WHEN_PUBLISHED = {
    Visibility.PUBLIC: "Anyone can find its page: it is listed with the organization's events.",
    Visibility.UNLISTED: "Anyone with its link can open its page; it is not listed anywhere.",
    Visibility.PRIVATE: "Only people you invite can open its page.",
}


def _verb(page: eventkit.AdminPage) -> str:
    return page.request.url.path.rsplit("/", 1)[-1]


async def lifecycle_confirmation(page: eventkit.AdminPage, verb: str) -> kit.Confirmation:
    """What the confirmation page of a lifecycle action says will happen to this event."""
    event, org = page.access.event, page.access.org
    when = eventkit.clock(event.timezone)
    now = await db_now(page.session)
    if verb == "publish":
        if event.registration_closes_at is not None and now >= event.registration_closes_at:
            registration = (
                f"Registration stays closed: it closed {when(event.registration_closes_at)}."
            )
        elif event.registration_opens_at is not None and now < event.registration_opens_at:
            registration = f"Registration opens {when(event.registration_opens_at)}."
        else:
            until = (
                f" and stays open until {when(event.registration_closes_at)}"
                if (event.registration_closes_at)
                else ""
            )
            registration = f"Registration opens at once{until}."
        return kit.Confirmation(
            question=f"Publish {event.name}?",
            consequences=[
                VISIBILITY_WHEN_PUBLISHED[Visibility(event.visibility)],
                registration + " The dates are on the Dates tab.",
                "It can go back to draft only while nobody has registered.",
            ],
            button="Publish the event",
            cancel=page.at(),
        )
    if verb == "unpublish":
        return kit.Confirmation(
            question=f"Take {event.name} back to draft?",
            consequences=[
                "Only its organizers see it again; its public page answers “not found”.",
                "Its settings, dates, questions and tracks stay as they are.",
            ],
            button="Back to draft",
            cancel=page.at(),
        )
    if verb == "archive":
        active = await service.active_event_count(page.session, org)
        return kit.Confirmation(
            question=f"Archive {event.name}?",
            consequences=[
                "It becomes read-only: registrations, teams, submissions, judging and its"
                " settings can no longer change.",
                "It stops counting towards the plan's limit: now"
                f" {active} of {org.max_active_events} active events are in use.",
                "Archiving cannot be undone.",
            ],
            button="Archive the event",
            cancel=page.at(),
            danger=True,
        )
    judging = await readiness.progress(page.session, page.access, now)
    if judging.judging_open:
        closes = f" until {when(event.judging_closes_at)}" if event.judging_closes_at else ""
        done = f" {judging.evaluated} of {judging.assigned} assigned evaluations are done."
        closing = (
            f"Judging is still open{closes}: publishing closes it now, and every score becomes"
            f" final.{done if judging.assigned else ''}"
        )
    else:
        closing = "Judging is closed: the scores are final."
    return kit.Confirmation(
        question=f"Publish the results of {event.name}?",
        consequences=[
            "The ranking and the winners are frozen as they stand now and shown on the public"
            " results page.",
            "Every participant is mailed the results.",
            closing,
            "Published results cannot be taken back.",
        ],
        button="Publish the results",
        cancel=page.at(),
    )


async def lifecycle_confirm(page: OrganizerPageDep) -> Response:
    """The confirmation page of a lifecycle action, while it is one of the event's next steps."""
    verb = _verb(page)
    state = state_at(page.access.event, await db_now(page.session)).value
    if verb not in dict(eventkit.lifecycle_buttons(state)):
        message = f"That is not one of the next steps now: the event is {state.replace('_', ' ')}."
        return kit.flash_redirect(page.request, page.at(), message, "error")
    return await page.confirm(await lifecycle_confirmation(page, verb))


async def lifecycle_action(page: OrganizerPageDep) -> Response:
    session, access = page.session, page.access
    verb = _verb(page)
    call, done = LIFECYCLE[verb]
    if verb == "publish-results":  # freezes the ranking and winners too (results domain)
        base_url = page.request.app.state.settings.base_url
        return await page.act_confirmed(
            page.at(), lambda: publish_with_results(session, access, base_url), done
        )
    return await page.act_confirmed(
        page.at(), lambda: call(session, access.actor, access.event), done
    )


for _verb_path in LIFECYCLE:
    router.get(f"{kit.ADMIN}/{_verb_path}")(lifecycle_confirm)
    router.post(f"{kit.ADMIN}/{_verb_path}")(lifecycle_action)
