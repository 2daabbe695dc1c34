"""What a judge may see: the submissions handed to them, never a team they are conflicted with.

A judge of an event reaches a submission when both hold:
- it is handed to them: an active assignment (`judge_assignments.state = 'assigned'`), or, in
  pairwise mode, it is one of the two items of the pair on their screen (`pairwise_current`);
- they have no conflict with its team: not a member of it, no declared conflict (by them or an
  organizer), not a registered participant of the event (which conflicts them with every team).

What they see of it is its latest submitted version, never the working copy: callers check
`latest_version_id` (`submissions.intake.visibility`, `teams.access.load_team`). Organizers see
everything and mentors see teams (not submissions); neither goes through here.

Only models are imported, so the team and submission domains can ask without a cycle.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import (
    JudgeAssignment,
    JudgeConflict,
    PairwiseCurrent,
    Registration,
    Submission,
    TeamMember,
)

#: Registration states that make a judge a participant (conflicted with every team).
PARTICIPATING = ("registered", "checked_in")


def conflicted(event_id: Any, judge_id: Any, team_id: Any) -> ColumnElement[bool]:
    """SQL: the judge may not judge this team (membership, declaration, participation)."""
    return or_(
        exists().where(TeamMember.team_id == team_id, TeamMember.user_id == judge_id),
        exists().where(
            JudgeConflict.event_id == event_id,
            JudgeConflict.judge_id == judge_id,
            JudgeConflict.team_id == team_id,
        ),
        exists().where(
            Registration.event_id == event_id,
            Registration.user_id == judge_id,
            # One bound value each (not an expanding list): statements compiled once for the
            # driver (`rows.Compiled`) take it.
            Registration.status.in_([literal(s) for s in PARTICIPATING]),
        ),
    )


def handed(event_id: Any, judge_id: Any, submission_id: Any) -> ColumnElement[bool]:
    """SQL: the submission is in the judge's queue or in the pair on their screen."""
    return or_(
        exists().where(
            JudgeAssignment.event_id == event_id,
            JudgeAssignment.judge_id == judge_id,
            JudgeAssignment.submission_id == submission_id,
            JudgeAssignment.state == "assigned",
        ),
        exists().where(
            PairwiseCurrent.event_id == event_id,
            PairwiseCurrent.judge_id == judge_id,
            or_(
                PairwiseCurrent.first_id == submission_id,
                PairwiseCurrent.second_id == submission_id,
            ),
        ),
    )


def reachable(event_id: Any, judge_id: Any) -> ColumnElement[bool]:
    """SQL over `Submission`: handed to the judge and not conflicted (any version state)."""
    return and_(
        Submission.event_id == event_id,
        handed(event_id, judge_id, Submission.id),
        ~conflicted(event_id, judge_id, Submission.team_id),
    )


async def judge_sees_team(
    session: AsyncSession, event_id: uuid.UUID, judge_id: uuid.UUID, team_id: uuid.UUID
) -> bool:
    """Whether the judge reaches this team's submission, and it has a submitted version."""
    return bool(
        await session.scalar(
            select(
                exists().where(
                    Submission.team_id == team_id,
                    Submission.latest_version_id.is_not(None),
                    reachable(event_id, judge_id),
                )
            )
        )
    )
