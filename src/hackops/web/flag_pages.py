"""Judges' flag pages: on the scoring page a judge flags the project to the organizers (a reason,
a note) or withdraws their open flag; organizers read the event's flags (open first, filter by
state) and resolve each with a note the judge reads — here, or from the project's review page.

Who may: the judge's posts go through `evaluations.assigned_submission` (an unassigned or conflicted
project is the 404 page), the organizers' pages through `organizer_access` (404 to the public,
403 to judges and mentors), as the rest of the judging pages. Input is checked with the API's
own models; the service runs in a savepoint. A refused flag re-renders the scoring page with the
input kept and the message on its field; the other actions flash and redirect (303).
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import Response

from hackops.accounts.deps import get_actor
from hackops.browser import csrf_protect, flash
from hackops.db import SessionDep
from hackops.errors import AppError
from hackops.events.deps import EventAccess
from hackops.judging.flags import service as flags
from hackops.judging.flags.schemas import FlagIn, ResolveIn
from hackops.judging.scoring import service as evaluations
from hackops.routing import Router
from hackops.submissions.intake.visibility import judged_title
from hackops.web.judging_pages import (
    ADMIN,
    JUDGING,
    OrganizerPage,
    PageAccess,
    _event_url,
    _scoring_page,
)
from hackops.web.kit import (
    Form,
    act,
    admin_base,
    admin_context,
    all_or_nothing,
    clock,
    form_data,
    fresh,
    kept,
    redirect,
    refuse,
    render,
    settings_of,
    to_login,
    validated,
)

router = Router(
    dependencies=[Depends(csrf_protect), Depends(get_actor)],
    include_in_schema=False,
)

FLAGS = ADMIN + "/flags"
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
    submission_id: uuid.UUID, request: Request, session: SessionDep, access: PageAccess
) -> Response:
    if access is None:
        return to_login(request)
    submission = await evaluations.assigned_submission(session, access, submission_id)
    data = await form_data(request)
    form = Form(values=kept(data, "reason", "note"))
    body = validated(FlagIn, kept(data, "reason", "note"), form, FLAG_HINTS)
    if body is None:
        return await _scoring_page(
            request, session, access, submission, status_code=422, flag_form=form
        )
    try:
        async with all_or_nothing(session):
            await flags.flag_submission(
                session,
                access,
                submission.id,
                reason=body.reason,
                note=body.note,
                base_url=settings_of(request).base_url,
            )
    except AppError as exc:
        await fresh(session, submission)
        await fresh(session, access.event)
        status = refuse(form, exc, NOTE_ERRORS)
        return await _scoring_page(
            request, session, access, submission, status_code=status, flag_form=form
        )
    title = await judged_title(session, submission)  # as the judge knows it, not the draft's
    flash(request, f"“{title}” is flagged: the organizers have been emailed.", "success")
    return redirect(f"{_event_url(access)}/judging/{submission.id}#flag")


@router.post(JUDGING + "/{submission_id}/flags/{flag_id}/withdraw")
async def withdraw_flag(
    submission_id: uuid.UUID,
    flag_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    access: PageAccess,
) -> Response:
    if access is None:
        return to_login(request)
    submission = await evaluations.assigned_submission(session, access, submission_id)
    return await act(
        request,
        session,
        f"{_event_url(access)}/judging/{submission.id}#flag",
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
async def flags_page(request: Request, session: SessionDep, access: OrganizerPage) -> Response:
    if access is None:
        return to_login(request)
    state = _state(request.query_params.get("status"))
    offset = _offset(request.query_params.get("offset"))
    rows = await flags.list_flags(
        session, access, status=state or None, limit=PAGE_SIZE + 1, offset=offset
    )
    page = admin_base(access) + "/judging/flags"
    context = await admin_context(
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
        when=clock(access.event.timezone),
    )
    return render(request, "judging/flags.html", context)


def _back(access: EventAccess, data: dict[str, str]) -> str:
    """Where the resolve form was: the project's review page, or the flags list (its filter
    kept) — rebuilt from parsed values, never a posted address."""
    if data.get("return_to") == "submission":
        try:
            submission_id = uuid.UUID(data.get("submission_id", ""))
        except ValueError:
            submission_id = None
        if submission_id is not None:
            return f"{admin_base(access)}/submissions/{submission_id}#judge-flags"
    page = admin_base(access) + "/judging/flags"
    return _list_url(page, _state(data.get("status")), _offset(data.get("offset")))


@router.post(FLAGS + "/{flag_id}/resolve")
async def resolve_flag(
    flag_id: uuid.UUID, request: Request, session: SessionDep, access: OrganizerPage
) -> Response:
    if access is None:
        return to_login(request)
    data = await form_data(request)
    back = _back(access, data)
    form = Form()
    body = validated(
        ResolveIn, {"resolution": data.get("resolution", "")}, form, {"resolution": RESOLUTION_HINT}
    )
    if body is None:
        flash(request, RESOLUTION_HINT, "error")
        return redirect(back)
    resolution = body.resolution
    return await act(
        request,
        session,
        back,
        lambda: flags.resolve(session, access, flag_id, resolution=resolution),
        "The flag is resolved; the judge can read your note.",
    )
