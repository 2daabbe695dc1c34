"""The limits of a team and the locks that hold them: the one way into a team (`add_member`).

Where each limit is held:
- One team per person per event: UNIQUE (event_id, user_id) on team_members. `add_member` checks
  first for a clear error; two concurrent joins of different teams both pass that check, the
  second insert waits on the unique index and fails when the first commits -> 409
  `already_in_a_team`.
- Team size: every add locks the team row (SELECT ... FOR UPDATE) and checks member_count <
  max_members, so concurrent joins of one team are serialized; the trigger-kept member_count and
  CHECK (member_count <= max_members) back it -> 409 `team_full`.
- Only registered people are members: the joiner's registration is locked FOR SHARE and must be
  registered or checked in (a concurrent cancel waits); FK (event_id, user_id) -> registrations.
- Team name unique per event (case-insensitive, non-disbanded teams): a unique index -> 409
  `team_name_taken`.
- Team changes refused after submissions close (grace included), read with the database clock:
  409 `teams_locked`.

Domain events: `add_member` writes `team.member_joined` (by code, invitation or approved request);
a team's creator joins too (`via="created"`, written by `service.create_team`), so the joins minus
the `team.member_left` events of a team are its members. Leaving writes `team.member_left`
(`service.member_left`).

Lock order, always: the person's registration, then the team row, then invitations/requests.
Team changes take these locks through `lock_registration`, `lock_team` and `lock_for_change`.
Invitations and join requests live in recruiting.py; creating, editing and disbanding a team in
service.py; joining by code, leaving, removing and captaincy in membership.py.
"""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.constraints import ConstraintErrors, savepoint
from hackops.db import db_now
from hackops.errors import Conflict
from hackops.events.lifecycle import teams_locked
from hackops.models import SEATED, Event, Registration, Team, TeamMember, TeamRole
from hackops.outbox import catalog
from hackops.outbox.service import emit
from hackops.teams.access import NotCaptain, TeamNotFound, TeamView, current_team_id, signed_in


class NotRegistered(Conflict):
    code = "not_registered"
    message = "Only people registered for the event (registered or checked in) can be on a team."


class AlreadyInATeam(Conflict):
    code = "already_in_a_team"
    message = "That person is already on a team in this event."


class TeamFull(Conflict):
    code = "team_full"
    message = "This team has no free seat."


class TeamsLocked(Conflict):
    code = "teams_locked"
    message = "Submissions have closed: teams can no longer change."


class TeamNameTaken(Conflict):
    code = "team_name_taken"
    message = "Another team of this event already has that name."


class JoinRequestPending(Conflict):
    code = "join_request_pending"
    message = "You already asked to join this team."


#: Constraint names (from the migration) and the error each one means to the caller.
CONSTRAINT_ERRORS: ConstraintErrors = {
    "uq_team_members_event_id_user_id": AlreadyInATeam,
    "uq_team_members_team_id_user_id": AlreadyInATeam,
    "ck_teams_size_within_max": TeamFull,
    "fk_team_members_event_id_user_id_registrations": NotRegistered,
    "uq_teams_event_id_name": TeamNameTaken,
    "uq_team_join_requests_pending": JoinRequestPending,
}


async def flush_or_conflict(session: AsyncSession, *objects: object) -> None:
    """Add and flush in a savepoint; a constraint the checks above missed (a concurrent change)
    becomes its 409, never a 500."""
    async with savepoint(session, CONSTRAINT_ERRORS):
        session.add_all(objects)
        await session.flush()


async def require_unlocked(session: AsyncSession, event: Event) -> None:
    if teams_locked(event, await db_now(session)):
        raise TeamsLocked


async def lock_registration(
    session: AsyncSession, event: Event, user_id: uuid.UUID
) -> Registration:
    """The person's seated registration, locked FOR SHARE so it cannot be cancelled meanwhile."""
    registration = await session.scalar(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.user_id == user_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    if registration is None or registration.status not in SEATED:
        raise NotRegistered
    return registration


async def lock_team(session: AsyncSession, event: Event, team_id: uuid.UUID) -> Team:
    team = await session.scalar(
        select(Team)
        .where(Team.id == team_id, Team.event_id == event.id, Team.disbanded_at.is_(None))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if team is None:
        raise TeamNotFound
    return team


async def lock_for_change(
    session: AsyncSession, view: TeamView, *, captain: bool
) -> tuple[Team, TeamMember]:
    """Lock the team row, then re-read the caller's membership under that lock: a concurrent
    captain transfer or removal is seen, so an ex-captain cannot act once more."""
    await require_unlocked(session, view.access.event)
    team = await lock_team(session, view.access.event, view.team.id)
    user = signed_in(view.access)
    membership = await session.scalar(
        select(TeamMember)
        .where(TeamMember.team_id == team.id, TeamMember.user_id == user.id)
        .execution_options(populate_existing=True)
    )
    if membership is None:
        raise TeamNotFound
    if captain and membership.role != TeamRole.CAPTAIN:
        raise NotCaptain
    return team, membership


#: How a person got into a team (`team.member_joined`'s `via`).
JoinedVia = Literal["created", "code", "invitation", "request"]


async def joined(
    session: AsyncSession, actor: Actor, team: Team, user_id: uuid.UUID, *, via: JoinedVia
) -> None:
    """Write `team.member_joined` (every way into a team, the creator's included)."""
    await emit(
        session,
        actor,
        catalog.TeamMemberJoined(team_id=team.id, user_id=user_id, via=via),
        org_id=team.org_id,
        event_id=team.event_id,
    )


async def add_member(
    session: AsyncSession,
    actor: Actor,
    event: Event,
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    via: JoinedVia,
) -> tuple[Team, TeamMember]:
    """The one way into a team: registration locked, team row locked, seat and one-team checks,
    then the insert (whose constraints back each check), then `team.member_joined`."""
    await lock_registration(session, event, user_id)
    team = await lock_team(session, event, team_id)
    if await current_team_id(session, event, user_id) is not None:
        raise AlreadyInATeam
    if team.member_count >= team.max_members:
        raise TeamFull
    member = TeamMember(
        org_id=event.org_id,
        event_id=event.id,
        team_id=team.id,
        user_id=user_id,
        role=TeamRole.MEMBER,
    )
    await flush_or_conflict(session, member)
    await session.refresh(team, ["member_count"])
    await session.refresh(member, ["joined_at"])
    await joined(session, actor, team, user_id, via=via)
    return team, member
