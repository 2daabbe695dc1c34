"""Recruiting: the team finder, and the two ways a match becomes a membership (invitations
from a team, join requests from a person).

Finder ranking, both ways: first whether the skill arrays overlap at all (`&&`, served by the
GIN indexes on teams.skills_wanted and registrations.skills when it filters), then how many
skills match, then text relevance (`ts_rank` on teams.search for teams; on the person's name and
note for people), then age and id so pages are stable. Skills are stored case-folded (see
`schemas.normalize_skills`), so equality is enough to match them. The SQL is written out: the
ranking expressions are easier to read, and to check with EXPLAIN, than their expression-builder
form. Only fixed fragments are joined; every value is bound.

Invitations and join requests end in `service.add_member`, which holds the team's limits (see
service.py). Lock order there and here: registration, team, then the invitation or request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import digest, new_secret, normalize_email
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import Conflict, Forbidden, NotFound
from hackops.events.deps import EventAccess
from hackops.mail.service import queue_email
from hackops.models import SEATED, JoinRequest, Registration, Team, TeamInvitation, TeamMember, User
from hackops.teams.service import (
    AlreadyInATeam,
    NotRegistered,
    TeamFull,
    TeamNotFound,
    TeamView,
    add_member,
    audit_team,
    current_team_id,
    flush_or_conflict,
    is_participant,
    lock_registration,
    require_captain,
    require_member,
    require_unlocked,
    signed_in,
)

INVITATION_LIFETIME = timedelta(days=7)


class JoinRequestNotFound(NotFound):
    code = "join_request_not_found"
    message = "No such pending join request."


class InvitationNotFound(NotFound):
    code = "team_invitation_not_found"
    message = "This invitation does not exist, was already used or revoked, or has expired."


MAX_PAGE = 50
SUGGESTIONS = 10


class FinderNotFound(NotFound):
    code = "registration_not_found"
    message = "Register for the event to use the team finder."


@dataclass(frozen=True)
class TeamRow:
    id: uuid.UUID
    event_id: uuid.UUID
    name: str
    description: str
    captain_id: uuid.UUID
    recruiting: bool
    skills_wanted: list[str]
    member_count: int
    max_members: int
    created_at: datetime
    matching_skills: list[str]
    rank: float


@dataclass(frozen=True)
class PersonRow:
    user_id: uuid.UUID
    name: str
    skills: list[str]
    note: str
    matching_skills: list[str]
    rank: float


TEAM_FIELDS = tuple(TeamRow.__dataclass_fields__)
PERSON_FIELDS = tuple(PersonRow.__dataclass_fields__)


def require_finder_access(access: EventAccess) -> None:
    """Participants (registered or checked in) and the event's staff; anyone else: 404."""
    if not access.is_staff and not is_participant(access):
        raise FinderNotFound


async def update_profile(
    session: AsyncSession, access: EventAccess, changes: dict[str, Any]
) -> Registration:
    """Set looking-for-team, skills and note on the caller's own registration."""
    signed_in(access)
    registration = access.registration
    if registration is None:
        raise FinderNotFound
    if registration.status not in SEATED:
        raise NotRegistered
    fields = {"looking_for_team": "looking_for_team", "skills": "skills", "note": "finder_note"}
    applied = {fields[k]: v for k, v in changes.items() if k in fields and v is not None}
    for column, value in applied.items():
        setattr(registration, column, value)
    await session.flush()
    await record(
        session,
        access.actor,
        "registration.finder_updated",
        resource_type="registration",
        resource_id=registration.id,
        org_id=registration.org_id,
        details={"fields": sorted(applied)},
    )
    return registration


QUERY = """
    (SELECT CASE WHEN :q = '' THEN NULL
            ELSE websearch_to_tsquery('english', :q) || websearch_to_tsquery('simple', :q)
            END AS query) AS q
"""

TEAMS_SQL = """
SELECT * FROM (
  SELECT t.id, t.event_id, t.name, t.description, t.captain_id, t.recruiting,
         t.skills_wanted, t.member_count, t.max_members, t.created_at,
         ARRAY(SELECT s FROM unnest(t.skills_wanted) AS s WHERE s = ANY(:mine))
           AS matching_skills,
         (t.skills_wanted && CAST(:mine AS varchar[])) AS has_overlap,
         coalesce(ts_rank(t.search, q.query), 0) AS rank
  FROM teams AS t, {query}
  WHERE t.event_id = :event_id AND t.disbanded_at IS NULL {filters}
) AS ranked
ORDER BY has_overlap DESC, cardinality(matching_skills) DESC, rank DESC, created_at, id
LIMIT :limit OFFSET :offset
"""

PEOPLE_SQL = """
SELECT * FROM (
  SELECT r.user_id, u.name, r.skills, r.finder_note AS note, r.created_at,
         ARRAY(SELECT s FROM unnest(r.skills) AS s WHERE s = ANY(:wanted)) AS matching_skills,
         (r.skills && CAST(:wanted AS varchar[])) AS has_overlap,
         coalesce(ts_rank(to_tsvector('simple', u.name || ' ' || r.finder_note), q.query), 0)
           AS rank
  FROM registrations AS r JOIN users AS u ON u.id = r.user_id, {query}
  WHERE r.event_id = :event_id
    AND r.status IN ('registered', 'checked_in')
    AND r.looking_for_team
    AND u.deleted_at IS NULL
    AND NOT EXISTS (
      SELECT 1 FROM team_members AS m WHERE m.event_id = r.event_id AND m.user_id = r.user_id
    )
    AND r.user_id <> :me {filters}
) AS ranked
ORDER BY has_overlap DESC, cardinality(matching_skills) DESC, rank DESC, created_at, user_id
LIMIT :limit OFFSET :offset
"""


async def _my_team_id(session: AsyncSession, access: EventAccess) -> uuid.UUID | None:
    if access.actor.user is None:
        return None
    return await session.scalar(
        select(TeamMember.team_id).where(
            TeamMember.event_id == access.event.id, TeamMember.user_id == access.actor.user.id
        )
    )


async def search_teams(
    session: AsyncSession,
    access: EventAccess,
    *,
    q: str = "",
    skill: str | None = None,
    recruiting_only: bool = True,
    with_room_only: bool = False,
    overlap_only: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> list[TeamRow]:
    """Teams for me, ranked by how many of my finder skills they want."""
    require_finder_access(access)
    mine = list(access.registration.skills) if access.registration is not None else []
    filters = ["AND t.id IS DISTINCT FROM :my_team"]
    if recruiting_only:
        filters.append("AND t.recruiting")
    if with_room_only:
        filters.append("AND t.member_count < t.max_members")
    if skill:
        filters.append("AND t.skills_wanted @> ARRAY[CAST(:skill AS varchar)]")
    if q:
        filters.append("AND t.search @@ q.query")
    if overlap_only:
        filters.append("AND t.skills_wanted && CAST(:mine AS varchar[])")
    sql = TEAMS_SQL.format(query=QUERY, filters=" ".join(filters))
    rows = await session.execute(
        text(sql),
        {
            "event_id": access.event.id,
            "mine": mine,
            "q": q,
            "skill": skill or "",
            "my_team": await _my_team_id(session, access),
            "limit": min(limit, MAX_PAGE),
            "offset": offset,
        },
    )
    return [TeamRow(**{k: row._mapping[k] for k in TEAM_FIELDS}) for row in rows]


async def search_people(
    session: AsyncSession,
    access: EventAccess,
    *,
    q: str = "",
    skill: str | None = None,
    overlap_only: bool = False,
    require_team: bool = False,
    limit: int = 20,
    offset: int = 0,
) -> list[PersonRow]:
    """People looking for a team (not on one), ranked by how many of my team's wanted skills
    they have."""
    require_finder_access(access)
    wanted: list[str] = []
    team_id = await _my_team_id(session, access)
    if team_id is not None:
        wanted = list(
            await session.scalar(select(Team.skills_wanted).where(Team.id == team_id)) or []
        )
    elif require_team:
        raise TeamNotFound("You are not on a team in this event.")
    filters = []
    if skill:
        filters.append("AND r.skills @> ARRAY[CAST(:skill AS varchar)]")
    if q:
        filters.append("AND to_tsvector('simple', u.name || ' ' || r.finder_note) @@ q.query")
    if overlap_only:
        filters.append("AND r.skills && CAST(:wanted AS varchar[])")
    sql = PEOPLE_SQL.format(query=QUERY, filters=" ".join(filters))
    me = access.actor.user.id if access.actor.user is not None else uuid.UUID(int=0)
    rows = await session.execute(
        text(sql),
        {
            "event_id": access.event.id,
            "wanted": wanted,
            "q": q,
            "skill": skill or "",
            "me": me,
            "limit": min(limit, MAX_PAGE),
            "offset": offset,
        },
    )
    return [PersonRow(**{k: row._mapping[k] for k in PERSON_FIELDS}) for row in rows]


async def suggest_teams(session: AsyncSession, access: EventAccess) -> list[TeamRow]:
    """Recruiting teams with a free seat that want at least one of my skills, best first."""
    return await search_teams(
        session,
        access,
        recruiting_only=True,
        with_room_only=True,
        overlap_only=True,
        limit=SUGGESTIONS,
    )


async def suggest_people(session: AsyncSession, access: EventAccess) -> list[PersonRow]:
    """People looking for a team who have at least one skill my team wants, best first."""
    return await search_people(
        session, access, overlap_only=True, require_team=True, limit=SUGGESTIONS
    )


# --- invitations and join requests -------------------------------------------------------------


async def _settle(
    session: AsyncSession,
    actor: Actor,
    team: Team,
    item: TeamInvitation | JoinRequest,
    status: str,
    **details: str,
) -> None:
    """Close a pending invitation or join request with `status`; one audit row."""
    item.status = status
    item.decided_at = await db_now(session)
    await session.flush()
    kind = "team_invitation" if isinstance(item, TeamInvitation) else "join_request"
    await audit_team(
        session,
        actor,
        f"{kind}.{status}",
        team,
        resource_type=kind,
        resource_id=item.id,
        details=dict(details),
    )


async def invite(
    session: AsyncSession,
    view: TeamView,
    *,
    email: str | None,
    user_id: uuid.UUID | None,
    base_url: str,
) -> TeamInvitation:
    """The captain invites someone by email or by user id; the mail carries a single-use token
    (only its hash is stored), valid for 7 days."""
    require_captain(view)
    access, team = view.access, view.team
    await require_unlocked(session, access.event)
    if user_id is not None:
        invited = await session.get(User, user_id)
        if invited is None or invited.deleted_at is not None:
            raise NotFound("No such user.", code="user_not_found")
        address = invited.email
    else:
        address = normalize_email(email or "")
        invited = await session.scalar(select(User).where(User.email == address))
    if invited is not None and await current_team_id(session, access.event, invited.id) == team.id:
        raise Conflict("That person is already on this team.", code="already_member")
    if team.member_count >= team.max_members:
        raise TeamFull
    now = await db_now(session)
    pending = await session.scalar(
        select(TeamInvitation.id).where(
            TeamInvitation.team_id == team.id,
            TeamInvitation.email == address,
            TeamInvitation.status == "pending",
            TeamInvitation.expires_at > now,
        )
    )
    if pending is not None:
        raise Conflict(
            "That person already has a pending invitation to this team.",
            code="team_invitation_pending",
        )
    raw, hashed = new_secret()
    inviter = signed_in(access)
    invitation = TeamInvitation(
        org_id=team.org_id,
        event_id=team.event_id,
        team_id=team.id,
        email=address,
        invited_user_id=invited.id if invited is not None else None,
        token_hash=hashed,
        invited_by_id=inviter.id,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    await session.flush()
    await session.refresh(invitation)
    event_path = f"/orgs/{access.org.slug}/events/{access.event.slug}"
    link = f"{base_url}{event_path}/team-invitations?token={raw}"
    await queue_email(
        session,
        to=address,
        subject=f"Join team {team.name} at {access.event.name}",
        body=(
            f"{inviter.name or inviter.email} invited you to join the team {team.name} at "
            f"{access.event.name}.\n\nAccept or decline within 7 days:\n\n{link}\n\n"
            "You need to be registered for the event to join.\n"
        ),
        user_id=invited.id if invited is not None else None,
    )
    await audit_team(
        session,
        access.actor,
        "team_invitation.created",
        team,
        resource_type="team_invitation",
        resource_id=invitation.id,
        details={"email": address},
    )
    return invitation


async def list_invitations(session: AsyncSession, view: TeamView) -> list[TeamInvitation]:
    require_member(view)
    rows = await session.scalars(
        select(TeamInvitation)
        .where(TeamInvitation.team_id == view.team.id, TeamInvitation.status == "pending")
        .order_by(TeamInvitation.created_at.desc(), TeamInvitation.id)
    )
    return list(rows)


async def revoke_invitation(
    session: AsyncSession, view: TeamView, invitation_id: uuid.UUID
) -> TeamInvitation:
    require_captain(view)
    invitation = await session.scalar(
        select(TeamInvitation)
        .where(
            TeamInvitation.id == invitation_id,
            TeamInvitation.team_id == view.team.id,
            TeamInvitation.status == "pending",
        )
        .with_for_update()
    )
    if invitation is None:
        raise InvitationNotFound
    await _settle(session, view.access.actor, view.team, invitation, "revoked")
    return invitation


async def _invitation_for_me(
    session: AsyncSession, access: EventAccess, token: str, *, lock: bool = True
) -> TeamInvitation:
    """The pending, unexpired invitation of this token (locked); it must be the caller's."""
    user = signed_in(access)
    query = select(TeamInvitation).where(
        TeamInvitation.event_id == access.event.id, TeamInvitation.token_hash == digest(token)
    )
    if lock:
        query = query.with_for_update()
    invitation = await session.scalar(query.execution_options(populate_existing=True))
    now = await db_now(session)
    if invitation is None or invitation.status != "pending" or invitation.expires_at <= now:
        raise InvitationNotFound
    if invitation.invited_user_id != user.id and invitation.email != user.email:
        raise Forbidden(
            "This invitation was sent to someone else; sign in as the invited person.",
            code="invitation_not_yours",
        )
    return invitation


async def accept_invitation(
    session: AsyncSession, access: EventAccess, *, token: str
) -> TeamMember:
    """The invited person joins. Checked first without locks, then the member is added (locking
    registration and team) and the invitation locked and checked again: a revoke or a second
    use meanwhile makes this fail and roll back."""
    user = signed_in(access)
    await require_unlocked(session, access.event)
    first = await _invitation_for_me(session, access, token, lock=False)
    team, member = await add_member(session, access.event, first.team_id, user.id)
    invitation = await _invitation_for_me(session, access, token)
    invitation.invited_user_id = user.id
    await _settle(session, access.actor, team, invitation, "accepted")
    return member


async def decline_invitation(
    session: AsyncSession, access: EventAccess, *, token: str
) -> TeamInvitation:
    invitation = await _invitation_for_me(session, access, token)
    team = await session.get_one(Team, invitation.team_id)
    await _settle(session, access.actor, team, invitation, "declined")
    return invitation


async def request_to_join(session: AsyncSession, view: TeamView, *, message: str) -> JoinRequest:
    user = signed_in(view.access)
    event, team = view.access.event, view.team
    await require_unlocked(session, event)
    await lock_registration(session, event, user.id)
    if await current_team_id(session, event, user.id) is not None:
        raise AlreadyInATeam("You are already on a team in this event.")
    if not team.recruiting:
        raise Conflict("This team is not recruiting.", code="team_not_recruiting")
    if team.member_count >= team.max_members:
        raise TeamFull
    request = JoinRequest(
        org_id=team.org_id, event_id=event.id, team_id=team.id, user_id=user.id, message=message
    )
    await flush_or_conflict(session, request)
    await session.refresh(request)
    await audit_team(
        session,
        view.access.actor,
        "join_request.created",
        team,
        resource_type="join_request",
        resource_id=request.id,
    )
    return request


async def list_join_requests(session: AsyncSession, view: TeamView) -> list[JoinRequest]:
    require_member(view)
    rows = await session.scalars(
        select(JoinRequest)
        .where(JoinRequest.team_id == view.team.id, JoinRequest.status == "pending")
        .order_by(JoinRequest.created_at, JoinRequest.id)
    )
    return list(rows)


async def _pending_request(session: AsyncSession, team: Team, request_id: uuid.UUID) -> JoinRequest:
    request = await session.scalar(
        select(JoinRequest)
        .where(
            JoinRequest.id == request_id,
            JoinRequest.team_id == team.id,
            JoinRequest.status == "pending",
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if request is None:
        raise JoinRequestNotFound
    return request


async def decide_join_request(
    session: AsyncSession, view: TeamView, request_id: uuid.UUID, *, approve: bool
) -> JoinRequest:
    """The captain approves (the requester joins: registration and team locked first, as
    everywhere, then the request) or declines."""
    captain = require_captain(view)
    event, team = view.access.event, view.team
    await require_unlocked(session, event)
    if approve:  # the lock order: registration, team, then the request
        requester = await session.scalar(
            select(JoinRequest.user_id).where(
                JoinRequest.id == request_id,
                JoinRequest.team_id == team.id,
                JoinRequest.status == "pending",
            )
        )
        if requester is None:
            raise JoinRequestNotFound
        team, _ = await add_member(session, event, team.id, requester)
    request = await _pending_request(session, team, request_id)
    request.decided_by_id = captain.user_id
    status = "approved" if approve else "declined"
    await _settle(session, view.access.actor, team, request, status, user_id=str(request.user_id))
    return request


async def withdraw_join_request(
    session: AsyncSession, view: TeamView, request_id: uuid.UUID
) -> JoinRequest:
    user = signed_in(view.access)
    request = await _pending_request(session, view.team, request_id)
    if request.user_id != user.id:
        raise JoinRequestNotFound
    await _settle(session, view.access.actor, view.team, request, "withdrawn")
    return request
