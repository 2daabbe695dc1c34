"""The judge's pages: the queue (progress, declaring a conflict) and the scoring page (the
project's content, files and extracted data; a number field per criterion; draft, or submit and
go to the next unscored project; the judge's flags to the organizers, raised and withdrawn
here, resolved by them in `flags.py`). The organizers' judging admin is `admin.py`.

Who may: `EventPageDep` (signed out: the log-in page), then the services (`require_judge`,
`assigned_submission`: an unassigned or conflicted project is the 404 page).
Keyboard: the queue focuses its "next unscored" link; the scoring page focuses the first score,
Tab goes from score to score, Enter presses the form's first button, "Submit and next".
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.db import SessionDep, db_now
from hackops.errors import AppError
from hackops.events.access import EventAccess
from hackops.events.lifecycle import judging_closure
from hackops.judging import criteria as judging_criteria
from hackops.judging import service
from hackops.judging.flags import service as flags
from hackops.judging.flags.schemas import FlagIn
from hackops.judging.schemas import EvaluationIn
from hackops.judging.scoring import service as evaluations
from hackops.models import (
    Criterion,
    Evaluation,
    LinkCheck,
    Submission,
    SubmissionFile,
    VersionText,
)
from hackops.submissions.files.router import signed_link
from hackops.submissions.intake import attachments, visibility
from hackops.submissions.intake.visibility import SubmittedCopy, judged_title
from hackops.web import eventkit, kit
from hackops.web.deps import EventPageDep, page_router

router = page_router()

JUDGING = kit.EVENT_BASE + "/judging"
FLAG_HINTS = {"reason": "Choose a reason.", "note": f"At most {flags.NOTE_MAX} characters."}
NOTE_ERRORS: dict[type[AppError] | str, str] = {
    flags.FlagNoteRequired: "note",
    flags.FlagNoteTooLong: "note",
}


def next_unscored(
    rows: list[tuple[SubmittedCopy, Evaluation | None]], after: uuid.UUID | None = None
) -> SubmittedCopy | None:
    """The first project after `after` (wrapping around) whose evaluation is not submitted."""
    ids = [s.id for s, _ in rows]
    start = ids.index(after) + 1 if after in ids else 0
    for submission, evaluation in rows[start:] + rows[:start]:
        if submission.id != after and (evaluation is None or evaluation.status != "submitted"):
            return submission
    return None


async def _judging_closed(session: AsyncSession, access: EventAccess) -> str | None:
    """Why judges can change nothing any more (the page says it and offers no form), or None."""
    event = access.event
    if event.results_published_at is None and event.judging_closes_at is None:
        return None  # open for good: no need to ask the clock
    closure = judging_closure(event, await db_now(session))
    return None if closure is None else closure.sentence(access.event.timezone)


# --- the judge's queue --------------------------------------------------------------------------


def _done(rows: list[tuple[SubmittedCopy, Evaluation | None]]) -> int:
    return sum(1 for _, e in rows if e is not None and e.status == "submitted")


@router.get(JUDGING, name="judging_queue")
async def judging_queue(request: Request, session: SessionDep, access: EventPageDep) -> Response:
    rows = await evaluations.queue(session, access)
    context = {
        "access": access,
        "base": eventkit.event_url(access) + "/judging",
        "rows": rows,
        "done": _done(rows),
        "next_item": next_unscored(rows),
        "closed": await _judging_closed(session, access),
    }
    return kit.render(request, "judging/queue.html", context)


@router.post(JUDGING + "/{submission_id}/conflict")
async def declare_my_conflict(
    submission_id: uuid.UUID, request: Request, session: SessionDep, access: EventPageDep
) -> Response:
    submission = await evaluations.assigned_submission(session, access, submission_id)
    reason = (await kit.form_data(request)).get("reason", "").strip()[:500]  # the field's maxlength
    title = await judged_title(session, submission)  # as the judge knows it, not the draft's
    return await kit.act(
        request,
        session,
        eventkit.event_url(access) + "/judging",
        lambda: service.declare_conflict(
            session, access, team_id=submission.team_id, judge_id=None, reason=reason
        ),
        f"Conflict declared: “{title}” left your queue.",
    )


# --- scoring ------------------------------------------------------------------------------------


def _criteria_of(criteria: list[Criterion], submission: Submission) -> list[Criterion]:
    """The criteria that apply to this project (as `evaluations.evaluate` counts them)."""
    return [c for c in criteria if c.track_id is None or c.track_id in submission.track_ids]


def score_field(criterion: Criterion) -> str:
    return f"score-{criterion.id}"


def evaluation_values(criteria: list[Criterion], evaluation: Evaluation | None) -> dict[str, str]:
    if evaluation is None:
        return {}
    scores = evaluation.scores
    values = {
        score_field(c): kit.number(scores[str(c.id)]) for c in criteria if str(c.id) in scores
    }
    values.update(private_comment=evaluation.private_comment, feedback=evaluation.feedback)
    return values


@dataclass(frozen=True)
class ExtractedText:
    """A text the pipeline extracted, labelled as people know its source."""

    label: str  # "the description", or the file's name
    content: str


def _text_label(source: str, file_names: Mapping[str, str]) -> str:
    if source == "description":
        return "the description"
    if source.startswith("file:"):
        return file_names.get(source, "a file no longer attached")
    return source


async def _extracted(
    session: AsyncSession, submission: Submission
) -> tuple[list[LinkCheck], list[ExtractedText]]:
    """What the pipeline found in the latest version: fetched links and extracted texts (a
    file's text is stored under `file:<id>`; it is shown under the file's name)."""
    version = submission.latest_version_id
    if version is None:
        return [], []
    links = await session.scalars(
        select(LinkCheck).where(LinkCheck.version_id == version).order_by(LinkCheck.url)
    )
    texts = list(
        await session.scalars(
            select(VersionText)
            .where(VersionText.version_id == version)
            .order_by(VersionText.source)
        )
    )
    file_ids = []
    for text in texts:
        try:
            file_ids.append(uuid.UUID(text.source.removeprefix("file:")))
        except ValueError:
            continue
    names = (
        {
            f"file:{file_id}": name
            for file_id, name in await session.execute(
                select(SubmissionFile.id, SubmissionFile.name).where(
                    SubmissionFile.id.in_(file_ids)
                )
            )
        }
        if file_ids
        else {}
    )
    labelled = [ExtractedText(_text_label(text.source, names), text.content) for text in texts]
    return list(links), labelled


async def scoring_page(
    request: Request,
    session: AsyncSession,
    access: EventAccess,
    submission: Submission,
    form: kit.Form | None = None,
    status_code: int = 200,
    *,
    flag_form: kit.Form | None = None,
) -> Response:
    rows = await evaluations.queue(session, access)
    mine = next((e for s, e in rows if s.id == submission.id), None)
    criteria = _criteria_of(await judging_criteria.list_criteria(session, access), submission)
    links, texts = await _extracted(session, submission)
    shown, files = await visibility.judged_copy(session, submission)  # the submitted version
    context = {
        "access": access,
        "base": eventkit.event_url(access) + "/judging",
        "submission": shown,
        "criteria": criteria,
        "field_of": score_field,
        "form": form or kit.Form(values=evaluation_values(criteria, mine)),
        "evaluation": mine,
        "files": files,
        "links": links,
        "texts": texts,
        "position": [s.id for s, _ in rows].index(submission.id) + 1,
        "total": len(rows),
        "done": _done(rows),
        "closed": await _judging_closed(session, access),
        # Flagging the project to the organizers (`flag_project` below takes the posts).
        "flags": await flags.own_flags(session, access, submission),
        "flag_form": flag_form or kit.Form(),
        "flag_reasons": [("", "Choose a reason"), *flags.REASON_LABELS.items()],
    }
    return kit.render(request, "judging/score.html", context, status_code=status_code)


@router.get(JUDGING + "/{submission_id}", name="judging_score")
async def scoring_form(
    submission_id: uuid.UUID, request: Request, session: SessionDep, access: EventPageDep
) -> Response:
    submission = await evaluations.assigned_submission(session, access, submission_id)
    return await scoring_page(request, session, access, submission)


def read_scores(
    criteria: list[Criterion], data: Mapping[str, str], form: kit.Form, *, submit: bool
) -> dict[str, float]:
    """The typed scores by criterion id; a message on each field that is not a number in range
    (or, when submitting, is empty)."""
    scores: dict[str, float] = {}
    for criterion in criteria:
        name = score_field(criterion)
        raw = data.get(name, "").strip()
        if not raw:
            if submit:
                form.errors[name] = "Score this criterion before submitting."
            continue
        try:
            value = float(raw.replace(",", "."))
        except ValueError:
            value = math.nan
        if not 0 <= value <= criterion.max_score:  # NaN fails too
            form.errors[name] = f"A number from 0 to {criterion.max_score}."
            continue
        scores[str(criterion.id)] = value
    return scores


@router.post(JUDGING + "/{submission_id}")
async def save_scores(
    submission_id: uuid.UUID, request: Request, session: SessionDep, access: EventPageDep
) -> Response:
    submission = await evaluations.assigned_submission(session, access, submission_id)
    criteria = _criteria_of(await judging_criteria.list_criteria(session, access), submission)
    data = await kit.form_data(request)
    submit = data.get("action") != "draft"
    form = kit.Form(
        values=kit.kept(data, "private_comment", "feedback", *map(score_field, criteria))
    )
    scores = read_scores(criteria, data, form, submit=submit)
    if any(e.startswith("Score this") for e in form.errors.values()):
        form.error = "Score every criterion before submitting, or save a draft."
    here = eventkit.event_url(access) + "/judging"

    async def evaluate(body: EvaluationIn) -> tuple[str, str]:
        """The project's title as the judge knows it (not the draft's), and where to go next."""
        await evaluations.evaluate(
            session,
            access,
            submission.id,
            scores=body.scores,
            private_comment=body.private_comment,
            feedback=body.feedback,
            submit=submit,
        )
        title = await judged_title(session, submission)
        if not submit:
            return title, f"{here}/{submission.id}"
        following = next_unscored(await evaluations.queue(session, access), after=submission.id)
        return title, f"{here}/{following.id}" if following is not None else here

    def refused(form: kit.Form, exc: AppError) -> int:
        status = kit.refuse(form, exc)
        details = exc.details if isinstance(exc.details, dict) else {}
        if details.get("criterion_id"):
            form.errors[f"score-{details['criterion_id']}"] = exc.message
        return status

    async def page(form: kit.Form, status: int) -> Response:
        return await scoring_page(request, session, access, submission, form, status)

    said = "Scores submitted for" if submit else "Draft saved for"
    return await kit.form_action(
        request,
        session,
        form,
        model=EvaluationIn,
        data={**kit.kept(data, "private_comment", "feedback"), "scores": scores, "submit": submit},
        call=evaluate,
        page=page,
        done=lambda result: f"{said} “{result[0]}”.",
        then=lambda result: result[1],
        refused=refused,
        expire=(submission, access.event),
    )


@router.get(JUDGING + "/{submission_id}/files/{file_id}")
async def open_file(
    submission_id: uuid.UUID,
    file_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    access: EventPageDep,
) -> Response:
    """A file of a project in my queue: a fresh signed link (audited as the API's), followed."""
    submission = await evaluations.assigned_submission(session, access, submission_id)
    _, files = await visibility.judged_copy(session, submission)  # the submitted version's
    file = next((f for f in files if f.id == file_id), None)
    if file is None:
        raise attachments.FileNotFound
    await attachments.record_link_issued(session, access.actor, file)
    return kit.redirect(signed_link(request, file).url)


# --- the judge's flags, on the scoring page ----------------------------------------------------


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
        then=f"{eventkit.event_url(access)}/judging/{submission.id}#flag",
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
        f"{eventkit.event_url(access)}/judging/{submission.id}#flag",
        lambda: flags.withdraw(session, access, flag_id),
        "Flag withdrawn.",
    )
