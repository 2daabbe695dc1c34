"""Where an event stands on the way from judging to published results, for the organizers'
checklist (`web.eventkit.judging_checklist`), and whether what was published still matches the
evaluations.

- `progress`: the counts behind each step — criteria, judges, the assignment, evaluations done of
  those assigned, pairwise comparisons, public votes, awards and picked winners — and whether
  results can be published now, or why not (`publish_blocker`). A handful of counting queries,
  whatever the event's size.
- `drift`: once results are published they are frozen (`event_results`) and the database refuses
  new judgments (migration 0022). An event published before that guard, or an evaluation removed
  with a judge's account, can still leave the live ranking apart from the published one: the
  organizer is told how many evaluation writes came after the publication and whether the live
  ranking differs. The published results stay as they are (nothing is recomputed).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import wallclock
from hackops.events.access import EventAccess
from hackops.events.lifecycle import EventState, judging_closure, state_at, submissions_deadline
from hackops.judging.scoring import ranking
from hackops.judging.scoring.service import compute_ranking
from hackops.judging.service import ELIGIBLE
from hackops.models import (
    Award,
    AwardWinner,
    Criterion,
    Evaluation,
    EvaluationHistory,
    Event,
    EventResult,
    EventRole,
    EventRoleGrant,
    JudgeAssignment,
    PairwiseEntry,
    PublicVote,
    Submission,
)


@dataclass(frozen=True)
class Progress:
    """The counts of an event's judging, and whether results can be published now."""

    state: EventState
    criteria: int
    judges: int
    projects: int  # eligible for judging: submitted, under review or approved
    assigned: int  # active assignments (judge, project)
    assigned_projects: int
    evaluated: int  # submitted evaluations of active assignments
    comparisons: int  # pairwise judgments, undone ones left out
    votes: int | None  # None: the event has no public voting window
    awards: int
    picked: int  # awards whose winners an organizer picked (the others take the top ranks)
    judging_open: bool
    publish_blocker: str | None  # why results cannot be published now (None: they can)

    @property
    def published(self) -> bool:
        return self.state is EventState.RESULTS_PUBLISHED


def publish_blocker(event: Event, now: datetime) -> str | None:
    """Why results cannot be published now, in words for the organizer (None: they can)."""
    state = state_at(event, now)
    zone = ZoneInfo(event.timezone)
    if state is EventState.ARCHIVED:
        return "The event is archived; nothing can be published any more."
    if state is EventState.DRAFT:
        return "The event is a draft: publish the event first."
    if state is EventState.RESULTS_PUBLISHED:
        assert event.results_published_at is not None
        when = wallclock.on_clock(event.results_published_at, zone)
        return f"The results were published on {when}."
    if state is EventState.JUDGING:
        return None
    if event.submissions_close_at is None:
        return "Results can be published once submissions close: set when they close first."
    when = wallclock.on_clock(submissions_deadline(event), zone)
    return f"Results can be published once submissions close, on {when} (grace included)."


async def _count(session: AsyncSession, query: object) -> int:
    return int(await session.scalar(query) or 0)  # type: ignore[call-overload]


async def progress(session: AsyncSession, access: EventAccess, now: datetime) -> Progress:
    event_id = access.event.id
    assigned = JudgeAssignment.event_id == event_id, JudgeAssignment.state == "assigned"
    evaluated = (
        select(func.count())
        .select_from(Evaluation)
        .join(
            JudgeAssignment,
            (JudgeAssignment.judge_id == Evaluation.judge_id)
            & (JudgeAssignment.submission_id == Evaluation.submission_id),
        )
        .where(Evaluation.event_id == event_id, Evaluation.status == "submitted", *assigned)
    )
    votes = None
    if access.event.voting_opens_at is not None:
        votes = await _count(session, select(func.count()).where(PublicVote.event_id == event_id))
    return Progress(
        state=state_at(access.event, now),
        criteria=await _count(session, select(func.count()).where(Criterion.event_id == event_id)),
        judges=await _count(
            session,
            select(func.count()).where(
                EventRoleGrant.event_id == event_id, EventRoleGrant.role == EventRole.JUDGE
            ),
        ),
        projects=await _count(
            session,
            select(func.count()).where(
                Submission.event_id == event_id,
                Submission.status.in_(ELIGIBLE),
                Submission.version_count > 0,
            ),
        ),
        assigned=await _count(session, select(func.count()).where(*assigned)),
        assigned_projects=await _count(
            session, select(func.count(distinct(JudgeAssignment.submission_id))).where(*assigned)
        ),
        evaluated=await _count(session, evaluated),
        comparisons=await _count(
            session,
            select(func.count()).where(
                PairwiseEntry.event_id == event_id,
                PairwiseEntry.kind == "comparison",
                PairwiseEntry.undone.is_(False),
            ),
        ),
        votes=votes,
        awards=await _count(session, select(func.count()).where(Award.event_id == event_id)),
        picked=await _count(
            session,
            select(func.count(distinct(AwardWinner.award_id))).where(
                AwardWinner.event_id == event_id
            ),
        ),
        judging_open=judging_closure(access.event, now) is None,
        publish_blocker=publish_blocker(access.event, now),
    )


@dataclass(frozen=True)
class Drift:
    """How the evaluations moved after the results were frozen."""

    published_at: datetime
    changed: int  # evaluation writes after the publication (evaluation_history)
    ranking_moved: bool  # the live ranking's order differs from the published one

    @property
    def any(self) -> bool:
        return bool(self.changed) or self.ranking_moved


async def drift(session: AsyncSession, access: EventAccess) -> Drift | None:
    """None while results are not published (or nothing was frozen)."""
    event = access.event
    if event.results_published_at is None:
        return None
    result = await session.scalar(select(EventResult).where(EventResult.event_id == event.id))
    if result is None:
        return None
    changed = await _count(
        session,
        select(func.count())
        .select_from(EvaluationHistory)
        .join(Submission, Submission.id == EvaluationHistory.submission_id)
        .where(Submission.event_id == event.id, EvaluationHistory.changed_at > result.published_at),
    )
    method = next((m for m in ranking.Method if m.value == result.method), ranking.DEFAULT_METHOD)
    ranked, _ = await compute_ranking(session, access, method)
    live = [(uuid.UUID(str(item.submission_id)), item.rank) for item in ranked]
    frozen = [(uuid.UUID(row["submission_id"]), int(row["rank"])) for row in result.ranking]
    return Drift(result.published_at, changed, live != frozen)
