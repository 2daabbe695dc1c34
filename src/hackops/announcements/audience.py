"""Who an announcement's audience is, as SQL over the event's own rows: resolved when the
announcement is dispatched (`resolve`), counted for the preview (`count`), and asked per person
for what they may read (`belongs`).

Segments (`models.Audience`):
- registered: everyone holding a seat (registered or checked in), waitlisted: the waitlist,
  checked_in: who was checked in at the venue;
- teams_without_submission: the members of the event's teams (not disbanded) with no submitted
  version yet;
- judges_unfinished: the event's judges with at least one assigned project whose evaluation
  they have not submitted (conflicted projects excluded, as in their queue);
- track: the members of the teams whose project entered that track (a team enters tracks with
  its submission's `track_ids`; a team without a submission is in no track);
- mentors: the event's mentors (event role `mentor`).
Every query is bounded by the event's id, so nobody of another event is ever included.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, any_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.events.roles.reach import conflicted
from hackops.models import (
    SEATED,
    Audience,
    Evaluation,
    EventRole,
    EventRoleGrant,
    JudgeAssignment,
    Registration,
    RegistrationStatus,
    Submission,
    Team,
    TeamMember,
)

LABELS: dict[Audience, str] = {
    Audience.REGISTERED: "Everyone registered (seated or checked in)",
    Audience.WAITLISTED: "People on the waitlist",
    Audience.CHECKED_IN: "People checked in at the venue",
    Audience.TEAMS_WITHOUT_SUBMISSION: "Teams that have not submitted a project yet",
    Audience.JUDGES_UNFINISHED: "Judges with unfinished evaluations",
    Audience.TRACK: "The teams of one track",
    Audience.MENTORS: "Mentors",
}


def _registrations(event_id: uuid.UUID, *statuses: RegistrationStatus) -> Select[uuid.UUID]:
    return select(Registration.user_id).where(
        Registration.event_id == event_id, Registration.status.in_(statuses)
    )


def _members(event_id: uuid.UUID) -> Select[uuid.UUID]:
    return (
        select(TeamMember.user_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.event_id == event_id, Team.disbanded_at.is_(None))
    )


def _role(event_id: uuid.UUID, role: EventRole) -> Select[uuid.UUID]:
    return select(EventRoleGrant.user_id).where(
        EventRoleGrant.event_id == event_id, EventRoleGrant.role == role
    )


def unfinished_work(event_id: uuid.UUID) -> Select[uuid.UUID, int]:
    """(judge, how many of their assigned projects still wait for a submitted evaluation)."""
    submitted = (
        select(Evaluation.id)
        .where(
            Evaluation.judge_id == JudgeAssignment.judge_id,
            Evaluation.submission_id == JudgeAssignment.submission_id,
            Evaluation.status == "submitted",
        )
        .exists()
    )
    return (
        select(JudgeAssignment.judge_id, func.count())
        .join(Submission, Submission.id == JudgeAssignment.submission_id)
        .join(
            EventRoleGrant,
            and_(
                EventRoleGrant.event_id == JudgeAssignment.event_id,
                EventRoleGrant.user_id == JudgeAssignment.judge_id,
                EventRoleGrant.role == EventRole.JUDGE,
            ),
        )
        .where(
            JudgeAssignment.event_id == event_id,
            JudgeAssignment.state == "assigned",
            ~submitted,
            ~conflicted(event_id, JudgeAssignment.judge_id, Submission.team_id),
        )
        .group_by(JudgeAssignment.judge_id)
    )


def query(
    event_id: uuid.UUID, audience: Audience, track_id: uuid.UUID | None = None
) -> Select[uuid.UUID]:
    """The ids of the people of `audience` in the event (possibly with repeats)."""
    if audience is Audience.REGISTERED:
        return _registrations(event_id, *SEATED)
    if audience is Audience.WAITLISTED:
        return _registrations(event_id, RegistrationStatus.WAITLISTED)
    if audience is Audience.CHECKED_IN:
        return _registrations(event_id, RegistrationStatus.CHECKED_IN)
    if audience is Audience.TEAMS_WITHOUT_SUBMISSION:
        return _members(event_id).where(
            ~select(Submission.id)
            .where(Submission.team_id == Team.id, Submission.version_count > 0)
            .exists()
        )
    if audience is Audience.JUDGES_UNFINISHED:
        work = unfinished_work(event_id).subquery()
        return select(work.c.judge_id)
    if audience is Audience.TRACK:
        if track_id is None:
            return select(TeamMember.user_id).where(false())
        return _members(event_id).where(
            select(Submission.id)
            .where(Submission.team_id == Team.id, Submission.track_ids.contains([track_id]))
            .exists()
        )
    return _role(event_id, EventRole.MENTOR)


async def resolve(
    session: AsyncSession, event_id: uuid.UUID, audience: Audience, track_id: uuid.UUID | None
) -> list[uuid.UUID]:
    """Everyone of `audience` now, once each, in a stable order."""
    ids = query(event_id, audience, track_id).subquery()
    return list(await session.scalars(select(ids.c[0]).distinct().order_by(ids.c[0])))


async def count(
    session: AsyncSession, event_id: uuid.UUID, audience: Audience, track_id: uuid.UUID | None
) -> int:
    ids = query(event_id, audience, track_id).subquery()
    found = await session.scalar(select(func.count(func.distinct(ids.c[0]))))
    return int(found or 0)


async def active_registrations(session: AsyncSession, event_id: uuid.UUID) -> list[uuid.UUID]:
    """Everyone registered, checked in or on the waitlist (the registration-closing reminder)."""
    statuses = (*SEATED, RegistrationStatus.WAITLISTED)
    return list(
        await session.scalars(
            _registrations(event_id, *statuses).distinct().order_by(Registration.user_id)
        )
    )


async def unfinished(session: AsyncSession, event_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Each judge with unfinished evaluations and how many."""
    rows = await session.execute(unfinished_work(event_id))
    return {judge: int(n) for judge, n in rows}


def belongs(
    event_id: uuid.UUID, user_id: uuid.UUID, audience: Any, track_id: Any
) -> ColumnElement[bool]:
    """SQL: `user_id` is in the audience (column expressions of an announcement row) now."""
    parts: list[ColumnElement[bool]] = []
    for segment in Audience:
        if segment is Audience.TRACK:
            continue
        members = query(event_id, segment).subquery()
        parts.append(
            and_(
                audience == segment.value,
                select(members.c[0]).where(members.c[0] == user_id).exists(),
            )
        )
    tracks = (
        select(Submission.id)
        .join(TeamMember, TeamMember.team_id == Submission.team_id)
        .join(Team, Team.id == Submission.team_id)
        .where(
            Submission.event_id == event_id,
            TeamMember.user_id == user_id,
            Team.disbanded_at.is_(None),
            track_id == any_(Submission.track_ids),
        )
        .exists()
    )
    parts.append(and_(audience == Audience.TRACK.value, tracks))
    return or_(*parts)
