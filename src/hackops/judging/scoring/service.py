"""Rubric evaluations in the database: the judge's queue, scoring, and the ranking built from them.

- A judge reaches a submission only through their queue (`assigned_submission`): unassigned or
  conflicted work is a 404, whichever way it is asked for.
- An evaluation is a judge's scores per criterion; the raw score is the weighted mean of
  score/max on 0..100. Drafts are saved freely; submitting needs every criterion scored. Edits
  are allowed until judging closes; every write is kept in evaluation_history (trigger).
- The ranking (`compute_ranking`) reads submitted evaluations only; Crowd-BT adds the pairwise log.

Criteria, conflicts and assignment runs are `service`'s; this module builds on them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.constraints import ConstraintErrors, savepoint
from hackops.errors import Conflict, NotFound
from hackops.events.access import EventAccess
from hackops.events.roles.reach import conflicted
from hackops.judging.pairwise.service import log_of
from hackops.judging.scoring import ranking
from hackops.judging.service import (
    audit_judging,
    list_criteria,
    require_judge,
    require_judging_open,
)
from hackops.models import Criterion, Evaluation, JudgeAssignment, Submission, SubmissionVersion
from hackops.submissions.intake.visibility import SubmittedCopy, submitted_copy


class NotAssigned(NotFound):
    code = "assignment_not_found"
    message = "This submission is not in your judging queue."


class ConflictOfInterest(Conflict):
    code = "conflict_of_interest"
    message = "You have a conflict of interest with this team; you cannot judge it."


#: The trigger `evaluations_refuse_conflicts` (migration) raises with this constraint name: the
#: judge joined the team, registered or was declared conflicted after the queue was read.
CONSTRAINT_ERRORS: ConstraintErrors = {"ck_evaluations_no_conflict": ConflictOfInterest}


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


def raw_score(criteria: list[Criterion], scores: dict[str, float]) -> float | None:
    total_weight = sum(c.weight for c in criteria if str(c.id) in scores)
    if not total_weight:
        return None
    value = sum(c.weight * scores[str(c.id)] / c.max_score for c in criteria if str(c.id) in scores)
    return round(100 * value / total_weight, 4)


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
    submission = await assigned_submission(session, access, submission_id)
    judge_id = require_judge(access)
    await require_judging_open(session, access)
    now: datetime | None = await session.scalar(select(func.app_now()))
    criteria = [
        c
        for c in await list_criteria(session, access)
        if c.track_id is None or c.track_id in submission.track_ids
    ]
    known = {c.id: c for c in criteria}
    for criterion_id, value in scores.items():
        criterion = known.get(criterion_id)
        if criterion is None or not 0 <= value <= criterion.max_score:
            raise InvalidScores(details={"criterion_id": str(criterion_id)})
    if submit and (not known or set(known) - set(scores)):
        raise InvalidScores("Score every criterion before submitting.")
    stored = {str(k): v for k, v in scores.items()}
    values = {
        "scores": stored,
        "raw_score": raw_score(criteria, stored),
        "private_comment": private_comment,
        "feedback": feedback,
        "status": "submitted" if submit else "draft",
        "submitted_at": now if submit else None,
    }
    async with savepoint(session, CONSTRAINT_ERRORS):
        evaluation = await session.scalar(
            pg_insert(Evaluation)
            .values(
                org_id=access.event.org_id,
                event_id=access.event.id,
                judge_id=judge_id,
                submission_id=submission.id,
                team_id=submission.team_id,
                **values,
            )
            .on_conflict_do_update(index_elements=["judge_id", "submission_id"], set_=values)
            .returning(Evaluation)
            .execution_options(populate_existing=True)
        )
    assert evaluation is not None
    await audit_judging(session, access, "evaluation.saved", evaluation.id, status=values["status"])
    return evaluation


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
