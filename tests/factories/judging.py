"""Judging: criteria, conflicts, assignments, evaluations (and what their triggers keep), the
pairwise log, judges' flags and public votes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import (
    Criterion,
    Evaluation,
    EvaluationHistory,
    Event,
    JudgeAssignment,
    JudgeConflict,
    JudgingChange,
    JudgingFlag,
    JudgingVersion,
    PairwiseCurrent,
    PairwiseEntry,
    PublicVote,
    Submission,
    Team,
    User,
)
from hackops.models.voting import OVERALL
from hackops.tenancy import set_tenant
from tests.factories.accounts import create_user
from tests.factories.events import create_event, create_event_role
from tests.factories.rows import insert
from tests.factories.submissions import create_submitted
from tests.factories.teams import create_team


async def create_judge(session: AsyncSession, event: Event, **overrides: Any) -> User:
    """A person who judges `event` (not registered for it: no conflict)."""
    judge = await create_user(session, **overrides)
    await create_event_role(session, event, judge, role="judge")
    return judge


async def create_criterion(
    session: AsyncSession, event: Event | None = None, **overrides: Any
) -> Criterion:
    """A criterion of `event` scored out of 10, weight 1."""
    event = event or await create_event(session)
    await set_tenant(session, event.org_id)
    values: dict[str, Any] = {"org_id": event.org_id, "event_id": event.id, "name": "Impact"}
    values.update(overrides)
    return await insert(session, Criterion, values)


async def create_judge_conflict(
    session: AsyncSession, team: Team | None = None, judge: User | None = None, **overrides: Any
) -> JudgeConflict:
    """`judge` declared a conflict with `team`."""
    team = team or await create_team(session)
    event = await session.get_one(Event, team.event_id)
    judge = judge or await create_judge(session, event)
    values: dict[str, Any] = {
        "org_id": team.org_id,
        "event_id": team.event_id,
        "judge_id": judge.id,
        "team_id": team.id,
        "source": "judge",
        "reason": "a friend's team",
        "created_by": judge.id,
    }
    values.update(overrides)
    return await insert(session, JudgeConflict, values)


async def _submission_and_judge(
    session: AsyncSession, submission: Submission | None, judge: User | None
) -> tuple[Submission, User]:
    submission = submission or await create_submitted(session)
    if judge is None:
        judge = await create_judge(session, await session.get_one(Event, submission.event_id))
    await set_tenant(session, submission.org_id)
    return submission, judge


async def create_judge_assignment(
    session: AsyncSession,
    submission: Submission | None = None,
    judge: User | None = None,
    **overrides: Any,
) -> JudgeAssignment:
    """`submission` handed to `judge`."""
    submission, judge = await _submission_and_judge(session, submission, judge)
    values: dict[str, Any] = {
        "org_id": submission.org_id,
        "event_id": submission.event_id,
        "judge_id": judge.id,
        "submission_id": submission.id,
    }
    values.update(overrides)
    return await insert(session, JudgeAssignment, values)


async def create_evaluation(
    session: AsyncSession,
    submission: Submission | None = None,
    judge: User | None = None,
    **overrides: Any,
) -> Evaluation:
    """`judge`'s submitted evaluation of `submission`, raw score 70 (its triggers write the
    history, the change log and bump the event's judging version)."""
    submission, judge = await _submission_and_judge(session, submission, judge)
    values: dict[str, Any] = {
        "org_id": submission.org_id,
        "event_id": submission.event_id,
        "judge_id": judge.id,
        "submission_id": submission.id,
        "team_id": submission.team_id,
        "scores": {},
        "raw_score": 70.0,
        "status": "submitted",
    }
    values.update(overrides)
    return await insert(session, Evaluation, values)


async def create_evaluation_history(
    session: AsyncSession, evaluation: Evaluation | None = None, **overrides: Any
) -> EvaluationHistory:
    """A row of `evaluation`'s history as its trigger writes it (here written directly)."""
    evaluation = evaluation or await create_evaluation(session)
    values: dict[str, Any] = {
        "org_id": evaluation.org_id,
        "evaluation_id": evaluation.id,
        "judge_id": evaluation.judge_id,
        "submission_id": evaluation.submission_id,
        "scores": evaluation.scores,
        "raw_score": evaluation.raw_score,
        "private_comment": "",
        "feedback": "",
        "status": evaluation.status,
        "changed_by": evaluation.judge_id,
    }
    values.update(overrides)
    return await insert(session, EvaluationHistory, values)


async def create_judging_version(
    session: AsyncSession, event: Event | None = None, **overrides: Any
) -> JudgingVersion:
    """`event`'s judging version counter (evaluation triggers keep it; here it starts at 0)."""
    event = event or await create_event(session)
    await set_tenant(session, event.org_id)
    values: dict[str, Any] = {"event_id": event.id, "org_id": event.org_id}
    values.update(overrides)
    return await insert(session, JudgingVersion, values)


async def create_judging_change(
    session: AsyncSession, submission: Submission | None = None, **overrides: Any
) -> JudgingChange:
    """Change number 1 of the submission's event: a judge's score of 70."""
    submission, judge = await _submission_and_judge(session, submission, None)
    values: dict[str, Any] = {
        "event_id": submission.event_id,
        "version": 1,
        "org_id": submission.org_id,
        "judge_id": judge.id,
        "submission_id": submission.id,
        "raw_score": 70.0,
    }
    values.update(overrides)
    return await insert(session, JudgingChange, values)


async def _two_projects(
    session: AsyncSession, event: Event | None
) -> tuple[Event, Submission, Submission]:
    event = event or await create_event(session)
    first = await create_submitted(session, await create_team(session, event))
    second = await create_submitted(session, await create_team(session, event))
    return event, first, second


async def create_pairwise_entry(
    session: AsyncSession, event: Event | None = None, **overrides: Any
) -> PairwiseEntry:
    """A judge's comparison of two projects of `event` (the first preferred)."""
    event, first, second = await _two_projects(session, event)
    judge = await create_judge(session, event)
    values: dict[str, Any] = {
        "org_id": event.org_id,
        "event_id": event.id,
        "judge_id": judge.id,
        "kind": "comparison",
        "first_id": first.id,
        "second_id": second.id,
    }
    values.update(overrides)
    return await insert(session, PairwiseEntry, values)


async def create_pairwise_current(
    session: AsyncSession, event: Event | None = None, **overrides: Any
) -> PairwiseCurrent:
    """The pair of `event`'s projects a judge is looking at."""
    event, first, second = await _two_projects(session, event)
    judge = await create_judge(session, event)
    values: dict[str, Any] = {
        "event_id": event.id,
        "judge_id": judge.id,
        "org_id": event.org_id,
        "first_id": first.id,
        "second_id": second.id,
    }
    values.update(overrides)
    return await insert(session, PairwiseCurrent, values)


async def create_judging_flag(
    session: AsyncSession,
    submission: Submission | None = None,
    judge: User | None = None,
    **overrides: Any,
) -> JudgingFlag:
    """`judge`'s open flag on `submission` (it is broken)."""
    submission, judge = await _submission_and_judge(session, submission, judge)
    values: dict[str, Any] = {
        "org_id": submission.org_id,
        "event_id": submission.event_id,
        "submission_id": submission.id,
        "judge_id": judge.id,
        "reason": "broken",
        "note": "The demo link answers 404.",
    }
    values.update(overrides)
    return await insert(session, JudgingFlag, values)


async def create_public_vote(
    session: AsyncSession,
    submission: Submission | None = None,
    voter: User | None = None,
    **overrides: Any,
) -> PublicVote:
    """`voter`'s overall public vote for `submission`."""
    submission = submission or await create_submitted(session)
    voter = voter or await create_user(session)
    await set_tenant(session, submission.org_id)
    values: dict[str, Any] = {
        "org_id": submission.org_id,
        "event_id": submission.event_id,
        "track_key": OVERALL,
        "user_id": voter.id,
        "submission_id": submission.id,
    }
    values.update(overrides)
    return await insert(session, PublicVote, values)
