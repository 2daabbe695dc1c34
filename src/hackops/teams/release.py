"""A registration that is cancelled or removed takes its holder out of their team.

Only registered participants are team members (a foreign key to registrations says the row
exists; this says the seat is still wanted). The registrations domain sends
`registrations.hooks.RegistrationCancelled` in the transaction that cancels, after the
registration row was updated (so the lock order is the one every team change uses: registration
row, then team row); `registration_cancelled` handles it (connected in `hackops.wiring`).

- A plain member is removed; their tasks are unassigned by the database trigger.
- A captain with teammates hands the captaincy to the member who joined first.
- A captain alone disbands the team (invitations revoked, requests declined).

Once team changes are locked (submissions closed), the team is left as it is: the project was
made by these people, and judging and results refer to it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.events.lifecycle import teams_locked
from hackops.models import Event, Team, TeamMember, TeamRole
from hackops.registrations.hooks import RegistrationCancelled
from hackops.teams.service import audit_team, disband, has_submitted, member_left


async def release_member(
    session: AsyncSession, actor: Actor, event: Event, user_id: uuid.UUID, *, now: datetime
) -> str | None:
    """Take the person out of their team in this event; what happened, or None (no team)."""
    if teams_locked(event, now):
        return None
    membership = await session.scalar(
        select(TeamMember).where(TeamMember.event_id == event.id, TeamMember.user_id == user_id)
    )
    if membership is None:
        return None
    team = await session.scalar(
        select(Team)
        .where(Team.id == membership.team_id, Team.disbanded_at.is_(None))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if team is None:
        return None
    await session.refresh(membership)
    details = {"user_id": str(user_id), "reason": "registration_cancelled"}
    if membership.role == TeamRole.CAPTAIN:
        successor = await session.scalar(
            select(TeamMember)
            .where(TeamMember.team_id == team.id, TeamMember.user_id != user_id)
            .order_by(TeamMember.joined_at, TeamMember.id)
            .limit(1)
        )
        if successor is None:
            if await has_submitted(session, team):
                return None  # the project stays with its team
            await disband(session, actor, team)
            await audit_team(session, actor, "team.disbanded", team, details=details)
            return "disbanded"
        successor.role = TeamRole.CAPTAIN
        team.captain_id = successor.user_id
        await session.delete(membership)
        await session.flush()
        await member_left(session, actor, team, user_id, reason="registration_cancelled")
        await audit_team(
            session,
            actor,
            "team.captain_transferred",
            team,
            details={**details, "from": str(user_id), "to": str(successor.user_id)},
        )
        return "captain_transferred"
    await session.delete(membership)
    await session.flush()
    await member_left(session, actor, team, user_id, reason="registration_cancelled")
    await audit_team(session, actor, "team_member.removed", team, details=details)
    return "removed"


async def registration_cancelled(
    session: AsyncSession, actor: Actor, cancelled: RegistrationCancelled
) -> None:
    """Handler of `registrations.hooks.registration_cancelled`."""
    event = await session.get_one(Event, cancelled.event_id)
    await release_member(session, actor, event, cancelled.user_id, now=cancelled.at)
