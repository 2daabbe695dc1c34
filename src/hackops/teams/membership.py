"""Membership changes: join by code, leave, remove a member, captain transfer.

Each takes the locks of `limits.py` in their order (registration, then team row) and re-reads
the caller's membership under the team lock, so a concurrent transfer or removal is seen. A
captain leaves only alone (which disbands the team) or after handing the captaincy on.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.errors import Conflict, NotFound
from hackops.events.access import EventAccess
from hackops.models import Team, TeamMember, TeamRole
from hackops.teams.access import TeamNotFound, TeamView, require_captain, require_member, signed_in
from hackops.teams.limits import add_member, lock_for_change, require_unlocked
from hackops.teams.service import audit_team, disband, member_left


class MemberNotFound(NotFound):
    code = "team_member_not_found"
    message = "That person is not a member of this team."


class CaptainMustTransfer(Conflict):
    code = "captain_must_transfer"
    message = "Make another member captain before leaving the team."


async def join_by_code(session: AsyncSession, access: EventAccess, *, code: str) -> TeamMember:
    """Join with the team's code (the captain shares it; it works whether or not recruiting)."""
    user = signed_in(access)
    event = access.event
    await require_unlocked(session, event)
    team_id = await session.scalar(
        select(Team.id).where(
            Team.event_id == event.id,
            Team.join_code == code.strip().upper(),
            Team.disbanded_at.is_(None),
        )
    )
    if team_id is None:
        raise TeamNotFound("No team of this event has that code.")
    team, member = await add_member(session, access.actor, event, team_id, user.id, via="code")
    await audit_team(session, access.actor, "team_member.joined", team, details={"via": "code"})
    return member


async def leave_team(session: AsyncSession, view: TeamView) -> bool:
    """Leave the team. A captain must transfer first unless alone; a captain alone disbands the
    team by leaving. Returns whether the team was disbanded."""
    require_member(view)
    team, membership = await lock_for_change(session, view, captain=False)
    disbanded = False
    if membership.role == TeamRole.CAPTAIN:
        if team.member_count > 1:
            raise CaptainMustTransfer
        disbanded = True
    if disbanded:
        await disband(session, view.access.actor, team)
    else:
        leaver = membership.user_id
        await session.delete(membership)
        await session.flush()
        await member_left(session, view.access.actor, team, leaver, reason="left")
    await audit_team(
        session, view.access.actor, "team_member.left", team, details={"disbanded": disbanded}
    )
    return disbanded


async def remove_member(session: AsyncSession, view: TeamView, user_id: uuid.UUID) -> None:
    """The captain removes a member (their tasks are unassigned by a trigger)."""
    require_captain(view)
    team, captain = await lock_for_change(session, view, captain=True)
    if user_id == captain.user_id:
        raise CaptainMustTransfer("Captains leave (or disband), they do not remove themselves.")
    member = await session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user_id)
    )
    if member is None:
        raise MemberNotFound
    await session.delete(member)
    await session.flush()
    await member_left(session, view.access.actor, team, user_id, reason="removed")
    await audit_team(
        session,
        view.access.actor,
        "team_member.removed",
        team,
        details={"user_id": str(user_id)},
    )


async def transfer_captain(session: AsyncSession, view: TeamView, user_id: uuid.UUID) -> Team:
    require_captain(view)
    team, captain = await lock_for_change(session, view, captain=True)
    successor = await session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user_id)
    )
    if successor is None:
        raise MemberNotFound
    if successor.id != captain.id:
        captain.role = TeamRole.MEMBER
        successor.role = TeamRole.CAPTAIN
        team.captain_id = successor.user_id
        await session.flush()
        await session.refresh(team)
    await audit_team(
        session,
        view.access.actor,
        "team.captain_transferred",
        team,
        details={"from": str(captain.user_id), "to": str(user_id)},
    )
    return team
