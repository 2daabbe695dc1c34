"""Judging in the database: conflicts of interest and assignment runs (criteria: `criteria.py`).

- Judges are the people holding the event role `judge`.
- Conflicts: automatic (member of the team; registered as a participant of the event) and
  declared (by the judge, or by an organizer for a judge-team pair). A conflicted judge is never
  assigned; the database refuses their scores (trigger) and removes them when the conflict
  appears later; declaring a conflict withdraws the assignment and re-runs the assignment, which
  keeps started work, so the submission gets a replacement judge.
- Eligible submissions: submitted, under review or approved (latest version).
- Every run (the organizers', a re-balance, the re-run after a declared conflict) writes one
  `judging.judge_assigned` per judge handed new projects, with how many.

The judge's queue, evaluations and the ranking built from them are in `evaluations`.
"""

from __future__ import annotations

import uuid
import zlib
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.audit.service import record
from hackops.constraints import ConstraintErrors
from hackops.errors import Conflict, Forbidden, NotFound
from hackops.events.access import EventAccess, EventNotFound
from hackops.events.lifecycle import judging_closure
from hackops.judging.assignment.solver import JudgeSlot, SubmissionSlot, assign, coverage
from hackops.models import (
    Evaluation,
    EventRole,
    EventRoleGrant,
    JudgeAssignment,
    JudgeConflict,
    Registration,
    Submission,
    SubmissionStatus,
    Team,
    TeamMember,
    User,
)
from hackops.outbox import catalog
from hackops.outbox.service import emit

ELIGIBLE = (
    SubmissionStatus.SUBMITTED,
    SubmissionStatus.UNDER_REVIEW,
    SubmissionStatus.APPROVED,
)


class NotAJudge(Forbidden):
    code = "not_a_judge"
    message = "Only the event's judges can do this."


class CriterionNotFound(NotFound):
    code = "criterion_not_found"
    message = "No such criterion."


class CriteriaLocked(Conflict):
    code = "criteria_locked"
    message = "Scores have arrived: only criteria descriptions can change now."


class JudgingClosed(Conflict):  # rubric scoring, pairwise voting, conflicts that delete scores
    code = "judging_closed"
    message = "Judging is closed for this event."


class ResultsFinal(JudgingClosed):
    """The database's refusal (migration 0022) when a judgment reaches an event whose results
    were published after the service's own check read the event."""

    message = "Results are published; scores are final."


class CriterionNameTaken(Conflict):
    code = "criterion_name_taken"
    message = "This event already has a criterion with that name; choose another name."


#: Constraints a judging write can hit: the results published meanwhile (triggers, migration
#: 0022), a criterion name taken by a concurrent change.
CONSTRAINT_ERRORS: ConstraintErrors = {
    "ck_evaluations_results_frozen": ResultsFinal,
    "ck_pairwise_entries_results_frozen": ResultsFinal,
    "uq_judging_criteria_event_id_name": CriterionNameTaken,
}


async def require_judging_open(session: AsyncSession, access: EventAccess) -> None:
    """Judges change nothing once judging closes (database clock) or results are published:
    409 `judging_closed`, the reason and the moment in `details`."""
    now = await session.scalar(select(func.app_now()))
    assert now is not None
    refuse_if_closed(access, now)


def refuse_if_closed(access: EventAccess, now: datetime) -> None:
    """`require_judging_open` with the database clock already read."""
    closure = judging_closure(access.event, now)
    if closure is not None:
        raise JudgingClosed(
            closure.sentence(access.event.timezone),
            details={"reason": closure.reason, "at": closure.at.isoformat()},
        )


def require_judge(access: EventAccess) -> uuid.UUID:
    user = access.actor.user
    if user is None or EventRole.JUDGE not in access.event_roles:
        if access.is_staff:
            raise NotAJudge
        raise EventNotFound
    return user.id


async def audit_judging(
    session: AsyncSession, access: EventAccess, action: str, resource_id: uuid.UUID, **details: Any
) -> None:
    """Audit a judging change in this event (criteria, conflicts, assignment, evaluations)."""
    await record(
        session,
        access.actor,
        action,
        resource_type=action.split(".")[0],
        resource_id=resource_id,
        org_id=access.event.org_id,
        details={"event": access.event.slug, **details},
    )


# --- conflicts and assignment --------------------------------------------------------------------


async def judges_of(session: AsyncSession, access: EventAccess) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(EventRoleGrant.user_id)
        .where(
            EventRoleGrant.event_id == access.event.id,
            EventRoleGrant.role == EventRole.JUDGE,
        )
        .order_by(EventRoleGrant.user_id)
    )
    return list(rows)


async def eligible_submissions(session: AsyncSession, access: EventAccess) -> list[Submission]:
    rows = await session.scalars(
        select(Submission)
        .where(
            Submission.event_id == access.event.id,
            Submission.status.in_(ELIGIBLE),
            Submission.version_count > 0,
        )
        .order_by(Submission.id)
    )
    return list(rows)


async def conflicts_of(
    session: AsyncSession, access: EventAccess, submissions: list[Submission]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """judge → submissions they may not see: membership, registration, declarations."""
    event_id = access.event.id
    by_team = {s.team_id: s.id for s in submissions}
    judges = await judges_of(session, access)
    out: dict[uuid.UUID, set[uuid.UUID]] = {j: set() for j in judges}
    members = await session.execute(
        select(TeamMember.user_id, TeamMember.team_id).where(
            TeamMember.event_id == event_id, TeamMember.user_id.in_(judges)
        )
    )
    declared = await session.execute(
        select(JudgeConflict.judge_id, JudgeConflict.team_id).where(
            JudgeConflict.event_id == event_id
        )
    )
    for judge, team in [*members, *declared]:
        if judge in out and team in by_team:
            out[judge].add(by_team[team])
    participants = await session.scalars(
        select(Registration.user_id).where(
            Registration.event_id == event_id,
            Registration.user_id.in_(judges),
            Registration.status.in_(("registered", "checked_in")),
        )
    )
    for judge in participants:
        out[judge] = {s.id for s in submissions}
    return out


@dataclass(frozen=True)
class Participation:
    """What makes a would-be judge conflicted in this event: their registration, their team."""

    registered: bool
    team_name: str | None

    def consequence(self) -> str:
        """The conflict it means, in words for the organizer who is about to make them judge."""
        said = []
        if self.registered:
            said.append(
                "They are registered as a participant of this event: as a judge they have a"
                " conflict of interest with every project, so the assignment gives them none and"
                " any score they try to give is refused, until their registration is cancelled."
            )
        if self.team_name is not None:
            said.append(
                f"They are a member of team “{self.team_name}”: they can never judge that"
                " team's project."
            )
        return " ".join(said)


async def participation(
    session: AsyncSession, access: EventAccess, email: str
) -> Participation | None:
    """The registration and team in this event of the account at `email` (None: none)."""
    user_id = await session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
    if user_id is None:
        return None
    registered = await session.scalar(
        select(Registration.id).where(
            Registration.event_id == access.event.id,
            Registration.user_id == user_id,
            Registration.status.in_(("registered", "checked_in")),
        )
    )
    team_name = await session.scalar(
        select(Team.name)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.event_id == access.event.id, TeamMember.user_id == user_id)
        .limit(1)
    )
    if registered is None and team_name is None:
        return None
    return Participation(registered is not None, team_name)


@dataclass(frozen=True)
class AssignmentReport:
    assigned: int
    withdrawn: int
    submissions: int
    judges: int
    load_min: int
    load_max: int
    connected: bool
    shortfalls: dict[str, int]


def event_seed(access: EventAccess) -> int:
    return zlib.crc32(access.event.id.bytes)


async def run_assignment(
    session: AsyncSession, access: EventAccess, *, k: int, seed: int | None = None
) -> AssignmentReport:
    """Assign k judges per eligible submission; started work (an evaluation exists) is kept,
    the current plan is the starting point, so a re-run moves as little as possible."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(f"judging:{access.event.id}")))
    )
    submissions = await eligible_submissions(session, access)
    conflicts = await conflicts_of(session, access, submissions)
    current = list(
        await session.execute(
            select(JudgeAssignment.judge_id, JudgeAssignment.submission_id).where(
                JudgeAssignment.event_id == access.event.id,
                JudgeAssignment.state == "assigned",
            )
        )
    )
    started = set(
        await session.execute(
            select(Evaluation.judge_id, Evaluation.submission_id).where(
                Evaluation.event_id == access.event.id
            )
        )
    )
    plan = assign(
        [SubmissionSlot(s.id, frozenset(s.track_ids)) for s in submissions],
        [JudgeSlot(j, conflicts=frozenset(c)) for j, c in conflicts.items()],
        k=k,
        seed=event_seed(access) if seed is None else seed,
        keep=[(j, s) for j, s in current if (j, s) in started],
        previous=[(j, s) for j, s in current],
    )
    wanted = {(j, s) for j, s in plan.pairs}
    gone = [(j, s) for j, s in current if (j, s) not in wanted]
    for judge_id, submission_id in gone:
        await session.execute(
            update(JudgeAssignment)
            .where(
                JudgeAssignment.event_id == access.event.id,
                JudgeAssignment.judge_id == judge_id,
                JudgeAssignment.submission_id == submission_id,
            )
            .values(state="withdrawn", reason="reassigned")
        )
    if wanted:
        statement = pg_insert(JudgeAssignment).values(
            [
                {
                    "org_id": access.event.org_id,
                    "event_id": access.event.id,
                    "judge_id": j,
                    "submission_id": s,
                    "state": "assigned",
                }
                for j, s in sorted(wanted, key=str)
            ]
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["event_id", "judge_id", "submission_id"],
                set_={"state": "assigned", "reason": ""},
            )
        )
    cov = coverage(plan)
    report = AssignmentReport(
        assigned=len(wanted),
        withdrawn=len(gone),
        submissions=len(submissions),
        judges=len(conflicts),
        load_min=cov.load_min,
        load_max=cov.load_max,
        connected=cov.connected,
        shortfalls={str(s): n for s, n in cov.shortfalls.items()},
    )
    await audit_judging(
        session, access, "judging.assigned", access.event.id, k=k, assigned=report.assigned
    )
    await _tell_judges(session, access, new_work=wanted - {(j, s) for j, s in current})
    return report


async def _tell_judges(
    session: AsyncSession, access: EventAccess, *, new_work: set[tuple[Hashable, Hashable]]
) -> None:
    """One `judging.judge_assigned` per judge handed projects they did not have (a run, a
    re-balance or a re-run after a conflict); a judge whose queue only shrank or stayed is not
    told."""
    per_judge = Counter(judge_id for judge_id, _ in new_work)
    for judge_id in sorted(per_judge, key=str):
        assert isinstance(judge_id, uuid.UUID)  # the judges given to the solver are user ids
        await emit(
            session,
            access.actor,
            catalog.JudgeAssigned(judge_id=judge_id, assigned=per_judge[judge_id]),
            org_id=access.event.org_id,
            event_id=access.event.id,
        )


async def declare_conflict(
    session: AsyncSession,
    access: EventAccess,
    *,
    team_id: uuid.UUID,
    judge_id: uuid.UUID | None,
    reason: str,
) -> JudgeConflict:
    """A judge declares their own conflict, or an organizer declares one for a judge. The
    judge's assignment and evaluation of that team go, and the assignment is re-run.

    Deleting scores moves the ranking, so a judge can no longer declare one once judging has
    closed; an organizer still can (a correction before publishing, audited), and nobody can
    once results are published (409 `judging_closed`)."""
    if judge_id is None or not access.is_organizer:
        judge_id = require_judge(access)
        source = "judge"
        await require_judging_open(session, access)
    else:
        source = "organizer"
        if access.event.results_published_at is not None:
            await require_judging_open(session, access)
        if judge_id not in await judges_of(session, access):
            raise NotFound("That person is not a judge of this event.", code="judge_not_found")
    team_known = await session.scalar(
        select(Team.id).where(Team.id == team_id, Team.event_id == access.event.id)
    )
    if team_known is None:
        raise NotFound("No such team in this event.", code="team_not_found")
    user = access.actor.user
    await session.execute(
        pg_insert(JudgeConflict)
        .values(
            org_id=access.event.org_id,
            event_id=access.event.id,
            judge_id=judge_id,
            team_id=team_id,
            source=source,
            reason=reason,
            created_by=user.id if user else None,
        )
        .on_conflict_do_nothing(index_elements=["event_id", "judge_id", "team_id"])
    )
    conflict = await session.scalar(
        select(JudgeConflict).where(
            JudgeConflict.event_id == access.event.id,
            JudgeConflict.judge_id == judge_id,
            JudgeConflict.team_id == team_id,
        )
    )
    if conflict is None:
        raise NotFound
    submission_ids = select(Submission.id).where(Submission.team_id == team_id)
    await session.execute(
        delete(Evaluation).where(
            Evaluation.judge_id == judge_id, Evaluation.submission_id.in_(submission_ids)
        )
    )
    await session.execute(
        update(JudgeAssignment)
        .where(
            JudgeAssignment.judge_id == judge_id,
            JudgeAssignment.submission_id.in_(submission_ids),
        )
        .values(state="withdrawn", reason="conflict of interest")
    )
    await audit_judging(session, access, "judge_conflict.declared", conflict.id, source=source)
    if await session.scalar(
        select(func.count()).where(
            JudgeAssignment.event_id == access.event.id, JudgeAssignment.state == "assigned"
        )
    ):
        k = await _current_k(session, access)
        await run_assignment(session, access, k=k)
    return conflict


async def _current_k(session: AsyncSession, access: EventAccess) -> int:
    per_submission = (
        select(func.count().label("n"))
        .where(JudgeAssignment.event_id == access.event.id, JudgeAssignment.state == "assigned")
        .group_by(JudgeAssignment.submission_id)
        .subquery()
    )
    return int(await session.scalar(select(func.max(per_submission.c.n))) or 3)
