"""A team as the caller may see it: loading and authorizing, framework-free (`deps.TeamDep`
wraps `load_team` for the routes and pages).

- The team's basics: the event's organizers and mentors, its registered participants and the
  team's own members; a judge only when they judge the team's submitted work
  (`events.roles.reach`: handed to them, no conflict). Anyone else gets 404.
- Member-only things are 404 to non-members (they do not learn that these exist); captain-only
  actions are 403 (`NotCaptain`) to the other members.
- An invitation is answered only by the person it names (`TEAM_INVITATIONS`, this table in the
  invitation core: its address, or its account when invited by user id; anyone else 403
  `invitation_not_yours`); an unknown, used, revoked or expired link is one 404.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import gate, invitations
from hackops.actor import NotAuthenticated
from hackops.errors import Forbidden, NotFound
from hackops.events.access import EventAccess
from hackops.events.roles.reach import judge_sees_team
from hackops.models import SEATED, Event, Team, TeamInvitation, TeamMember, TeamRole, User
from hackops.rows import fetch_one, hydrate, width


class InvitationNotFound(NotFound):
    code = "team_invitation_not_found"
    message = "This invitation does not exist, was already used or revoked, or has expired."


class InvitationNotYours(Forbidden):
    code = "invitation_not_yours"
    message = "This invitation was sent to someone else; sign in as the invited person."


def _scope(invitation: TeamInvitation) -> dict[str, str]:
    return {"team_id": str(invitation.team_id), "event_id": str(invitation.event_id)}


#: Team invitations in the invitation core: a used, revoked or expired link is the same 404 as
#: an unknown one; one by user id is that account's; accepting does not confirm an address.
TEAM_INVITATIONS = invitations.Kind(
    model=TeamInvitation,
    name="team_invitation",
    states=invitations.Status(by_column="invited_user_id"),
    refusals=invitations.Refusals.one(InvitationNotFound, other_address=InvitationNotYours),
    scope=_scope,
    user_column="invited_user_id",
)


class TeamNotFound(NotFound):
    code = "team_not_found"
    message = "No such team."


class NotCaptain(Forbidden):
    code = "not_captain"
    message = "Only the team's captain can do this."


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
        return self.membership is not None and self.membership.role == TeamRole.CAPTAIN


def signed_in(access: EventAccess) -> User:
    if access.actor.user is None:
        raise NotAuthenticated
    return access.actor.user


# The model's column names only are interpolated; the values are bound.
_TEAM_COLUMNS = ", ".join(
    [f't."{c.name}"' for c in Team.__table__.columns]
    + [f'm."{c.name}"' for c in TeamMember.__table__.columns]
)
_TEAM = (
    f"SELECT {_TEAM_COLUMNS}"  # noqa: S608
    " FROM teams t LEFT JOIN team_members m ON m.team_id = t.id AND m.user_id = %(user_id)s"
    " WHERE t.id = %(team_id)s AND t.event_id = %(event_id)s AND t.disbanded_at IS NULL"
)
_TEAM_WIDTH = width(Team)


def is_participant(access: EventAccess) -> bool:
    reg = access.registration
    return reg is not None and reg.status in SEATED


async def load_team(session: AsyncSession, access: EventAccess, team_id: uuid.UUID) -> TeamView:
    """The team's basics are visible to the event's organizers and mentors, its registered
    participants and the team's own members; to a judge only when they judge the team's
    submitted work (`events.roles.reach`: handed to them, no conflict). Anyone else gets 404."""
    user_id = access.actor.user.id if access.actor.user is not None else None
    team, membership = await _team_and_membership(session, access, team_id, user_id)
    if membership is None and not access.sees_every_team and not is_participant(access):
        user = access.actor.user
        if not access.is_judge or user is None:
            raise TeamNotFound
        if not await judge_sees_team(session, access.event.id, user.id, team.id):
            raise TeamNotFound
    return TeamView(access, team, membership)


async def _team_and_membership(
    session: AsyncSession, access: EventAccess, team_id: uuid.UUID, user_id: uuid.UUID | None
) -> tuple[Team, TeamMember | None]:
    """The live team of the event and the caller's membership: what the request gate read for
    this route (`gate.take_team`), else one statement (on the driver, `hackops.rows`: the team's
    columns, then the membership's, nulls for none)."""
    fetched = gate.take_team(session, access.event.id, team_id, user_id)
    if fetched is not None:
        if fetched.team is None:
            raise TeamNotFound
        return fetched.team, fetched.membership
    row = await fetch_one(
        session, _TEAM, {"team_id": team_id, "event_id": access.event.id, "user_id": user_id}
    )
    if row is None:
        raise TeamNotFound
    member = row[_TEAM_WIDTH:]
    membership = None if member[0] is None else hydrate(session, TeamMember, member)
    return hydrate(session, Team, row[:_TEAM_WIDTH]), membership


def require_member(view: TeamView) -> TeamMember:
    """Member-only things: non-members get 404 (they do not learn that these exist)."""
    if view.membership is None:
        raise TeamNotFound
    return view.membership


def require_captain(view: TeamView) -> TeamMember:
    membership = require_member(view)
    if membership.role != TeamRole.CAPTAIN:
        raise NotCaptain
    return membership


async def current_team_id(
    session: AsyncSession, event: Event, user_id: uuid.UUID
) -> uuid.UUID | None:
    return await session.scalar(
        select(TeamMember.team_id).where(
            TeamMember.event_id == event.id, TeamMember.user_id == user_id
        )
    )
