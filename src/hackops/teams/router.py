"""Teams API, under an event: `/organizations/{slug}/events/{event_slug}/...` (the team finder:
`finder_router`).

Who sees what: a team's basics are visible to the event's staff and its registered
participants; member-only things (invitations, join requests, the join code) are 404 to others.
Captain-only actions are 403 to the other members (they know the team) and 404 to non-members.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request, Response, status

from hackops.accounts.deps import ServicesDep
from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.events.deps import EventDep
from hackops.models import Team, TeamMember, User
from hackops.routing import Router
from hackops.teams import finder, membership, recruiting, service
from hackops.teams.access import TeamView, load_team
from hackops.teams.deps import TeamDep
from hackops.teams.schemas import (
    CaptainTransfer,
    InvitationToken,
    JoinByCode,
    JoinRequestIn,
    JoinRequestOut,
    LeaveOut,
    MemberOut,
    MembershipOut,
    TeamDetail,
    TeamIn,
    TeamInvitationIn,
    TeamInvitationOut,
    TeamOut,
    TeamPage,
    TeamUpdate,
    invitation_out,
)

router = Router(
    prefix="/organizations/{slug}/events/{event_slug}",
    tags=["teams"],
)

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
Limit = Annotated[int, Query(ge=1, le=finder.MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=10_000)]


def team_out(team: Team, *, member: bool) -> TeamOut:
    out = TeamOut.model_validate(team)
    return out if member else out.model_copy(update={"join_code": None})


async def team_detail(session: SessionDep, view: TeamView) -> TeamDetail:
    members = await service.list_members(session, view.team)
    return TeamDetail(
        **team_out(view.team, member=view.is_member).model_dump(),
        members=[
            MemberOut(user_id=u.id, name=u.name, role=m.role, joined_at=m.joined_at)
            for m, u in members
        ],
        my_role=view.membership.role if view.membership is not None else None,
    )


def membership_out(member: TeamMember) -> MembershipOut:
    return MembershipOut.model_validate(member)


# --- teams ---------------------------------------------------------------------------------------


@router.post(
    "/teams",
    status_code=status.HTTP_201_CREATED,
    response_model=TeamDetail,
    summary="Create a team (you become its captain; you must be registered)",
    responses=WRITE_ERRORS,
)
async def create_team(body: TeamIn, session: SessionDep, access: EventDep) -> TeamDetail:
    team = await service.create_team(
        session,
        access,
        name=body.name,
        description=body.description,
        recruiting=body.recruiting,
        skills_wanted=body.skills_wanted,
    )
    return await team_detail(session, await load_team(session, access, team.id))


@router.get(
    "/teams",
    response_model=TeamPage,
    summary="The event's teams (participants and staff)",
    responses=READ_ERRORS,
)
async def list_teams(
    session: SessionDep,
    access: EventDep,
    recruiting: bool = False,
    limit: Limit = 20,
    offset: Offset = 0,
) -> TeamPage:
    finder.require_finder_access(access)
    teams = await service.list_teams(
        session, access, recruiting_only=recruiting, limit=limit, offset=offset
    )
    return TeamPage(items=[team_out(t, member=False) for t in teams], limit=limit, offset=offset)


@router.get(
    "/teams/mine",
    response_model=TeamDetail,
    summary="My team in this event",
    responses=READ_ERRORS,
)
async def get_my_team(session: SessionDep, access: EventDep) -> TeamDetail:
    return await team_detail(session, await service.my_team(session, access))


@router.post(
    "/teams/join",
    response_model=MembershipOut,
    summary="Join a team with its code",
    responses=WRITE_ERRORS,
)
async def join_by_code(body: JoinByCode, session: SessionDep, access: EventDep) -> MembershipOut:
    return membership_out(await membership.join_by_code(session, access, code=body.code))


@router.post(
    "/team-invitations/accept",
    response_model=MembershipOut,
    summary="Accept a team invitation with the token from the mail (the invited person)",
    responses=WRITE_ERRORS,
)
async def accept_invitation(
    body: InvitationToken, session: SessionDep, access: EventDep
) -> MembershipOut:
    return membership_out(await recruiting.accept_invitation(session, access, token=body.token))


@router.post(
    "/team-invitations/decline",
    response_model=TeamInvitationOut,
    summary="Decline a team invitation (the invited person)",
    responses=WRITE_ERRORS,
)
async def decline_invitation(
    body: InvitationToken, session: SessionDep, access: EventDep
) -> TeamInvitationOut:
    invitation = await recruiting.decline_invitation(session, access, token=body.token)
    return invitation_out(invitation, access.actor.user.name if access.actor.user else None)


@router.get(
    "/teams/{team_id}",
    response_model=TeamDetail,
    summary="A team and its members",
    responses=READ_ERRORS,
)
async def get_team(session: SessionDep, view: TeamDep) -> TeamDetail:
    return await team_detail(session, view)


@router.patch(
    "/teams/{team_id}",
    response_model=TeamDetail,
    summary="Rename, describe, recruiting flag, skills wanted (the captain)",
    responses=WRITE_ERRORS,
)
async def update_team(body: TeamUpdate, session: SessionDep, view: TeamDep) -> TeamDetail:
    await service.update_team(session, view, body)
    return await team_detail(session, view)


@router.post(
    "/teams/{team_id}/leave",
    response_model=LeaveOut,
    summary="Leave the team (a captain transfers first, unless alone: then the team disbands)",
    responses=WRITE_ERRORS,
)
async def leave_team(session: SessionDep, view: TeamDep) -> LeaveOut:
    disbanded = await membership.leave_team(session, view)
    return LeaveOut(team_id=view.team.id, disbanded=disbanded)


@router.post(
    "/teams/{team_id}/captain",
    response_model=TeamDetail,
    summary="Make another member captain (the captain)",
    responses=WRITE_ERRORS,
)
async def transfer_captain(body: CaptainTransfer, session: SessionDep, view: TeamDep) -> TeamDetail:
    await membership.transfer_captain(session, view, body.user_id)
    return await team_detail(session, await load_team(session, view.access, view.team.id))


@router.post(
    "/teams/{team_id}/disband",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Disband the team (the captain; only without a submission)",
    responses=WRITE_ERRORS,
)
async def disband_team(session: SessionDep, view: TeamDep) -> Response:
    await service.disband_team(session, view)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/teams/{team_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member (the captain); their tasks are unassigned",
    responses=WRITE_ERRORS,
)
async def remove_member(user_id: uuid.UUID, session: SessionDep, view: TeamDep) -> Response:
    await membership.remove_member(session, view, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- invitations and join requests ---------------------------------------------------------------


@router.get(
    "/teams/{team_id}/invitations",
    response_model=list[TeamInvitationOut],
    summary="Pending invitations (members)",
    responses=READ_ERRORS,
)
async def list_invitations(session: SessionDep, view: TeamDep) -> list[TeamInvitationOut]:
    return [invitation_out(i, name) for i, name in await recruiting.list_invitations(session, view)]


@router.post(
    "/teams/{team_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=TeamInvitationOut,
    summary="Invite someone by email or user id (the captain); valid 7 days, single use",
    description=(
        "By `user_id`, only someone registered for the event (else 404 `participant_not_found`,"
        " whether or not the account exists). By `email`, the invitation is mailed and linked to"
        " no account: whoever holds the link, signed in with that address, accepts. The answer"
        " never carries the invitee's address. Budgeted per captain, per event and per address"
        " (429 with Retry-After)."
    ),
    responses={**WRITE_ERRORS, **error_responses(429)},
)
async def create_invitation(
    body: TeamInvitationIn,
    request: Request,
    session: SessionDep,
    view: TeamDep,
    services: ServicesDep,
) -> TeamInvitationOut:
    invitation = await recruiting.invite(
        session,
        view,
        services.limiter,
        email=body.email,
        user_id=body.user_id,
        base_url=request.app.state.settings.base_url,
    )
    invitee = (
        await session.get(User, invitation.invited_user_id) if invitation.invited_user_id else None
    )
    return invitation_out(invitation, invitee.name if invitee else None)


@router.delete(
    "/teams/{team_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a pending invitation (the captain)",
    responses=WRITE_ERRORS,
)
async def revoke_invitation(
    invitation_id: uuid.UUID, session: SessionDep, view: TeamDep
) -> Response:
    await recruiting.revoke_invitation(session, view, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/teams/{team_id}/join-requests",
    response_model=list[JoinRequestOut],
    summary="Pending join requests (members)",
    responses=READ_ERRORS,
)
async def list_join_requests(session: SessionDep, view: TeamDep) -> list[JoinRequestOut]:
    return [
        JoinRequestOut.model_validate(r) for r in await recruiting.list_join_requests(session, view)
    ]


@router.post(
    "/teams/{team_id}/join-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=JoinRequestOut,
    summary="Ask to join a recruiting team (budgeted per person and per event: 429)",
    responses={**WRITE_ERRORS, **error_responses(429)},
)
async def create_join_request(
    body: JoinRequestIn, session: SessionDep, view: TeamDep, services: ServicesDep
) -> JoinRequestOut:
    request = await recruiting.request_to_join(
        session, view, services.limiter, message=body.message
    )
    return JoinRequestOut.model_validate(request)


@router.post(
    "/teams/{team_id}/join-requests/{request_id}/approve",
    response_model=JoinRequestOut,
    summary="Approve a join request: the person joins (the captain)",
    responses=WRITE_ERRORS,
)
async def approve_join_request(
    request_id: uuid.UUID, session: SessionDep, view: TeamDep
) -> JoinRequestOut:
    request = await recruiting.decide_join_request(session, view, request_id, approve=True)
    return JoinRequestOut.model_validate(request)


@router.post(
    "/teams/{team_id}/join-requests/{request_id}/decline",
    response_model=JoinRequestOut,
    summary="Decline a join request (the captain)",
    responses=WRITE_ERRORS,
)
async def decline_join_request(
    request_id: uuid.UUID, session: SessionDep, view: TeamDep
) -> JoinRequestOut:
    request = await recruiting.decide_join_request(session, view, request_id, approve=False)
    return JoinRequestOut.model_validate(request)


@router.delete(
    "/teams/{team_id}/join-requests/{request_id}",
    response_model=JoinRequestOut,
    summary="Withdraw my pending join request",
    responses=WRITE_ERRORS,
)
async def withdraw_join_request(
    request_id: uuid.UUID, session: SessionDep, view: TeamDep
) -> JoinRequestOut:
    request = await recruiting.withdraw_join_request(session, view, request_id)
    return JoinRequestOut.model_validate(request)
