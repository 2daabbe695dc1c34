"""Rubric evaluations in the database: the judge's queue, scoring, and the ranking built from them.

- A judge reaches a submission only through their queue (`assigned_submission`): unassigned or
  conflicted work is a 404, whichever way it is asked for.
- An evaluation is a judge's scores per criterion; the raw score is the weighted mean of
  score/max on 0..100. Drafts are saved freely; submitting needs every criterion scored. Edits
  are allowed until judging closes; every write is kept in evaluation_history (trigger).
  Publishing the results closes judging: the service refuses (409 `judging_closed`) and the
  database refuses too (migration 0022), so a score racing the publication cannot land.
- The ranking (`compute_ranking`) reads submitted evaluations only; Crowd-BT adds the pairwise log.

Criteria, conflicts and assignment runs are `service`'s; this module builds on them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, Uuid, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.audit.service import audit_params, audit_row
from hackops.constraints import ConstraintErrors, refused_as
from hackops.errors import Conflict, NotFound
from hackops.events.access import EventAccess
from hackops.events.roles.reach import conflicted
from hackops.judging.pairwise.service import log_of
from hackops.judging.scoring import ranking
from hackops.judging.service import ResultsFinal, refuse_if_closed, require_judge
from hackops.models import (
    Criterion,
    Evaluation,
    JudgeAssignment,
    Submission,
    SubmissionVersion,
    new_id,
)
from hackops.rows import Compiled, hydrate
from hackops.submissions.intake.visibility import SubmittedCopy, submitted_copy


class NotAssigned(NotFound):
    code = "assignment_not_found"
    message = "This submission is not in your judging queue."


class ConflictOfInterest(Conflict):
    code = "conflict_of_interest"
    message = "You have a conflict of interest with this team; you cannot judge it."


#: The trigger `evaluations_refuse_conflicts` (migration) raises with this constraint name: the
#: judge joined the team, registered or was declared conflicted after the queue was read.
#: The trigger `evaluations_results_frozen` (migration 0022): results were published meanwhile.
CONSTRAINT_ERRORS: ConstraintErrors = {
    "ck_evaluations_no_conflict": ConflictOfInterest,
    "ck_evaluations_results_frozen": ResultsFinal,
}


class InvalidScores(Conflict):
    code = "invalid_scores"
    message = "The scores do not match this event's criteria."


async def queue(
    session: AsyncSession, access: EventAccess
) -> list[tuple[SubmittedCopy, Evaluation | None]]:
    """The judge's projects as they see them (their latest submitted versions), each with the
    judge's evaluation; one query."""
    judge_id = require_judge(access)
    rows = await session.execute(
        select(Submission, Evaluation, SubmissionVersion)
        .join(JudgeAssignment, JudgeAssignment.submission_id == Submission.id)
        .outerjoin(
            Evaluation,
            (Evaluation.submission_id == Submission.id) & (Evaluation.judge_id == judge_id),
        )
        .outerjoin(SubmissionVersion, SubmissionVersion.id == Submission.latest_version_id)
        .where(
            JudgeAssignment.event_id == access.event.id,
            JudgeAssignment.judge_id == judge_id,
            JudgeAssignment.state == "assigned",
            ~conflicted(access.event.id, judge_id, Submission.team_id),
        )
        .order_by(Submission.id)
    )
    return [(submitted_copy(s, v), e) for s, e, v in rows]


async def assigned_submission(
    session: AsyncSession, access: EventAccess, submission_id: uuid.UUID
) -> Submission:
    """The submission if it is in the caller's queue (else 404, conflicts included)."""
    judge_id = require_judge(access)
    submission = await session.scalar(
        select(Submission)
        .join(JudgeAssignment, JudgeAssignment.submission_id == Submission.id)
        .where(
            Submission.id == submission_id,
            JudgeAssignment.event_id == access.event.id,
            JudgeAssignment.judge_id == judge_id,
            JudgeAssignment.state == "assigned",
            ~conflicted(access.event.id, judge_id, Submission.team_id),
        )
    )
    if submission is None:
        raise NotAssigned
    return submission


@dataclass(frozen=True)
class Scale:
    """What scoring needs of a criterion: its weight and its maximum."""

    id: uuid.UUID
    weight: float
    max_score: float


def raw_score(criteria: Sequence[Criterion | Scale], scores: dict[str, float]) -> float | None:
    total_weight = sum(c.weight for c in criteria if str(c.id) in scores)
    if not total_weight:
        return None
    value = sum(c.weight * scores[str(c.id)] / c.max_score for c in criteria if str(c.id) in scores)
    return round(100 * value / total_weight, 4)


@dataclass(frozen=True)
class Target:
    """A submission in the judge's queue as scoring sees it, at the database's `now`."""

    submission_id: uuid.UUID
    team_id: uuid.UUID
    now: datetime
    criteria: list[Scale]


def _target_statement() -> Select[Any]:
    """What is judged, in one statement: the submission if it is in the judge's queue (no row:
    404, conflicts included, as `assigned_submission`), the database clock, and the criteria
    that apply to it (the event's, and its tracks'), in the rubric's order."""
    event_id, judge_id = bindparam("event_id", type_=Uuid), bindparam("judge_id", type_=Uuid)
    criteria = (Criterion.event_id == event_id) & (
        Criterion.track_id.is_(None) | (Criterion.track_id == func.any(Submission.track_ids))
    )
    return (
        select(
            Submission.team_id,
            func.app_now().label("now"),
            Criterion.id,
            Criterion.weight,
            Criterion.max_score,
        )
        .join(JudgeAssignment, JudgeAssignment.submission_id == Submission.id)
        .outerjoin(Criterion, criteria)
        .where(
            Submission.id == bindparam("submission_id"),
            JudgeAssignment.event_id == event_id,
            JudgeAssignment.judge_id == judge_id,
            JudgeAssignment.state == "assigned",
            ~conflicted(event_id, judge_id, Submission.team_id),
        )
        .order_by(Criterion.position, Criterion.name)
    )


#: The columns an upsert writes (bound as `ev_<name>`); the last six are what a save changes.
INSERTED = ("id", "org_id", "event_id", "judge_id", "submission_id", "team_id")
SAVED = ("scores", "raw_score", "private_comment", "feedback", "status", "submitted_at")


def _save_statement() -> Select[Any]:
    """The upsert on UNIQUE (judge, submission) and its audit row (`audit_…`, the resource id
    read from the upsert's RETURNING) in one statement; the triggers run inside it."""
    columns = Evaluation.__table__.c
    inserted = pg_insert(Evaluation).values(
        {n: bindparam(f"ev_{n}", type_=columns[n].type) for n in (*INSERTED, *SAVED)}
    )
    saved = (
        inserted.on_conflict_do_update(
            index_elements=["judge_id", "submission_id"],
            set_={n: inserted.excluded[n] for n in SAVED},
        )
        .returning(*columns)
        .cte("saved")
    )
    audited = audit_row(resource_id=select(cast(saved.c.id, String)).scalar_subquery())
    # On the driver (`hackops.rows`): the evaluation's columns in its table's order.
    return select(saved).add_cte(audited.cte("audited"))


# Built once: a save then pays no statement construction nor cache key, only its parameters.
TARGET = Compiled(_target_statement())
SAVE = Compiled(_save_statement())


async def scoring_target(
    session: AsyncSession, access: EventAccess, judge_id: uuid.UUID, submission_id: uuid.UUID
) -> Target:
    """What is judged (`TARGET`): 404 `assignment_not_found` when it is not in the queue."""
    params = {"event_id": access.event.id, "judge_id": judge_id, "submission_id": submission_id}
    # On the driver (`hackops.rows`): team_id, now, then the criterion's id, weight, max_score.
    rows = await TARGET.fetch_all(session, params)
    if not rows:
        raise NotAssigned
    return Target(
        submission_id=submission_id,
        team_id=rows[0][0],
        now=rows[0][1],
        criteria=[Scale(r[2], r[3], r[4]) for r in rows if r[2] is not None],
    )


async def evaluate(
    session: AsyncSession,
    access: EventAccess,
    submission_id: uuid.UUID,
    *,
    scores: dict[uuid.UUID, float],
    private_comment: str,
    feedback: str,
    submit: bool,
) -> Evaluation:
    """Save the judge's scores (draft, or submitted when every criterion is scored): two
    statements — what is judged (`TARGET`), then the upsert with its audit row (`SAVE`).

    The database's own refusals (a conflict that appeared meanwhile, results published meanwhile)
    leave the transaction aborted: callers that go on after a refusal (forms) call this inside a
    savepoint, as `web.kit.attempt` does."""
    judge_id = require_judge(access)
    target = await scoring_target(session, access, judge_id, submission_id)
    refuse_if_closed(access, target.now)
    known = {c.id: c for c in target.criteria}
    for criterion_id, value in scores.items():
        criterion = known.get(criterion_id)
        if criterion is None or not 0 <= value <= criterion.max_score:
            raise InvalidScores(details={"criterion_id": str(criterion_id)})
    if submit and (not known or set(known) - set(scores)):
        raise InvalidScores("Score every criterion before submitting.")
    stored = {str(k): v for k, v in scores.items()}
    status = "submitted" if submit else "draft"
    row = {
        "id": new_id(),
        "org_id": access.event.org_id,
        "event_id": access.event.id,
        "judge_id": judge_id,
        "submission_id": target.submission_id,
        "team_id": target.team_id,
        "scores": stored,
        "raw_score": raw_score(target.criteria, stored),
        "private_comment": private_comment,
        "feedback": feedback,
        "status": status,
        "submitted_at": target.now if submit else None,
    }
    audit = audit_params(
        access.actor,
        "evaluation.saved",
        resource_type="evaluation",
        org_id=access.event.org_id,
        details={"event": access.event.slug, "status": status},
    )
    values = {**{f"ev_{k}": v for k, v in row.items()}, **audit}
    with refused_as(CONSTRAINT_ERRORS):
        saved = await SAVE.fetch_one(session, values, final=True)
    assert saved is not None
    return hydrate(session, Evaluation, saved, refresh=True)


async def my_evaluation(
    session: AsyncSession, access: EventAccess, submission_id: uuid.UUID
) -> Evaluation | None:
    await assigned_submission(session, access, submission_id)
    return await session.scalar(
        select(Evaluation).where(
            Evaluation.submission_id == submission_id,
            Evaluation.judge_id == require_judge(access),
        )
    )


async def compute_ranking(
    session: AsyncSession, access: EventAccess, method: ranking.Method
) -> tuple[list[ranking.RankedItem], dict[uuid.UUID, float]]:
    """The ranking by `method` and each submission's raw mean, for the side-by-side view."""
    rows = await session.execute(
        select(Evaluation.judge_id, Evaluation.submission_id, Evaluation.raw_score).where(
            Evaluation.event_id == access.event.id,
            Evaluation.status == "submitted",
            Evaluation.raw_score.is_not(None),
        )
    )
    evaluations = [ranking.Evaluation(j, s, float(v)) for j, s, v in rows if v is not None]
    times = await session.execute(
        select(Submission.id, Submission.submitted_at).where(
            Submission.event_id == access.event.id, Submission.submitted_at.is_not(None)
        )
    )
    submitted_at: dict[Any, datetime] = {i: t for i, t in times if t is not None}
    comparisons: list[Any] = []
    if method is ranking.Method.crowd_bt:
        comparisons = await log_of(session, access)
    ranked = ranking.compute(method, evaluations, submitted_at, comparisons=comparisons)
    raw: dict[uuid.UUID, float] = {
        uuid.UUID(str(item.submission_id)): item.raw_mean for item in ranked
    }
    return ranked, raw
