"""Judging pages: a judge's queue (progress, declaring a conflict), the scoring page (the
project's content, files and extracted data; a number field per criterion; draft, or submit and
go to the next unscored project; the judge's flags to the organizers, posted to `judging/flags.py`)
and the organizers' judging admin (criteria, assignment runs with their report, judge-team
conflicts, the ranking: normalized score and raw mean side by side, overall or per track
(`web/judging/ranking.py`), a link to the flags).

Authorizing is the services' (`require_judge`, `assigned_submission`: an unassigned or conflicted
project is the 404 page) and `organizer_access` (404 to the public, 403 to judges and mentors).
Keyboard: the queue focuses its "next unscored" link; the scoring page focuses the first score,
Tab goes from score to score, Enter presses the form's first button, "Submit and next".
The assignment report is the answer to its POST (the result of a run); other changes flash and
redirect. Display-only joins (projects with teams, declared conflicts) are read here.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.deps import ActorDep, get_actor
from hackops.browser import csrf_protect, flash
from hackops.db import SessionDep, db_now
from hackops.errors import AppError
from hackops.events.deps import EventAccess, load_event_access, organizer_access
from hackops.events.lifecycle import judging_closure
from hackops.events.roles import service as roles
from hackops.events.tracks import service as children
from hackops.judging import service
from hackops.judging.flags import service as flags
from hackops.judging.schemas import AssignIn, ConflictIn, CriterionIn, CriterionUpdate, EvaluationIn
from hackops.judging.scoring import service as evaluations
from hackops.models import (
    Criterion,
    Evaluation,
    JudgeConflict,
    LinkCheck,
    Submission,
    Team,
    User,
    VersionText,
)
from hackops.routing import Router, SlugPath
from hackops.submissions.files.router import signed_link
from hackops.submissions.intake import service as submissions
from hackops.submissions.intake.visibility import SubmittedCopy, judged_title
from hackops.web.judging.ranking import ranking_section
from hackops.web.kit import (
    Form,
    act,
    admin_context,
    all_or_nothing,
    form_data,
    fresh,
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
JUDGING = EVENT_BASE + "/judging"
ADMIN = EVENT_BASE + "/admin/judging"
CRITERION_FIELDS = ("name", "description", "weight", "max_score", "position", "track_id")
CRITERION_HINTS = {
    "weight": "A number above 0, at most 100.",
    "max_score": "A whole number from 1 to 100.",
    "position": "A whole number from 0 to 1000.",
    "track_id": "Choose one of the tracks.",
}


async def _page_access(
    slug: SlugPath, event_slug: SlugPath, session: SessionDep, actor: ActorDep
) -> EventAccess | None:
    """The event, authorized as for the API; None when nobody is signed in (log in first)."""
    return None if actor.user is None else await load_event_access(session, actor, slug, event_slug)


async def _organizer_page(
    access: Annotated[EventAccess | None, Depends(_page_access)],
) -> EventAccess | None:
    return None if access is None else await organizer_access(access)


PageAccess = Annotated[EventAccess | None, Depends(_page_access)]
OrganizerPage = Annotated[EventAccess | None, Depends(_organizer_page)]


def _event_url(access: EventAccess) -> str:
    return EVENT_BASE.format(slug=access.org.slug, event_slug=access.event.slug)


def number(value: Any) -> str:
    """A score as people write it: 7, 7.5 (never 7.0)."""
    return f"{float(value):g}"


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
async def judging_queue(request: Request, session: SessionDep, access: PageAccess) -> Response:
    if access is None:
        return to_login(request)
    rows = await evaluations.queue(session, access)
    context = {
        "access": access,
        "base": _event_url(access) + "/judging",
        "rows": rows,
        "done": _done(rows),
        "next_item": next_unscored(rows),
        "closed": await _judging_closed(session, access),
    }
    return render(request, "judging/queue.html", context)


@router.post(JUDGING + "/{submission_id}/conflict")
async def declare_my_conflict(
    submission_id: uuid.UUID, request: Request, session: SessionDep, access: PageAccess
) -> Response:
    if access is None:
        return to_login(request)
    submission = await evaluations.assigned_submission(session, access, submission_id)
    reason = (await form_data(request)).get("reason", "").strip()[:500]  # the field's maxlength
    title = await judged_title(session, submission)  # as the judge knows it, not the draft's
    return await act(
        request,
        session,
        _event_url(access) + "/judging",
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
    values = {score_field(c): number(scores[str(c.id)]) for c in criteria if str(c.id) in scores}
    values.update(private_comment=evaluation.private_comment, feedback=evaluation.feedback)
    return values


async def _extracted(
    session: AsyncSession, submission: Submission
) -> tuple[list[LinkCheck], list[VersionText]]:
    """What the pipeline found in the latest version: fetched links and extracted texts."""
    version = submission.latest_version_id
    if version is None:
        return [], []
    links = await session.scalars(
        select(LinkCheck).where(LinkCheck.version_id == version).order_by(LinkCheck.url)
    )
    texts = await session.scalars(
        select(VersionText).where(VersionText.version_id == version).order_by(VersionText.source)
    )
    return list(links), list(texts)


async def _scoring_page(
    request: Request,
    session: AsyncSession,
    access: EventAccess,
    submission: Submission,
    form: Form | None = None,
    status_code: int = 200,
    *,
    flag_form: Form | None = None,
) -> Response:
    rows = await evaluations.queue(session, access)
    mine = next((e for s, e in rows if s.id == submission.id), None)
    criteria = _criteria_of(await service.list_criteria(session, access), submission)
    links, texts = await _extracted(session, submission)
    shown, files = await submissions.judged_copy(session, submission)  # the submitted version
    context = {
        "access": access,
        "base": _event_url(access) + "/judging",
        "submission": shown,
        "criteria": criteria,
        "field_of": score_field,
        "form": form or Form(values=evaluation_values(criteria, mine)),
        "evaluation": mine,
        "files": files,
        "links": links,
        "texts": texts,
        "position": [s.id for s, _ in rows].index(submission.id) + 1,
        "total": len(rows),
        "done": _done(rows),
        "closed": await _judging_closed(session, access),
        # Flagging the project to the organizers (web/judging/flags.py takes the posts).
        "flags": await flags.own_flags(session, access, submission),
        "flag_form": flag_form or Form(),
        "flag_reasons": [("", "Choose a reason"), *flags.REASON_LABELS.items()],
    }
    return render(request, "judging/score.html", context, status_code=status_code)


@router.get(JUDGING + "/{submission_id}", name="judging_score")
async def scoring_form(
    submission_id: uuid.UUID, request: Request, session: SessionDep, access: PageAccess
) -> Response:
    if access is None:
        return to_login(request)
    submission = await evaluations.assigned_submission(session, access, submission_id)
    return await _scoring_page(request, session, access, submission)


def read_scores(
    criteria: list[Criterion], data: Mapping[str, str], form: Form, *, submit: bool
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
    submission_id: uuid.UUID, request: Request, session: SessionDep, access: PageAccess
) -> Response:
    if access is None:
        return to_login(request)
    submission = await evaluations.assigned_submission(session, access, submission_id)
    criteria = _criteria_of(await service.list_criteria(session, access), submission)
    data = await form_data(request)
    submit = data.get("action") != "draft"
    form = Form(values=kept(data, "private_comment", "feedback", *map(score_field, criteria)))
    scores = read_scores(criteria, data, form, submit=submit)
    raw = {**kept(data, "private_comment", "feedback"), "scores": scores, "submit": submit}
    body = validated(EvaluationIn, raw, form)
    if body is None or form.failed:
        if any(e.startswith("Score this") for e in form.errors.values()):
            form.error = "Score every criterion before submitting, or save a draft."
        return await _scoring_page(request, session, access, submission, form, 422)
    try:
        async with all_or_nothing(session):
            await evaluations.evaluate(
                session,
                access,
                submission.id,
                scores=body.scores,
                private_comment=body.private_comment,
                feedback=body.feedback,
                submit=submit,
            )
    except AppError as exc:
        await fresh(session, submission)
        await fresh(session, access.event)
        status = refuse(form, exc)
        details = exc.details if isinstance(exc.details, dict) else {}
        if details.get("criterion_id"):
            form.errors[f"score-{details['criterion_id']}"] = exc.message
        return await _scoring_page(request, session, access, submission, form, status)
    here = _event_url(access) + "/judging"
    title = await judged_title(session, submission)  # as the judge knows it, not the draft's
    if not submit:
        flash(request, f"Draft saved for “{title}”.", "success")
        return redirect(f"{here}/{submission.id}")
    following = next_unscored(await evaluations.queue(session, access), after=submission.id)
    flash(request, f"Scores submitted for “{title}”.", "success")
    return redirect(f"{here}/{following.id}" if following is not None else here)


@router.get(JUDGING + "/{submission_id}/files/{file_id}")
async def open_file(
    submission_id: uuid.UUID,
    file_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    access: PageAccess,
) -> Response:
    """A file of a project in my queue: a fresh signed link (audited as the API's), followed."""
    if access is None:
        return to_login(request)
    submission = await evaluations.assigned_submission(session, access, submission_id)
    _, files = await submissions.judged_copy(session, submission)  # the submitted version's
    file = next((f for f in files if f.id == file_id), None)
    if file is None:
        raise submissions.FileNotFound
    await submissions.record_link_issued(session, access.actor, file)
    return redirect(signed_link(request, file).url)


# --- organizers: criteria, assignment, conflicts, ranking ----------------------------------------


async def _projects(session: AsyncSession, access: EventAccess) -> dict[Any, tuple[str, Team]]:
    """Every project of the event and its team (names for the ranking, report and forms)."""
    rows = await session.execute(
        select(Submission.id, Submission.title, Team)
        .join(Team, Team.id == Submission.team_id)
        .where(Submission.event_id == access.event.id)
        .order_by(Team.name, Team.id)
    )
    return {sid: (title, team) for sid, title, team in rows}


async def _judges(session: AsyncSession, access: EventAccess) -> dict[uuid.UUID, User]:
    grants = await roles.list_role_grants(session, access.event)
    return {user.id: user for grant, user in grants if grant.role == "judge"}


def criterion_values(criterion: Criterion) -> dict[str, str]:
    values = {n: str(getattr(criterion, n)) for n in CRITERION_FIELDS[:-1]}
    return {**values, "weight": number(criterion.weight)}


async def _admin_page(
    request: Request,
    session: AsyncSession,
    access: EventAccess,
    *,
    status_code: int = 200,
    **forms: Any,
) -> Response:
    tracks = await children.list_tracks(session, access.event)
    # The method and track of the ranking (judging/ranking.py): 404 for a track not of the event.
    shown = await ranking_section(session, access, request.query_params, tracks)
    criteria = await service.list_criteria(session, access)
    edit = request.query_params.get("edit")
    editing = forms.get("editing") or next((c for c in criteria if str(c.id) == edit), None)
    defaults, event_id = {"weight": "1", "max_score": "10", "position": "0"}, access.event.id
    context = await admin_context(
        session,
        access,
        "judging",
        page=_event_url(access) + "/admin/judging",
        criteria=criteria,
        editing=editing,
        edit_form=forms.get("edit_form")
        or Form(values=criterion_values(editing) if editing else {}),
        # Scores exist: only descriptions can change (the service refuses the rest).
        locked=bool(await session.scalar(select(exists().where(Evaluation.event_id == event_id)))),
        track_names={t.id: t.name for t in tracks},
        track_options=[("", "Every project")] + [(str(t.id), t.name) for t in tracks],
        criterion_form=forms.get("criterion_form") or Form(values=defaults),
        assign_form=forms.get("assign_form") or Form(values={"k": "3"}),
        conflict_form=forms.get("conflict_form") or Form(),
        report=forms.get("report"),
        judges=list((await _judges(session, access)).values()),
        projects=await _projects(session, access),
        conflicts=list(
            await session.execute(
                select(JudgeConflict, User, Team.name)
                .join(User, User.id == JudgeConflict.judge_id)
                .join(Team, Team.id == JudgeConflict.team_id)
                .where(JudgeConflict.event_id == event_id)
                .order_by(JudgeConflict.created_at.desc(), JudgeConflict.id)
            )
        ),
        **shown,
        number=number,
        open_flags=await flags.count_open(session, access),
    )
    return render(request, "judging/admin.html", context, status_code=status_code)


@router.get(ADMIN, name="judging_admin")
async def judging_admin(request: Request, session: SessionDep, access: OrganizerPage) -> Response:
    if access is None:
        return to_login(request)
    return await _admin_page(request, session, access)


def _criterion_input(data: Mapping[str, str], names: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {n: data[n] for n in names if n in data}
    if "track_id" in values:
        values["track_id"] = values["track_id"] or None
    return values


@router.post(ADMIN + "/criteria")
@router.post(ADMIN + "/criteria/{criterion_id}/edit")
async def save_criterion(
    request: Request,
    session: SessionDep,
    access: OrganizerPage,
    criterion_id: uuid.UUID | None = None,
) -> Response:
    """Adds a criterion, or saves the fields an edit form posted: once scores exist it posts only
    the description (the service refuses the rest); a criterion keeps its track."""
    if access is None:
        return to_login(request)
    criteria = await service.list_criteria(session, access) if criterion_id else []
    editing = next((c for c in criteria if c.id == criterion_id), None)
    if criterion_id is not None and editing is None:
        raise service.CriterionNotFound
    data = await form_data(request)
    names = CRITERION_FIELDS if editing is None else CRITERION_FIELDS[:-1]
    values = criterion_values(editing) if editing else {}
    form = Form(values={**values, **{n: data[n] for n in names if n in data}})
    model = CriterionIn if editing is None else CriterionUpdate
    body = validated(model, _criterion_input(data, names), form, CRITERION_HINTS)
    status = 422
    if body is not None:
        try:
            async with all_or_nothing(session):
                if editing is None:
                    await service.create_criterion(session, access, body.model_dump())
                else:
                    changes = body.model_dump(exclude_unset=True, exclude_none=True)
                    await service.update_criterion(session, access, editing.id, changes)
        except AppError as exc:
            status = refuse(form, exc)
        else:
            name = editing.name if editing else data.get("name", "").strip()
            flash(request, f"Criterion “{name}” {'saved' if editing else 'added'}.", "success")
            return redirect(_event_url(access) + "/admin/judging")
    forms = {"editing": editing, "edit_form": form} if editing else {"criterion_form": form}
    return await _admin_page(request, session, access, status_code=status, **forms)


@router.post(ADMIN + "/criteria/{criterion_id}/delete")
async def criterion_delete(
    criterion_id: uuid.UUID, request: Request, session: SessionDep, access: OrganizerPage
) -> Response:
    if access is None:
        return to_login(request)
    return await act(
        request,
        session,
        _event_url(access) + "/admin/judging",
        lambda: service.delete_criterion(session, access, criterion_id),
        "Criterion removed.",
    )


@router.post(ADMIN + "/assign")
async def run_assignment(request: Request, session: SessionDep, access: OrganizerPage) -> Response:
    """Runs the assignment and answers with the page showing its report."""
    if access is None:
        return to_login(request)
    data = await form_data(request)
    form = Form(values=kept(data, "k", "seed"))
    raw = {"k": data.get("k", "").strip(), "seed": data.get("seed", "").strip() or None}
    hints = {"k": "A whole number from 1 to 20.", "seed": "A whole number from 0 to 2147483647."}
    body = validated(AssignIn, raw, form, hints)
    if body is None:
        return await _admin_page(request, session, access, assign_form=form, status_code=422)
    try:
        async with all_or_nothing(session):
            report = await service.run_assignment(session, access, k=body.k, seed=body.seed)
    except AppError as exc:
        status = refuse(form, exc)
        return await _admin_page(request, session, access, assign_form=form, status_code=status)
    return await _admin_page(request, session, access, assign_form=form, report=report)


@router.post(ADMIN + "/conflicts")
async def declare_conflict(
    request: Request, session: SessionDep, access: OrganizerPage
) -> Response:
    if access is None:
        return to_login(request)
    data = await form_data(request)
    form = Form(values=kept(data, "judge_id", "team_id", "reason"))
    hints = {"judge_id": "Choose a judge.", "team_id": "Choose a team."}
    body = validated(ConflictIn, kept(data, "judge_id", "team_id", "reason"), form, hints)
    judges = await _judges(session, access)
    teams = {team.id: team for _, team in (await _projects(session, access)).values()}
    judge = judges.get(body.judge_id) if body is not None and body.judge_id else None
    team = teams.get(body.team_id) if body is not None else None
    if body is None or judge is None or team is None:
        for name, found in (("judge_id", judge), ("team_id", team)):
            if body is not None and found is None:
                form.errors[name] = hints[name]
        return await _admin_page(request, session, access, conflict_form=form, status_code=422)
    judge_id, team_id, reason = judge.id, team.id, body.reason
    return await act(
        request,
        session,
        _event_url(access) + "/admin/judging",
        lambda: service.declare_conflict(
            session, access, team_id=team_id, judge_id=judge_id, reason=reason
        ),
        f"Conflict recorded: {judge.name or judge.email} will not judge {team.name}.",
    )
