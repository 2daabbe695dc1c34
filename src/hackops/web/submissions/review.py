"""The organizers' submission pages: the review queue (filters by state, track, open duplicate
flags, failed processing, search; bulk approve / reject with a reason), one submission (content,
versions, files, processing with a re-run per step, decision, reopening, duplicate flags side by
side with dismiss / confirm, judges' flags with their resolve forms), and opening or closing the
public gallery. The queue counts each project's open judges' flags next to its duplicate flags.

Who may: the event's organizers (`web.deps.OrganizerPageDep`, as the API's
`EventOrganizerDep`): participants and the public get the 404 page, judges and mentors 403. Every
change calls the same `submissions.review` function as the API, in a savepoint; the result or
the refusal is flashed on the page the form was on.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from fastapi import Path, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.browser import flash
from hackops.events.deps import EventAccess
from hackops.events.tracks.service import list_tracks
from hackops.judging.flags import service as judge_flags
from hackops.models import Event, PipelineStepName, Submission, SubmissionStatus, Team
from hackops.submissions.files.kinds import human_size
from hackops.submissions.intake import service
from hackops.submissions.pipeline.tasks import rerun_step
from hackops.submissions.review import service as review
from hackops.submissions.schemas import BulkDecisionIn, DecisionIn, FlagDecisionIn
from hackops.teams.access import load_team
from hackops.web import eventkit, kit
from hackops.web.deps import OrganizerPageDep, page_router
from hackops.web.submissions import processing

router = page_router()

M = TypeVar("M", bound=BaseModel)

QUEUE = kit.ADMIN + "/submissions"
ONE = QUEUE + "/{submission_id}"
PAGE_SIZE = 50
DECIDED = [s for s in SubmissionStatus if s is not SubmissionStatus.DRAFT]
STATE_OPTIONS = [("", "Any state")] + [
    (s.value, processing.STATUS_LABELS[s.value]) for s in DECIDED
]
DECISION_OPTIONS = [
    (s.value, processing.STATUS_LABELS[s.value]) for s in DECIDED if s.value != "submitted"
]
YES_NO_OPTIONS = [("", "Either"), ("yes", "Yes"), ("no", "No")]
SORT_OPTIONS = [
    ("submitted", "Newest first"),
    ("-submitted", "Oldest first"),
    ("title", "Title"),
]
FLAG_KINDS = {"text": "similar text", "file": "identical file"}


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def queue_filters(request: Request) -> dict[str, str]:
    """The queue's filters from the query string; unknown values are dropped, not refused."""
    params = request.query_params
    status = params.get("status", "")
    track = params.get("track", "")
    sort = params.get("sort", "")
    return {
        "status": status if status in {v for v, _ in STATE_OPTIONS} else "",
        "track": track if _uuid(track) else "",
        "flagged": params.get("flagged", "") if params.get("flagged") in ("yes", "no") else "",
        "failed": params.get("failed", "") if params.get("failed") in ("yes", "no") else "",
        "q": params.get("q", "")[:200].strip(),
        "sort": sort if sort in {v for v, _ in SORT_OPTIONS} else "submitted",
    }


def _offset(request: Request) -> int:
    raw = request.query_params.get("offset", "0")
    return min(int(raw), 100_000) if raw.isdigit() else 0


def _back(access: EventAccess, data: dict[str, str]) -> str:
    """Back to the queue page the form was on (its filters kept), never anywhere else."""
    queue = eventkit.admin_base(access) + "/submissions"
    # Re-encoded, so whatever was posted can only ever be this page's query string.
    query = urlencode(parse_qsl(data.get("back_query", "")[:2000]))
    return f"{queue}?{query}" if query else queue


# --- the queue ---------------------------------------------------------------------------------


@router.get(QUEUE, name="review_queue")
async def queue_page(page: OrganizerPageDep) -> Response:
    session, access = page.session, page.access
    filters = queue_filters(page.request)
    offset = _offset(page.request)
    rows = await review.review_queue(
        session,
        access,
        status=filters["status"] or None,
        track_id=_uuid(filters["track"]) if filters["track"] else None,
        flagged=_yes_no(filters["flagged"]),
        pipeline_failed=_yes_no(filters["failed"]),
        q=filters["q"] or None,
        sort=filters["sort"],
        limit=PAGE_SIZE + 1,
        offset=offset,
    )
    tracks = await list_tracks(session, access.event)
    active = {k: v for k, v in filters.items() if v and not (k == "sort" and v == "submitted")}

    def at(start: int) -> str:
        return "?" + urlencode({**active, **({"offset": start} if start else {})})

    return await page.render(
        "submissions/review_queue.html",
        "submissions",
        rows=rows[:PAGE_SIZE],
        filters=filters,
        back_query=urlencode({**active, **({"offset": offset} if offset else {})}),
        state_options=STATE_OPTIONS,
        yes_no=YES_NO_OPTIONS,
        sort_options=SORT_OPTIONS,
        status_labels=processing.STATUS_LABELS,
        tracks=tracks,
        track_names={t.id: t.name for t in tracks},
        newer_url=at(max(offset - PAGE_SIZE, 0)) if offset else None,
        older_url=at(offset + PAGE_SIZE) if len(rows) > PAGE_SIZE else None,
        gallery_url=page.at().removesuffix("/admin") + "/gallery",
        when=eventkit.clock(access.event.timezone),
        judge_flags=await judge_flags.open_counts(
            session, access, [row.submission.id for row in rows[:PAGE_SIZE]]
        ),
    )


@router.post(QUEUE + "/decide")
async def decide_many(page: OrganizerPageDep) -> Response:
    session, access = page.session, page.access
    data = await kit.form_data(page.request)
    back = _back(access, data)
    ids = [i for i in (await page.request.form()).getlist("ids") if isinstance(i, str)]
    if not ids:
        flash(page.request, "Tick the submissions to decide first.", "error")
        return kit.redirect(back)

    async def decide(body: BulkDecisionIn) -> str:
        count = await review.decide(
            session, access, body.submission_ids, status=body.status, reason=body.reason
        )
        label = processing.STATUS_LABELS[body.status]
        return f"{count} {'submission' if count == 1 else 'submissions'} marked {label}."

    return await page.act_checked(
        back,
        model=BulkDecisionIn,
        data={
            "submission_ids": ids,
            "status": data.get("status", ""),
            "reason": data.get("reason", ""),
        },
        action=decide,
        done=kit.said,
    )


@router.post(kit.ADMIN + "/gallery/{verb}")
async def gallery_switch(
    verb: Annotated[str, Path(pattern="^(open|close)$")], page: OrganizerPageDep
) -> Response:
    back = _back(page.access, await kit.form_data(page.request))

    async def switch() -> str:
        await review.set_gallery(page.session, page.access, open_=verb == "open")
        if verb == "open":
            return "The gallery is open: approved projects are public."
        return "The gallery is closed."

    return await page.act(back, switch, kit.said)


# --- one submission ----------------------------------------------------------------------------


async def _flag_sides(
    session: AsyncSession, ids: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[Submission, str, Event]]:
    """Both sides of the flags (the other one may be in an earlier event), in one query."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Submission, Team.name, Event)
        .join(Team, Team.id == Submission.team_id)
        .join(Event, Event.id == Submission.event_id)
        .where(Submission.id.in_(ids))
    )
    return {row[0].id: (row[0], row[1], row[2]) for row in rows}


@router.get(ONE, name="review_submission")
async def submission_page(submission_id: uuid.UUID, page: OrganizerPageDep) -> Response:
    session, access = page.session, page.access
    submission = await review.get_for_organizer(session, access, submission_id)
    view = await load_team(session, access, submission.team_id)
    tracks = await list_tracks(session, access.event)
    versions = await service.versions(session, submission)
    steps = await processing.pipeline_steps(session, submission)
    flags = await review.list_flags(
        session, access, submission_id=submission.id, limit=50, offset=0
    )
    sides = await _flag_sides(
        session, {f.submission_id for f in flags} | {f.other_submission_id for f in flags}
    )
    here = page.at(f"/submissions/{submission.id}")
    busy = processing.processing(steps)
    return await page.render(
        "submissions/review_show.html",
        "submissions",
        headers={"Refresh": "3"} if busy else None,
        submission=submission,
        team=view.team,
        team_url=processing.page_url(view).removesuffix("/submission"),
        files_url=processing.page_url(view) + "/files",
        here=here,
        rerun_base=here + "/pipeline" if submission.latest_version_id else None,
        files=await service.list_files(session, submission),
        versions=versions,
        names=await processing.user_names(session, (v.submitted_by for v in versions)),
        steps=steps,
        processing=busy,
        failed_links=await processing.failed_links(session, submission),
        flags=flags,
        sides=sides,
        flag_kinds=FLAG_KINDS,
        track_names={t.id: t.name for t in tracks},
        status_labels=processing.STATUS_LABELS,
        state_labels=processing.STEP_STATE_LABELS,
        decision_options=DECISION_OPTIONS,
        step_label=processing.step_label,
        size=human_size,
        reopen_value=eventkit.local_value(
            submission.reopened_until, ZoneInfo(access.event.timezone)
        ),
        when=eventkit.clock(access.event.timezone),
        # What judges flagged about it (resolved in web/judging/flags.py, back to this page).
        judge_flags=await judge_flags.list_flags(
            session, access, submission_id=submission.id, limit=50
        ),
        judge_flags_url=page.at("/judging/flags"),
        reasons=judge_flags.SHORT_LABELS,
    )


async def _decision(
    page: eventkit.AdminPage,
    submission_id: uuid.UUID,
    model: type[M],
    fields: tuple[str, ...],
    decide: Callable[[M], Awaitable[str]],
) -> Response:
    """A decision form of the submission's page (the submission's, or a flag's): its `fields`
    checked by the API's `model`, `decide(body)` says what it did; back to the page."""
    data = await kit.form_data(page.request)
    return await page.act_checked(
        page.at(f"/submissions/{submission_id}"),
        model=model,
        data=kit.kept(data, *fields),
        action=decide,
        done=kit.said,
    )


@router.post(ONE + "/decision")
async def decide_one(submission_id: uuid.UUID, page: OrganizerPageDep) -> Response:
    async def decide(body: DecisionIn) -> str:
        await review.decide(
            page.session, page.access, [submission_id], status=body.status, reason=body.reason
        )
        return f"The submission is marked {processing.STATUS_LABELS[body.status]}."

    return await _decision(page, submission_id, DecisionIn, ("status", "reason"), decide)


@router.post(ONE + "/reopen")
async def reopen(submission_id: uuid.UUID, page: OrganizerPageDep) -> Response:
    here = page.at(f"/submissions/{submission_id}")
    raw = (await kit.form_data(page.request)).get("until", "")
    try:
        until = eventkit.parse_local(raw, ZoneInfo(page.access.event.timezone))
    except ValueError as exc:
        message = str(exc) if "exist" in str(exc) else "A date and time like 2031-06-04T09:30."
        flash(page.request, f"Reopen until: {message}", "error")
        return kit.redirect(here)

    async def reopen_it() -> str:
        await review.reopen(page.session, page.access, submission_id, until=until)
        return "The submission is back to draft: the team can change it and submit again."

    return await page.act(here, reopen_it, kit.said)


@router.post(ONE + "/pipeline/{step}/rerun")
async def rerun(
    submission_id: uuid.UUID,
    step: PipelineStepName,
    page: OrganizerPageDep,
) -> Response:
    session, access = page.session, page.access

    async def rerun_it() -> str:
        submission = await review.get_for_organizer(session, access, submission_id)
        if submission.latest_version_id is None:
            raise review.NotSubmitted
        await rerun_step(session, access.actor, submission, step)
        return f"{processing.step_label(step.value)} runs again."

    return await page.act(page.at(f"/submissions/{submission_id}"), rerun_it, kit.said)


@router.post(ONE + "/flags/{flag_id}")
async def decide_flag(
    submission_id: uuid.UUID,
    flag_id: uuid.UUID,
    page: OrganizerPageDep,
) -> Response:
    done = {"dismissed": "dismissed", "confirmed": "confirmed", "open": "opened again"}

    async def decide(body: FlagDecisionIn) -> str:
        await review.decide_flag(
            page.session, page.access, flag_id, status=body.status, note=body.note
        )
        return f"The flag is {done[body.status]}."

    return await _decision(page, submission_id, FlagDecisionIn, ("status", "note"), decide)
