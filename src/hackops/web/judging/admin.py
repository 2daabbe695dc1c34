"""The organizers' judging admin: criteria, assignment runs with their report, judge-team
conflicts, the ranking: normalized score and raw mean side by side, overall or per track
(`ranking.py`), a link to the flags. The judge's pages are `score.py`.

Who may: `OrganizerPageDep` (signed out: the log-in page; 404 to the public, 403 to judges and
mentors). The assignment report is the answer to its POST (the result of a run); other changes
flash and redirect. Display-only joins (projects with teams, declared conflicts) are read here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from fastapi.responses import Response
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.events.access import EventAccess
from hackops.events.roles import service as roles
from hackops.events.tracks import service as children
from hackops.judging import criteria as judging_criteria
from hackops.judging import service
from hackops.judging.flags import service as flags
from hackops.judging.schemas import AssignIn, ConflictIn, CriterionIn, CriterionUpdate
from hackops.models import (
    Criterion,
    Evaluation,
    JudgeConflict,
    Submission,
    Team,
    User,
)
from hackops.results import readiness
from hackops.web import eventkit, kit
from hackops.web.deps import OrganizerPageDep, page_router
from hackops.web.judging.ranking import ranking_section

router = page_router()

ADMIN = kit.ADMIN + "/judging"
CRITERION_FIELDS = ("name", "description", "weight", "max_score", "position", "track_id")
CRITERION_HINTS = {
    "weight": "A number above 0, at most 100.",
    "max_score": "A whole number from 1 to 100.",
    "position": "A whole number from 0 to 1000.",
    "track_id": "Choose one of the tracks.",
}


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
    return {**values, "weight": kit.number(criterion.weight)}


async def _admin_page(
    page: eventkit.AdminPage, *, status_code: int = 200, **forms: Any
) -> Response:
    session, access, query = page.session, page.access, page.request.query_params
    tracks = await children.list_tracks(session, access.event)
    # The method and track of the ranking (judging/ranking.py): 404 for a track not of the event.
    shown = await ranking_section(session, access, query, tracks)
    criteria = await judging_criteria.list_criteria(session, access)
    edit = query.get("edit")
    editing = forms.get("editing") or next((c for c in criteria if str(c.id) == edit), None)
    defaults, event_id = {"weight": "1", "max_score": "10", "position": "0"}, access.event.id
    return await page.render(
        "judging/admin.html",
        "judging",
        status_code=status_code,
        page=page.at("/judging"),
        criteria=criteria,
        editing=editing,
        edit_form=forms.get("edit_form")
        or kit.Form(values=criterion_values(editing) if editing else {}),
        # Scores exist: only descriptions can change (the service refuses the rest).
        locked=bool(await session.scalar(select(exists().where(Evaluation.event_id == event_id)))),
        track_names={t.id: t.name for t in tracks},
        track_options=[("", "Every project")] + [(str(t.id), t.name) for t in tracks],
        criterion_form=forms.get("criterion_form") or kit.Form(values=defaults),
        assign_form=forms.get("assign_form") or kit.Form(values={"k": "3"}),
        conflict_form=forms.get("conflict_form") or kit.Form(),
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
        # After publication: whether the live ranking still matches the frozen one.
        drift=await readiness.drift(session, access),
        when=eventkit.clock(access.event.timezone),
        number=kit.number,
        open_flags=await flags.count_open(session, access),
    )


@router.get(ADMIN, name="judging_admin")
async def judging_admin(page: OrganizerPageDep) -> Response:
    return await _admin_page(page)


def _criterion_input(data: Mapping[str, str], names: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {n: data[n] for n in names if n in data}
    if "track_id" in values:
        values["track_id"] = values["track_id"] or None
    return values


@router.post(ADMIN + "/criteria")
@router.post(ADMIN + "/criteria/{criterion_id}/edit")
async def save_criterion(page: OrganizerPageDep, criterion_id: uuid.UUID | None = None) -> Response:
    """Adds a criterion, or saves the fields an edit form posted: once scores exist it posts only
    the description (the service refuses the rest); a criterion keeps its track."""
    session, access = page.session, page.access
    criteria = await judging_criteria.list_criteria(session, access) if criterion_id else []
    editing = next((c for c in criteria if c.id == criterion_id), None)
    if criterion_id is not None and editing is None:
        raise service.CriterionNotFound
    data = await kit.form_data(page.request)
    names = CRITERION_FIELDS if editing is None else CRITERION_FIELDS[:-1]
    values = criterion_values(editing) if editing else {}
    form = kit.Form(values={**values, **{n: data[n] for n in names if n in data}})
    model: type[CriterionIn | CriterionUpdate] = CriterionIn if editing is None else CriterionUpdate

    async def save(body: CriterionIn | CriterionUpdate) -> None:
        if editing is None:
            assert isinstance(body, CriterionIn)
            await judging_criteria.create_criterion(session, access, body)
        else:
            assert isinstance(body, CriterionUpdate)
            await judging_criteria.update_criterion(session, access, editing.id, body)

    async def again(form: kit.Form, status: int) -> Response:
        forms: dict[str, Any] = (
            {"editing": editing, "edit_form": form} if editing else {"criterion_form": form}
        )
        return await _admin_page(page, status_code=status, **forms)

    def done(_: None) -> str:  # an edit may rename it: its name as saved
        name = editing.name if editing else data.get("name", "").strip()
        return f"Criterion “{name}” {'saved' if editing else 'added'}."

    return await page.form_action(
        form,
        model=model,
        data=_criterion_input(data, names),
        call=save,
        page=again,
        done=done,
        then=page.at("/judging"),
        hints=CRITERION_HINTS,
        fields={service.CriterionNameTaken: "name"},
    )


@router.post(ADMIN + "/criteria/{criterion_id}/delete")
async def criterion_delete(criterion_id: uuid.UUID, page: OrganizerPageDep) -> Response:
    return await page.act(
        page.at("/judging"),
        lambda: judging_criteria.delete_criterion(page.session, page.access, criterion_id),
        "Criterion removed.",
    )


@router.post(ADMIN + "/assign")
async def run_assignment(page: OrganizerPageDep) -> Response:
    """Runs the assignment and answers with the page showing its report."""
    session, access = page.session, page.access
    data = await kit.form_data(page.request)
    form = kit.Form(values=kit.kept(data, "k", "seed"))
    raw = {"k": data.get("k", "").strip(), "seed": data.get("seed", "").strip() or None}
    hints = {"k": "A whole number from 1 to 20.", "seed": "A whole number from 0 to 2147483647."}

    async def again(
        form: kit.Form, status: int, report: service.AssignmentReport | None = None
    ) -> Response:
        return await _admin_page(page, assign_form=form, report=report, status_code=status)

    return await page.form_action(
        form,
        model=AssignIn,
        data=raw,
        call=lambda body: service.run_assignment(session, access, k=body.k, seed=body.seed),
        page=again,
        reply=lambda report: again(form, 200, report),
        hints=hints,
    )


@router.post(ADMIN + "/conflicts")
async def declare_conflict(page: OrganizerPageDep) -> Response:
    session, access = page.session, page.access
    data = await kit.form_data(page.request)
    form = kit.Form(values=kit.kept(data, "judge_id", "team_id", "reason"))
    hints = {"judge_id": "Choose a judge.", "team_id": "Choose a team."}
    body = kit.validated(ConflictIn, kit.kept(data, "judge_id", "team_id", "reason"), form, hints)
    judges = await _judges(session, access)
    teams = {team.id: team for _, team in (await _projects(session, access)).values()}
    judge = judges.get(body.judge_id) if body is not None and body.judge_id else None
    team = teams.get(body.team_id) if body is not None else None
    if body is None or judge is None or team is None:
        for name, found in (("judge_id", judge), ("team_id", team)):
            if body is not None and found is None:
                form.errors[name] = hints[name]
        return await _admin_page(page, conflict_form=form, status_code=422)
    judge_id, team_id, reason = judge.id, team.id, body.reason
    return await page.act(
        page.at("/judging"),
        lambda: service.declare_conflict(
            session, access, team_id=team_id, judge_id=judge_id, reason=reason
        ),
        f"Conflict recorded: {judge.name or judge.email} will not judge {team.name}.",
    )
