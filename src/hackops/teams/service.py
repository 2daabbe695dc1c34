"""A team's life: create, edit, list, disband (the captain), and the audit record of every
team change.

A team is created by a registered person with no team, who becomes its captain and first member
(the limits and locks: `limits.py`). Disbanding removes the members, revokes open invitations and
declines pending requests; the row stays, marked disbanded, for history. A team that has
submitted its project cannot be disbanded: 409 `team_has_submission`.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import invitations
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.codes import readable_code
from hackops.db import db_now
from hackops.errors import Conflict
from hackops.events.access import EventAccess
from hackops.models import (
    JoinRequest,
    JoinRequestStatus,
    Submission,
    Team,
    TeamInvitation,
    TeamMember,
    TeamRole,
    User,
)
from hackops.outbox import catalog
from hackops.outbox.service import emit
from hackops.teams.access import (
    TEAM_INVITATIONS,
    TeamNotFound,
    TeamView,
    current_team_id,
    load_team,
    require_captain,
    signed_in,
)
from hackops.teams.limits import (
    AlreadyInATeam,
    flush_or_conflict,
    joined,
    lock_for_change,
    lock_registration,
    require_unlocked,
)
from hackops.teams.schemas import TeamUpdate

JOIN_CODE_LENGTH = 8


class TeamHasSubmission(Conflict):
    code = "team_has_submission"
    message = "This team has submitted a project; it cannot be disbanded."


def new_join_code() -> str:
    return readable_code(JOIN_CODE_LENGTH)


async def audit_team(
    session: AsyncSession,
    actor: Actor,
    action: str,
    team: Team,
    *,
    resource_type: str = "team",
    resource_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await record(
        session,
        actor,
        action,
        resource_type=resource_type,
        resource_id=resource_id or team.id,
        org_id=team.org_id,
        details={"team_id": str(team.id), "event_id": str(team.event_id), **(details or {})},
    )


LeftReason = Literal["left", "removed", "registration_cancelled", "disbanded"]


async def member_left(
    session: AsyncSession, actor: Actor, team: Team, user_id: uuid.UUID, *, reason: LeftReason
) -> None:
    """Write `team.member_left` for a membership just deleted (every way out of a team)."""
    removed = actor.user_id != user_id
    await emit(
        session,
        actor,
        catalog.TeamMemberLeft(team_id=team.id, user_id=user_id, removed=removed, reason=reason),
        org_id=team.org_id,
        event_id=team.event_id,
    )


# --- create, edit, list ------------------------------------------------------------------------


async def create_team(
    session: AsyncSession,
    access: EventAccess,
    *,
    name: str,
    description: str = "",
    recruiting: bool = True,
    skills_wanted: list[str] | None = None,
) -> Team:
    """Create a team; the creator becomes its captain and first member."""
    user = signed_in(access)
    event = access.event
    await require_unlocked(session, event)
    await lock_registration(session, event, user.id)
    if await current_team_id(session, event, user.id) is not None:
        raise AlreadyInATeam("You are already on a team in this event.")
    team = Team(
        org_id=event.org_id,
        event_id=event.id,
        name=name,
        description=description,
        captain_id=user.id,
        recruiting=recruiting,
        skills_wanted=skills_wanted or [],
        join_code=new_join_code(),
        max_members=event.team_max,
    )
    await flush_or_conflict(session, team)
    captain = TeamMember(
        org_id=event.org_id,
        event_id=event.id,
        team_id=team.id,
        user_id=user.id,
        role=TeamRole.CAPTAIN,
    )
    await flush_or_conflict(session, captain)
    await session.refresh(team)
    await audit_team(session, access.actor, "team.created", team, details={"name": name})
    await joined(session, access.actor, team, user.id, via="created")
    return team


async def update_team(session: AsyncSession, view: TeamView, body: TeamUpdate) -> Team:
    """Rename, describe, recruiting flag, skills wanted (the captain)."""
    require_captain(view)
    team, _ = await lock_for_change(session, view, captain=True)
    allowed = {"name", "description", "recruiting", "skills_wanted"}
    applied = {k: v for k, v in body.changes().items() if k in allowed and v is not None}
    for key, value in applied.items():
        setattr(team, key, value)
    await flush_or_conflict(session)
    await session.refresh(team)
    await audit_team(
        session, view.access.actor, "team.updated", team, details={"fields": sorted(applied)}
    )
    return team


async def list_members(session: AsyncSession, team: Team) -> list[tuple[TeamMember, User]]:
    rows = await session.execute(
        select(TeamMember, User)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id == team.id)
        .order_by(TeamMember.joined_at, TeamMember.id)
    )
    return [(m, u) for m, u in rows.all()]


async def list_teams(
    session: AsyncSession,
    access: EventAccess,
    *,
    recruiting_only: bool = False,
    limit: int,
    offset: int,
) -> list[Team]:
    query = select(Team).where(Team.event_id == access.event.id, Team.disbanded_at.is_(None))
    if recruiting_only:
        query = query.where(Team.recruiting.is_(True))
    rows = await session.scalars(
        query.order_by(Team.created_at, Team.id).limit(limit).offset(offset)
    )
    return list(rows)


async def my_team(session: AsyncSession, access: EventAccess) -> TeamView:
    user = signed_in(access)
    team_id = await current_team_id(session, access.event, user.id)
    if team_id is None:
        raise TeamNotFound("You are not on a team in this event.")
    return await load_team(session, access, team_id)


async def disband_team(session: AsyncSession, view: TeamView) -> None:
    """Disband (the captain). Only without a submitted project (`disband` checks)."""
    require_captain(view)
    team, _ = await lock_for_change(session, view, captain=True)
    await disband(session, view.access.actor, team)
    await audit_team(session, view.access.actor, "team.disbanded", team)


async def disband(session: AsyncSession, actor: Actor, team: Team) -> None:
    """Members are removed (each is free to join another team; one `team.member_left`, reason
    `disbanded`, for each), open invitations revoked and pending requests declined; the team
    row stays, marked disbanded, for history. A team that has submitted its project cannot be
    disbanded (the submission refers to it)."""
    if await has_submitted(session, team):
        raise TeamHasSubmission
    now = await db_now(session)
    members = list(
        await session.scalars(
            select(TeamMember)
            .where(TeamMember.team_id == team.id)
            .order_by(TeamMember.joined_at, TeamMember.id)
        )
    )
    for member in members:
        await session.delete(member)
    await invitations.close_pending(
        session, TEAM_INVITATIONS, TeamInvitation.team_id == team.id, at=now
    )
    pending_requests = await session.scalars(
        select(JoinRequest).where(
            JoinRequest.team_id == team.id, JoinRequest.status == JoinRequestStatus.PENDING
        )
    )
    for request in pending_requests:
        request.status = JoinRequestStatus.DECLINED
        request.decided_at = now
    team.disbanded_at = now
    team.recruiting = False
    await session.flush()
    for member in members:
        await member_left(session, actor, team, member.user_id, reason="disbanded")


async def has_submitted(session: AsyncSession, team: Team) -> bool:
    count = await session.scalar(
        select(Submission.version_count).where(
            Submission.event_id == team.event_id, Submission.team_id == team.id
        )
    )
    return bool(count)
