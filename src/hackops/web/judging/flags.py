"""Judges' flags, the organizers' side: they read the event's flags (open first, filter by state)
and resolve each with a note the judge reads — here, or from the project's review page. A judge
flags a project, or withdraws their open flag, on the scoring page (`score.py`).

Who may: `OrganizerPageDep` (signed out: the log-in page; 404 to the public, 403 to judges and
mentors), as the rest of the judging admin. Resolving is a `kit.act` (flash and 303), its note
checked with the API's `ResolveIn`.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi.responses import Response

from hackops.browser import flash
from hackops.events.access import EventAccess
from hackops.judging.flags import service as flags
from hackops.judging.flags.schemas import ResolveIn
from hackops.web import eventkit, kit
from hackops.web.deps import OrganizerPageDep, page_router

router = page_router()

FLAGS = kit.ADMIN + "/judging/flags"
PAGE_SIZE = 50
STATE_OPTIONS = [("", "Any state"), ("open", "Open"), ("resolved", "Resolved")]
RESOLUTION_HINT = f"Say how it was resolved, in at most {flags.NOTE_MAX} characters."


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
async def flags_page(page: OrganizerPageDep) -> Response:
    query = page.request.query_params
    state = _state(query.get("status"))
    offset = _offset(query.get("offset"))
    rows = await flags.list_flags(
        page.session, page.access, status=state or None, limit=PAGE_SIZE + 1, offset=offset
    )
    here = page.at("/judging/flags")
    return await page.render(
        "judging/flags.html",
        "judging",
        page=here,
        rows=rows[:PAGE_SIZE],
        state=state,
        state_options=STATE_OPTIONS,
        reasons=flags.SHORT_LABELS,
        back=_list_url(here, state, offset),
        newer_url=_list_url(here, state, max(offset - PAGE_SIZE, 0)) if offset else None,
        older_url=_list_url(here, state, offset + PAGE_SIZE) if len(rows) > PAGE_SIZE else None,
        when=eventkit.clock(page.access.event.timezone),
    )


def _back(access: EventAccess, data: dict[str, str]) -> str:
    """Where the resolve form was: the project's review page, or the flags list (its filter
    kept) — rebuilt from parsed values, never a posted address."""
    if data.get("return_to") == "submission":
        try:
            submission_id = uuid.UUID(data.get("submission_id", ""))
        except ValueError:
            submission_id = None
        if submission_id is not None:
            return f"{eventkit.admin_base(access)}/submissions/{submission_id}#judge-flags"
    page = eventkit.admin_base(access) + "/judging/flags"
    return _list_url(page, _state(data.get("status")), _offset(data.get("offset")))


@router.post(FLAGS + "/{flag_id}/resolve")
async def resolve_flag(flag_id: uuid.UUID, page: OrganizerPageDep) -> Response:
    session, access = page.session, page.access
    data = await kit.form_data(page.request)
    back = _back(access, data)
    form = kit.Form()
    body = kit.validated(
        ResolveIn, {"resolution": data.get("resolution", "")}, form, {"resolution": RESOLUTION_HINT}
    )
    if body is None:
        flash(page.request, RESOLUTION_HINT, "error")
        return kit.redirect(back)
    resolution = body.resolution
    return await page.act(
        back,
        lambda: flags.resolve(session, access, flag_id, resolution=resolution),
        "The flag is resolved; the judge can read your note.",
    )
