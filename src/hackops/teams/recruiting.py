"""Recruiting: the two ways a match from the team finder becomes a membership, invitations from
a team (by email or user id, a single-use emailed token) and join requests from a person.

Both end in `service.add_member`, which holds the team's limits (see service.py). Lock order there
and here: registration, team, then the invitation or request. Closing either writes one audit row
(an invitation through the invitation core, `hackops.invitations.settle`: one guarded UPDATE, so
a second use or a revoke meanwhile is refused; a join request through `_settle`).

Who can be invited and what the team learns:
- by user id, only someone registered (seated) for the event; anyone else, and an id with no
  account, is the same 404 `participant_not_found`;
- by email, the address is linked to no account (anyone can sign up with someone else's
  address): whoever holds the mailed link and is signed in with that address accepts;
- answers name the invitee (their display name for a user-id invitation) but never carry their
  address, nor whether an address has an account.

Invitations and join requests are budgeted like event role invitations (`ratelimit.Limiter`):
per captain (or requester), per event, and mails per address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from limits import parse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import invitations
from hackops.accounts.credentials import normalize_email
from hackops.actor import Actor
from hackops.db import db_now
from hackops.errors import Conflict, NotFound
from hackops.events.access import EventAccess
from hackops.invitations import State
from hackops.mail.render import org_brand
from hackops.mail.service import queue_mail
from hackops.models import (
    SEATED,
    JoinRequest,
    JoinRequestStatus,
    Registration,
    Team,
    TeamInvitation,
    TeamMember,
    User,
)
from hackops.outbox import catalog
from hackops.outbox.service import emit
from hackops.ratelimit import Limiter, Rule
from hackops.teams.access import (
    TEAM_INVITATIONS,
    InvitationNotFound,
    TeamView,
    current_team_id,
    require_captain,
    require_member,
    signed_in,
)
from hackops.teams.limits import (
    AlreadyInATeam,
    TeamFull,
    add_member,
    flush_or_conflict,
    lock_registration,
    require_unlocked,
)
from hackops.teams.service import audit_team

#: Invitations one captain may send; all of an event's teams together; mails to one address.
INVITATIONS_PER_CAPTAIN = Rule("team-invites-captain", parse("20/hour"))
INVITATIONS_PER_EVENT = Rule("team-invites-event", parse("500/hour"))
INVITATION_MAIL_PER_ADDRESS = Rule("team-invite-mail-address", parse("5/hour"))
#: Join requests one person may send; all of an event's people together.
JOIN_REQUESTS_PER_PERSON = Rule("join-requests-person", parse("20/hour"))
JOIN_REQUESTS_PER_EVENT = Rule("join-requests-event", parse("500/hour"))


class ParticipantNotFound(NotFound):
    code = "participant_not_found"
    message = "No one registered for this event has that id."


class JoinRequestNotFound(NotFound):
    code = "join_request_not_found"
    message = "No such pending join request."


async def _settle(
    session: AsyncSession,
    actor: Actor,
    team: Team,
    request: JoinRequest,
    status: JoinRequestStatus,
    **details: str,
) -> None:
    """Close a pending join request with `status`; one audit row."""
    request.status = status
    request.decided_at = await db_now(session)
    await session.flush()
    await audit_team(
        session,
        actor,
        f"join_request.{status}",
        team,
        resource_type="join_request",
        resource_id=request.id,
        details=dict(details),
    )


async def _registered_participant(
    session: AsyncSession, access: EventAccess, user_id: uuid.UUID
) -> User:
    """The account with this id if it is seated in the event; else one 404 for every case."""
    invited = await session.scalar(
        select(User)
        .join(Registration, Registration.user_id == User.id)
        .where(
            User.id == user_id,
            User.deleted_at.is_(None),
            Registration.event_id == access.event.id,
            Registration.status.in_(SEATED),
        )
    )
    if invited is None:
        raise ParticipantNotFound
    return invited


async def invite(
    session: AsyncSession,
    view: TeamView,
    limiter: Limiter,
    *,
    email: str | None,
    user_id: uuid.UUID | None,
    base_url: str,
) -> TeamInvitation:
    """The captain invites a registered participant by user id, or an address; the mail carries
    a single-use token (only its hash is stored), valid for 7 days. Budgeted per captain, per
    event and per address (429)."""
    captain = require_captain(view)
    access, team = view.access, view.team
    await require_unlocked(session, access.event)
    invited: User | None = None
    if user_id is not None:
        invited = await _registered_participant(session, access, user_id)
        address = invited.email
        if await current_team_id(session, access.event, invited.id) == team.id:
            raise Conflict("That person is already on this team.", code="already_member")
    else:
        address = normalize_email(email or "")
    if team.member_count >= team.max_members:
        raise TeamFull
    now = await db_now(session)
    pending = await session.scalar(
        select(TeamInvitation.id).where(
            TeamInvitation.team_id == team.id,
            TeamInvitation.email == address,
            *invitations.pending(TEAM_INVITATIONS),
            invitations.unexpired(TEAM_INVITATIONS),
        )
    )
    if pending is not None:
        raise Conflict(
            "That person already has a pending invitation to this team.",
            code="team_invitation_pending",
        )
    await limiter.consume(INVITATIONS_PER_CAPTAIN, str(captain.user_id))
    await limiter.consume(INVITATIONS_PER_EVENT, str(access.event.id))
    await limiter.consume(INVITATION_MAIL_PER_ADDRESS, address)
    minted = invitations.mint(now)
    inviter = signed_in(access)
    invitation = TeamInvitation(
        org_id=team.org_id,
        event_id=team.event_id,
        team_id=team.id,
        email=address,
        invited_user_id=invited.id if invited is not None else None,
        token_hash=minted.token_hash,
        invited_by_id=inviter.id,
        expires_at=minted.expires_at,
    )
    session.add(invitation)
    await session.flush()
    await session.refresh(invitation)
    event_path = f"/orgs/{access.org.slug}/events/{access.event.slug}"
    link = f"{base_url}{event_path}/team-invitations?token={minted.token}"
    await queue_mail(
        session,
        "teams/invitation",
        to=address,
        subject=f"Join team {team.name} at {access.event.name}",
        base_url=base_url,
        brand=org_brand(access.org),
        context={
            "inviter": inviter.name or inviter.email,
            "team_name": team.name,
            "event_name": access.event.name,
            "link": link,
        },
        user_id=invited.id if invited is not None else None,
    )
    await invitations.audit(
        session, access.actor, TEAM_INVITATIONS, "created", invitation, details={"email": address}
    )
    await emit(
        session,
        access.actor,
        catalog.TeamInvitationSent(
            team_id=team.id, invitation_id=invitation.id, invited_user_id=invitation.invited_user_id
        ),
        org_id=team.org_id,
        event_id=team.event_id,
    )
    return invitation


async def list_invitations(
    session: AsyncSession, view: TeamView
) -> list[tuple[TeamInvitation, str | None]]:
    """Pending invitations, newest first, each with the invited account's name (by user id)."""
    require_member(view)
    rows = await session.execute(
        select(TeamInvitation, User.name)
        .outerjoin(User, User.id == TeamInvitation.invited_user_id)
        .where(TeamInvitation.team_id == view.team.id, *invitations.pending(TEAM_INVITATIONS))
        .order_by(TeamInvitation.created_at.desc(), TeamInvitation.id)
    )
    return [(invitation, name) for invitation, name in rows]


async def revoke_invitation(
    session: AsyncSession, view: TeamView, invitation_id: uuid.UUID
) -> TeamInvitation:
    require_captain(view)
    invitation = await invitations.pending_by_id(
        session,
        TEAM_INVITATIONS,
        invitation_id,
        TeamInvitation.team_id == view.team.id,
        missing=InvitationNotFound,
    )
    await invitations.settle(
        session, TEAM_INVITATIONS, view.access.actor, invitation, State.REVOKED
    )
    return invitation


async def _invitation_for_me(
    session: AsyncSession, access: EventAccess, token: str
) -> TeamInvitation:
    """The pending, unexpired invitation of this token (not locked); it must be the caller's."""
    user = signed_in(access)
    invitation = await invitations.find(
        session, TEAM_INVITATIONS, token, TeamInvitation.event_id == access.event.id
    )
    invitations.require_addressee(TEAM_INVITATIONS, invitation, user)
    return invitation


@dataclass(frozen=True)
class InvitationPreview:
    """What the invited person sees before answering: the team and who invited them."""

    team_name: str
    inviter_name: str
    expires_at: datetime


async def preview_invitation(
    session: AsyncSession, access: EventAccess, *, token: str
) -> InvitationPreview:
    """The team and the inviter's name, for the invitation's addressee only (anyone else, or a
    link that is used, revoked or expired, gets the refusal accepting would give)."""
    invitation = await _invitation_for_me(session, access, token)
    team = await session.get_one(Team, invitation.team_id)
    name = await invitations.inviter_name(session, invitation) or "A team member"
    return InvitationPreview(team.name, name, invitation.expires_at)


async def accept_invitation(
    session: AsyncSession, access: EventAccess, *, token: str
) -> TeamMember:
    """The invited person joins. Checked first without locks, then the member is added (locking
    registration and team), then the invitation is settled by one guarded UPDATE (its row lock
    comes last, in the lock order): a revoke or a second use meanwhile makes this fail and roll
    back."""
    user = signed_in(access)
    await require_unlocked(session, access.event)
    invitation = await _invitation_for_me(session, access, token)
    _, member = await add_member(
        session, access.actor, access.event, invitation.team_id, user.id, via="invitation"
    )
    await invitations.settle(
        session, TEAM_INVITATIONS, access.actor, invitation, State.ACCEPTED, by=user
    )
    return member


async def decline_invitation(
    session: AsyncSession, access: EventAccess, *, token: str
) -> TeamInvitation:
    user = signed_in(access)
    invitation = await _invitation_for_me(session, access, token)
    await invitations.settle(
        session, TEAM_INVITATIONS, access.actor, invitation, State.DECLINED, by=user
    )
    return invitation


async def request_to_join(
    session: AsyncSession, view: TeamView, limiter: Limiter, *, message: str
) -> JoinRequest:
    """Ask to join a recruiting team; budgeted per person and per event (429)."""
    user = signed_in(view.access)
    event, team = view.access.event, view.team
    await require_unlocked(session, event)
    await limiter.consume(JOIN_REQUESTS_PER_PERSON, str(user.id))
    await limiter.consume(JOIN_REQUESTS_PER_EVENT, str(event.id))
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
        .where(JoinRequest.team_id == view.team.id, JoinRequest.status == JoinRequestStatus.PENDING)
        .order_by(JoinRequest.created_at, JoinRequest.id)
    )
    return list(rows)


async def _pending_request(session: AsyncSession, team: Team, request_id: uuid.UUID) -> JoinRequest:
    request = await session.scalar(
        select(JoinRequest)
        .where(
            JoinRequest.id == request_id,
            JoinRequest.team_id == team.id,
            JoinRequest.status == JoinRequestStatus.PENDING,
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
                JoinRequest.status == JoinRequestStatus.PENDING,
            )
        )
        if requester is None:
            raise JoinRequestNotFound
        team, _ = await add_member(
            session, view.access.actor, event, team.id, requester, via="request"
        )
    request = await _pending_request(session, team, request_id)
    request.decided_by_id = captain.user_id
    status = JoinRequestStatus.APPROVED if approve else JoinRequestStatus.DECLINED
    await _settle(session, view.access.actor, team, request, status, user_id=str(request.user_id))
    return request


async def withdraw_join_request(
    session: AsyncSession, view: TeamView, request_id: uuid.UUID
) -> JoinRequest:
    user = signed_in(view.access)
    request = await _pending_request(session, view.team, request_id)
    if request.user_id != user.id:
        raise JoinRequestNotFound
    await _settle(session, view.access.actor, view.team, request, JoinRequestStatus.WITHDRAWN)
    return request
