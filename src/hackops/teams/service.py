"""Teams: create, edit, invitations, join requests, join by code, leave, captain transfer, disband.

Where each limit is held:
- One team per person per event: UNIQUE (event_id, user_id) on team_members. The service checks
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

Lock order, always: the person's registration, then the team row, then invitations/requests.
Invitations and join requests live in recruiting.py; the team finder in finder.py.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor, NotAuthenticated
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import AppError, Conflict, Forbidden, NotFound
from hackops.events.access import EventAccess
from hackops.events.lifecycle import teams_locked
from hackops.events.roles.reach import judge_sees_team
from hackops.models import (
    SEATED,
    Event,
    JoinRequest,
    Registration,
    Submission,
    Team,
    TeamInvitation,
    TeamMember,
    TeamRole,
    User,
)

JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
JOIN_CODE_LENGTH = 8


class TeamNotFound(NotFound):
    code = "team_not_found"
    message = "No such team."


class MemberNotFound(NotFound):
    code = "team_member_not_found"
    message = "That person is not a member of this team."


class TeamHasSubmission(Conflict):
    code = "team_has_submission"
    message = "This team has submitted a project; it cannot be disbanded."


class NotCaptain(Forbidden):
    code = "not_captain"
    message = "Only the team's captain can do this."


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


class CaptainMustTransfer(Conflict):
    code = "captain_must_transfer"
    message = "Make another member captain before leaving the team."


class JoinRequestPending(Conflict):
    code = "join_request_pending"
    message = "You already asked to join this team."


#: Constraint names (from the migration) and the error each one means to the caller.
CONSTRAINT_ERRORS: dict[str, type[AppError]] = {
    "uq_team_members_event_id_user_id": AlreadyInATeam,
    "uq_team_members_team_id_user_id": AlreadyInATeam,
    "ck_teams_size_within_max": TeamFull,
    "fk_team_members_event_id_user_id_registrations": NotRegistered,
    "uq_teams_event_id_name": TeamNameTaken,
    "uq_team_join_requests_pending": JoinRequestPending,
}


def constraint_error(exc: IntegrityError) -> AppError | None:
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    error = CONSTRAINT_ERRORS.get(name)
    return error() if error is not None else None


async def flush_or_conflict(session: AsyncSession, *objects: object) -> None:
    """Add and flush in a savepoint; a constraint the checks above missed (a concurrent change)
    becomes its 409, never a 500."""
    try:
        async with session.begin_nested():
            session.add_all(objects)
            await session.flush()
    except IntegrityError as exc:
        error = constraint_error(exc)
        if error is None:
            raise
        raise error from exc


@dataclass(frozen=True)
class TeamView:
    """A team as the caller sees it, with the caller's membership (if any)."""

    access: EventAccess
    team: Team
    membership: TeamMember | None

    @property
    def is_member(self) -> bool:
        return self.membership is not None

    @property
    def is_captain(self) -> bool:
        return self.membership is not None and self.membership.role == TeamRole.CAPTAIN.value


def signed_in(access: EventAccess) -> User:
    if access.actor.user is None:
        raise NotAuthenticated
    return access.actor.user


def is_participant(access: EventAccess) -> bool:
    reg = access.registration
    return reg is not None and reg.status in SEATED


async def load_team(session: AsyncSession, access: EventAccess, team_id: uuid.UUID) -> TeamView:
    """The team's basics are visible to the event's organizers and mentors, its registered
    participants and the team's own members; to a judge only when they judge the team's
    submitted work (`events.roles.reach`: handed to them, no conflict). Anyone else gets 404."""
    team = await session.scalar(
        select(Team).where(
            Team.id == team_id, Team.event_id == access.event.id, Team.disbanded_at.is_(None)
        )
    )
    if team is None:
        raise TeamNotFound
    membership = None
    if access.actor.user is not None:
        membership = await session.scalar(
            select(TeamMember).where(
                TeamMember.team_id == team.id, TeamMember.user_id == access.actor.user.id
            )
        )
    if membership is None and not access.sees_every_team and not is_participant(access):
        user = access.actor.user
        if not access.is_judge or user is None:
            raise TeamNotFound
        if not await judge_sees_team(session, access.event.id, user.id, team.id):
            raise TeamNotFound
    return TeamView(access, team, membership)


def require_member(view: TeamView) -> TeamMember:
    """Member-only things: non-members get 404 (they do not learn that these exist)."""
    if view.membership is None:
        raise TeamNotFound
    return view.membership


def require_captain(view: TeamView) -> TeamMember:
    membership = require_member(view)
    if membership.role != TeamRole.CAPTAIN.value:
        raise NotCaptain
    return membership


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
    if captain and membership.role != TeamRole.CAPTAIN.value:
        raise NotCaptain
    return team, membership


async def current_team_id(
    session: AsyncSession, event: Event, user_id: uuid.UUID
) -> uuid.UUID | None:
    return await session.scalar(
        select(TeamMember.team_id).where(
            TeamMember.event_id == event.id, TeamMember.user_id == user_id
        )
    )


async def add_member(
    session: AsyncSession, event: Event, team_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Team, TeamMember]:
    """The one way into a team: registration locked, team row locked, seat and one-team checks,
    then the insert (whose constraints back each check)."""
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
        role=TeamRole.MEMBER.value,
    )
    await flush_or_conflict(session, member)
    await session.refresh(team, ["member_count"])
    await session.refresh(member, ["joined_at"])
    return team, member


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


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


# --- create and edit -----------------------------------------------------------------------------


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
        role=TeamRole.CAPTAIN.value,
    )
    await flush_or_conflict(session, captain)
    await session.refresh(team)
    await audit_team(session, access.actor, "team.created", team, details={"name": name})
    return team


async def update_team(session: AsyncSession, view: TeamView, changes: dict[str, Any]) -> Team:
    """Rename, describe, recruiting flag, skills wanted (the captain)."""
    require_captain(view)
    team, _ = await lock_for_change(session, view, captain=True)
    allowed = {"name", "description", "recruiting", "skills_wanted"}
    applied = {k: v for k, v in changes.items() if k in allowed and v is not None}
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


# --- joining and leaving -------------------------------------------------------------------------


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
    team, member = await add_member(session, event, team_id, user.id)
    await audit_team(session, access.actor, "team_member.joined", team, details={"via": "code"})
    return member


async def leave_team(session: AsyncSession, view: TeamView) -> bool:
    """Leave the team. A captain must transfer first unless alone; a captain alone disbands the
    team by leaving. Returns whether the team was disbanded."""
    require_member(view)
    team, membership = await lock_for_change(session, view, captain=False)
    disband = False
    if membership.role == TeamRole.CAPTAIN.value:
        if team.member_count > 1:
            raise CaptainMustTransfer
        disband = True
    if disband:
        await _disband(session, team)
    else:
        await session.delete(membership)
        await session.flush()
    await audit_team(
        session, view.access.actor, "team_member.left", team, details={"disbanded": disband}
    )
    return disband


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
        captain.role = TeamRole.MEMBER.value
        successor.role = TeamRole.CAPTAIN.value
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


async def disband_team(session: AsyncSession, view: TeamView) -> None:
    """Disband (the captain). Only without a submitted project (`_disband` checks)."""
    require_captain(view)
    team, _ = await lock_for_change(session, view, captain=True)
    await _disband(session, team)
    await audit_team(session, view.access.actor, "team.disbanded", team)


async def _disband(session: AsyncSession, team: Team) -> None:
    """Members are removed (each is free to join another team), open invitations revoked and
    pending requests declined; the team row stays, marked disbanded, for history. A team that
    has submitted its project cannot be disbanded (the submission refers to it)."""
    if await has_submitted(session, team):
        raise TeamHasSubmission
    now = await db_now(session)
    members = await session.scalars(select(TeamMember).where(TeamMember.team_id == team.id))
    for member in members:
        await session.delete(member)
    pending_invitations = await session.scalars(
        select(TeamInvitation).where(
            TeamInvitation.team_id == team.id, TeamInvitation.status == "pending"
        )
    )
    for invitation in pending_invitations:
        invitation.status = "revoked"
        invitation.decided_at = now
    pending_requests = await session.scalars(
        select(JoinRequest).where(JoinRequest.team_id == team.id, JoinRequest.status == "pending")
    )
    for request in pending_requests:
        request.status = "declined"
        request.decided_at = now
    team.disbanded_at = now
    team.recruiting = False
    await session.flush()


async def has_submitted(session: AsyncSession, team: Team) -> bool:
    count = await session.scalar(
        select(Submission.version_count).where(
            Submission.event_id == team.event_id, Submission.team_id == team.id
        )
    )
    return bool(count)
