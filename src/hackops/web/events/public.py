"""Event pages: the public page of an event (description, dates in the event's time zone,
tracks and awards) with the registration form, and the participant's own registration (state,
waitlist position, check-in code and its QR code, cancel).

Loading and authorizing are the page dependencies (`PublicEventDep`, `EventPageDep`), built on
`events.access.load_event_access` as the API: a draft or private event is a 404 to whoever may
not see it. Registering calls `registrations.service.register`
with the answers checked by the event's questions (`validate_answers`, inside the service); a
refusal comes back on the form, per question when it is about one, with the answers kept.
Signed-out visitors are sent to log in and come back to the event (a registration sent while
signed out comes back to the event's page, where the form is).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from hackops.announcements import content as announcement_content
from hackops.announcements import reading as announcement_reading
from hackops.db import SessionDep, db_now
from hackops.errors import AppError
from hackops.events.access import EventAccess
from hackops.events.lifecycle import registration_open, sign_up, state_at
from hackops.events.questions.service import InvalidAnswers, Question, QuestionKind, questions_of
from hackops.events.schedule import service as schedule
from hackops.events.schedule.days import by_day
from hackops.events.showcase import next_moment
from hackops.events.tracks import service as children
from hackops.models import Registration, RegistrationStatus, Visibility
from hackops.publiccache import declare, event_scope, org_scope
from hackops.registrations import service as registrations
from hackops.registrations.router import own_out
from hackops.registrations.schemas import RegistrationIn
from hackops.teams.access import current_team_id, is_participant
from hackops.web import eventkit, kit
from hackops.web.deps import EventPageDep, PublicEventDep, page_router, signed_in

router = page_router()

#: How many of the latest announcements the event's page shows (all of them: their own page).
LATEST_ANNOUNCEMENTS = 3


def read_answers(questions: list[Question], submitted: FormData) -> dict[str, Any]:
    """The form's fields (`answer-<id>`) as the API's `answers` would carry them."""
    answers: dict[str, Any] = {}
    for question in questions:
        key = f"answer-{question.id}"
        if question.kind is QuestionKind.CHECKBOX:
            answers[question.id] = submitted.get(key) == "on"
        elif question.kind is QuestionKind.MULTI_CHOICE:
            answers[question.id] = [v for v in submitted.getlist(key) if isinstance(v, str)]
        else:
            value = submitted.get(key)
            answers[question.id] = value if isinstance(value, str) else ""
    return answers


async def _event_page(
    request: Request,
    session: AsyncSession,
    access: EventAccess,
    *,
    form: kit.Form | None = None,
    answers: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    event = access.event
    now = await db_now(session)
    windows = [
        (label, getattr(event, field))
        for label, field in (
            ("Registration opens", "registration_opens_at"),
            ("Registration closes", "registration_closes_at"),
            ("Starts", "starts_at"),
            ("Submissions close", "submissions_close_at"),
            ("Judging closes", "judging_closes_at"),
        )
        if getattr(event, field) is not None
    ]
    registration = access.registration
    active = registration is not None and registration.status != RegistrationStatus.CANCELLED
    here = eventkit.event_url(access)
    full = event.capacity is not None and event.registered_count >= event.capacity
    context = {
        "org": access.org,
        "event": event,
        "state": state_at(event, now).value,
        "sign_up": sign_up(event, now),
        "open": registration_open(event, now),
        "gallery_open": event.gallery_opened_at is not None
        and event.visibility != Visibility.PRIVATE,
        "full": full,
        "is_organizer": access.is_organizer,
        "windows": windows,
        "when": eventkit.clock(event.timezone),
        "tracks": await children.list_tracks(session, event),
        "awards": await children.list_awards(session, event),
        "days": by_day(await schedule.agenda(session, event), event.timezone),
        "base": here,
        "signed_in": access.actor.user is not None,
        "login_url": kit.with_next("/login", here),
        "registration": registration if active else None,
        "status_labels": kit.REGISTRATION_STATUS_LABELS,
        "show_teams": access.sees_every_team or is_participant(access),
        "questions": questions_of(event),
        "form": form or kit.Form(),
        "answers": answers or {},
        # the latest announcements meant for a signed-in visitor (those they received, or whose
        # audience they belong to: registered people, staff)
        "announcements": (
            await announcement_reading.readable(session, access, limit=LATEST_ANNOUNCEMENTS)
            if access.actor.user is not None
            else []
        ),
        "local": lambda moment: announcement_content.with_offset(moment, event.timezone),
    }
    if form is None and access.actor.user is None:  # a visitor's page: the same for all
        scopes = (event_scope(event.id), org_scope(event.org_id))
        declare(request, scopes, until=next_moment(event, now))
    return kit.render(request, "events/show.html", context, status_code=status_code)


@router.get(kit.EVENT_BASE, name="event")
async def event_page(request: Request, session: SessionDep, access: PublicEventDep) -> Response:
    return await _event_page(request, session, access)


@router.post(kit.EVENT_BASE + "/register")
async def register(request: Request, session: SessionDep, access: PublicEventDep) -> Response:
    if access.actor.user is None:  # not LoginRequired: back to the event's form, even on a POST
        return kit.redirect(kit.with_next("/login", eventkit.event_url(access)))
    answers = read_answers(questions_of(access.event), await request.form())

    def invalid(form: kit.Form) -> None:
        form.error = "The answers are not valid."

    def refused(form: kit.Form, exc: AppError) -> int:
        if not (isinstance(exc, InvalidAnswers) and isinstance(exc.details, list)):
            return kit.refuse(form, exc)
        for item in exc.details:
            question_id = str(item.get("field", "")).removeprefix("answers.")
            form.errors.setdefault(question_id, str(item.get("message", "")).capitalize() + ".")
        form.error = "Please correct the marked answers."
        return exc.status_code

    def reply(registration: Registration) -> Response:
        then = eventkit.event_url(access) + "/registration"
        if registration.status == RegistrationStatus.PENDING:
            return kit.flash_redirect(
                request,
                then,
                f"Your registration for {access.event.name} is sent: it awaits the organizers'"
                " approval, and we will tell you when they decide.",
                "warning",
            )
        if registration.status == RegistrationStatus.WAITLISTED:
            return kit.flash_redirect(
                request, then, "The event is full: you are on the waitlist.", "warning"
            )
        return kit.flash_redirect(request, then, f"You are registered for {access.event.name}.")

    return await kit.form_action(
        request,
        session,
        kit.Form(),
        model=RegistrationIn,
        data={"answers": answers},
        call=lambda body: registrations.register(session, access, answers=body.answers),
        page=lambda form, status: _event_page(
            request, session, access, form=form, answers=answers, status_code=status
        ),
        reply=reply,
        invalid=invalid,
        refused=refused,
        expire=[obj for obj in (access.event, access.registration) if obj is not None],
    )


@router.get(kit.EVENT_BASE + "/registration", name="my_registration")
async def my_registration(request: Request, session: SessionDep, access: EventPageDep) -> Response:
    user = signed_in(access.actor)
    registration = await registrations.get_own(session, access)
    out = await own_out(session, registration)
    team_id = await current_team_id(session, access.event, user.id)
    here = eventkit.event_url(access)
    context = {
        "org": access.org,
        "event": access.event,
        "registration": out,
        "status_label": kit.REGISTRATION_STATUS_LABELS.get(out.status, out.status),
        "when": eventkit.clock(access.event.timezone),
        "base": here,
        "team_url": f"{here}/teams/{team_id}" if team_id else None,
        "qr_url": (
            f"/api/v1/organizations/{access.org.slug}/events/{access.event.slug}"
            "/registrations/me/qr.svg"
        ),
    }
    return kit.render(request, "registrations/mine.html", context)


@router.post(kit.EVENT_BASE + "/registration/cancel")
async def cancel_registration(
    request: Request, session: SessionDep, access: EventPageDep
) -> Response:
    return await kit.act(
        request,
        session,
        eventkit.event_url(access) + "/registration",
        lambda: registrations.cancel(session, access),
        "Your registration is cancelled.",
        then=lambda _: eventkit.event_url(access),
    )
