"""Teams of an event: the team and its captain, members, invitations and join requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import new_secret
from hackops.models import Event, JoinRequest, Team, TeamInvitation, TeamMember, User
from hackops.tenancy import set_tenant
from tests.factories.accounts import create_user
from tests.factories.events import create_event
from tests.factories.registrations import create_registration
from tests.factories.rows import insert, unique


async def create_team(
    session: AsyncSession, event: Event | None = None, captain: User | None = None, **overrides: Any
) -> Team:
    """A team with its captain as first member. A given captain must be registered already; a
    made one is registered here."""
    event = event or await create_event(session)
    if captain is None:
        captain = await create_user(session)
        await create_registration(session, event, captain)
    await set_tenant(session, event.org_id)
    values: dict[str, Any] = {
        "org_id": event.org_id,
        "event_id": event.id,
        "name": f"Team {unique()}",
        "captain_id": captain.id,
        "join_code": unique(4).upper(),
        "max_members": event.team_max,
    }
    values.update(overrides)
    team = await insert(session, Team, values)
    await insert(
        session,
        TeamMember,
        {
            "org_id": event.org_id,
            "event_id": event.id,
            "team_id": team.id,
            "user_id": captain.id,
            "role": "captain",
        },
    )
    await session.refresh(team)
    return team


async def _team_of(session: AsyncSession, team: Team | None) -> Team:
    """`team`, or a new one; the session's tenant becomes its organization."""
    team = team or await create_team(session)
    await set_tenant(session, team.org_id)
    return team


async def _registered_user(session: AsyncSession, team: Team, user: User | None) -> User:
    """`user`, or a new person registered for the team's event."""
    if user is not None:
        return user
    user = await create_user(session)
    event = await session.get_one(Event, team.event_id)
    await create_registration(session, event, user)
    return user


async def create_team_member(
    session: AsyncSession, team: Team | None = None, user: User | None = None, **overrides: Any
) -> TeamMember:
    """`user` joins `team` as a member (a given user must be registered for its event)."""
    team = await _team_of(session, team)
    user = await _registered_user(session, team, user)
    values: dict[str, Any] = {
        "org_id": team.org_id,
        "event_id": team.event_id,
        "team_id": team.id,
        "user_id": user.id,
    }
    values.update(overrides)
    member = await insert(session, TeamMember, values)
    await session.refresh(team)  # member_count, kept by a trigger
    return member


async def create_team_invitation(
    session: AsyncSession, team: Team | None = None, **overrides: Any
) -> TeamInvitation:
    """A pending invitation by email from the team's captain, valid for a week."""
    team = await _team_of(session, team)
    values: dict[str, Any] = {
        "org_id": team.org_id,
        "event_id": team.event_id,
        "team_id": team.id,
        "email": f"invitee-{unique(4)}@example.com",
        "token_hash": new_secret()[1],
        "invited_by_id": team.captain_id,
        "expires_at": datetime.now(UTC) + timedelta(days=7),
    }
    values.update(overrides)
    return await insert(session, TeamInvitation, values)


async def create_join_request(
    session: AsyncSession, team: Team | None = None, user: User | None = None, **overrides: Any
) -> JoinRequest:
    """A pending request of `user` (registered for the team's event) to join `team`."""
    team = await _team_of(session, team)
    user = await _registered_user(session, team, user)
    values: dict[str, Any] = {
        "org_id": team.org_id,
        "event_id": team.event_id,
        "team_id": team.id,
        "user_id": user.id,
    }
    values.update(overrides)
    return await insert(session, JoinRequest, values)
