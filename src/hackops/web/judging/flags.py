"""Judges' flag pages: on the scoring page a judge flags the project to the organizers (a reason,
a note) or withdraws their open flag; organizers read the event's flags (open first, filter by
state) and resolve each with a note the judge reads — here, or from the project's review page.

Who may: the judge's posts take `EventPageDep` and go through `evaluations.assigned_submission`
(an unassigned or conflicted project is the 404 page), the organizers' pages take
`OrganizerEventDep` (404 to the public, 403 to judges and mentors), as the rest of the judging
pages; signed out, all of them send to the log-in page. A flag is a `kit.form_action` (the API's
`FlagIn`; refused, the scoring page comes back with the input kept and the message on its field);
the other actions are `kit.act` (flash and 303).
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from hackops.browser import flash
from hackops.db import SessionDep
from hackops.errors import AppError
from hackops.events.access import EventAccess
from hackops.judging.flags import service as flags
from hackops.judging.flags.schemas import FlagIn, ResolveIn
from hackops.judging.scoring import service as evaluations
from hackops.submissions.intake.visibility import judged_title
from hackops.web import kit
from hackops.web.deps import EventPageDep, OrganizerEventDep, page_router
from hackops.web.judging.score import scoring_page

router = page_router()

JUDGING = kit.EVENT_BASE + "/judging"

FLAGS = kit.ADMIN + "/judging/flags"
PAGE_SIZE = 50
STATE_OPTIONS = [("", "Any state"), ("open", "Open"), ("resolved", "Resolved")]
FLAG_HINTS = {"reason": "Choose a reason.", "note": f"At most {flags.NOTE_MAX} characters."}
NOTE_ERRORS: dict[type[AppError] | str, str] = {
    flags.FlagNoteRequired: "note",
    flags.FlagNoteTooLong: "note",
}
RESOLUTION_HINT = f"Say how it was resolved, in at most {flags.NOTE_MAX} characters."


# --- the judge, on the scoring page -------------------------------------------------------------


@router.post(JUDGING + "/{submission_id}/flag")
async def flag_project(
    submission_id: uuid.UUID, request: Request, session: SessionDep, access: EventPageDep
) -> Response:
    submission = await evaluations.assigned_submission(session, access, submission_id)
    data = await kit.form_data(request)
    form = kit.Form(values=kit.kept(data, "reason", "note"))

    async def flag(body: FlagIn) -> str:
        await flags.flag_submission(
            session,
            access,
            submission.id,
            reason=body.reason,
            note=body.note,
            base_url=kit.settings_of(request).base_url,
        )
        return await judged_title(session, submission)  # as the judge knows it, not the draft's

    async def page(form: kit.Form, status: int) -> Response:
        return await scoring_page(
            request, session, access, submission, status_code=status, flag_form=form
        )

    return await kit.form_action(
        request,
        session,
        form,
        model=FlagIn,
        data=kit.kept(data, "reason", "note"),
        call=flag,
        page=page,
        done=lambda title: f"“{title}” is flagged: the organizers have been emailed.",
        then=f"{kit.event_url(access)}/judging/{submission.id}#flag",
        hints=FLAG_HINTS,
        fields=NOTE_ERRORS,
        expire=(submission, access.event),
    )


@router.post(JUDGING + "/{submission_id}/flags/{flag_id}/withdraw")
async def withdraw_flag(
    submission_id: uuid.UUID,
    flag_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    access: EventPageDep,
) -> Response:
    submission = await evaluations.assigned_submission(session, access, submission_id)
    return await kit.act(
        request,
        session,
        f"{kit.event_url(access)}/judging/{submission.id}#flag",
        lambda: flags.withdraw(session, access, flag_id),
        "Flag withdrawn.",
    )


# --- the organizers -----------------------------------------------------------------------------


def _state(value: str | None) -> str:
    return value if value in ("open", "resolved") else ""


def _offset(value: str | None) -> int:
    return min(int(value), 100_000) if value and value.isdigit() else 0


def _list_url(base: str, state: str, offset: int = 0) -> str:
    query = urlencode(
        {**({"status": state} if state else {}), **({"offset": offset} if offset else {})}
    )
    return f"{base}?{query}" if query else base


@router.get(FLAGS, name="judging_flags")
async def flags_page(request: Request, session: SessionDep, access: OrganizerEventDep) -> Response:
    state = _state(request.query_params.get("status"))
    offset = _offset(request.query_params.get("offset"))
    rows = await flags.list_flags(
        session, access, status=state or None, limit=PAGE_SIZE + 1, offset=offset
    )
    page = kit.admin_base(access) + "/judging/flags"
    context = await kit.admin_context(
        session,
        access,
        "judging",
        page=page,
        rows=rows[:PAGE_SIZE],
        state=state,
        state_options=STATE_OPTIONS,
        reasons=flags.SHORT_LABELS,
        back=_list_url(page, state, offset),
        newer_url=_list_url(page, state, max(offset - PAGE_SIZE, 0)) if offset else None,
        older_url=_list_url(page, state, offset + PAGE_SIZE) if len(rows) > PAGE_SIZE else None,
        when=kit.clock(access.event.timezone),
    )
    return kit.render(request, "judging/flags.html", context)


def _back(access: EventAccess, data: dict[str, str]) -> str:
    """Where the resolve form was: the project's review page, or the flags list (its filter
    kept) — rebuilt from parsed values, never a posted address."""
    if data.get("return_to") == "submission":
        try:
            submission_id = uuid.UUID(data.get("submission_id", ""))
        except ValueError:
            submission_id = None
        if submission_id is not None:
            return f"{kit.admin_base(access)}/submissions/{submission_id}#judge-flags"
    page = kit.admin_base(access) + "/judging/flags"
    return _list_url(page, _state(data.get("status")), _offset(data.get("offset")))


@router.post(FLAGS + "/{flag_id}/resolve")
async def resolve_flag(
    flag_id: uuid.UUID, request: Request, session: SessionDep, access: OrganizerEventDep
) -> Response:
    data = await kit.form_data(request)
    back = _back(access, data)
    form = kit.Form()
    body = kit.validated(
        ResolveIn, {"resolution": data.get("resolution", "")}, form, {"resolution": RESOLUTION_HINT}
    )
    if body is None:
        flash(request, RESOLUTION_HINT, "error")
        return kit.redirect(back)
    resolution = body.resolution
    return await kit.act(
        request,
        session,
        back,
        lambda: flags.resolve(session, access, flag_id, resolution=resolution),
        "The flag is resolved; the judge can read your note.",
    )
