"""An event's tracks, awards and roles. Tracks and awards are readable by whoever can see the
event; changing them takes an organizer. Roles are granted and revoked by organization
organizers and up (an event-level organizer cannot hand out roles); pending invitations of
addresses without an account: `role_invitations_router`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Response, status
from fastapi.responses import JSONResponse

from hackops.accounts.deps import ServicesDep
from hackops.db import SessionDep, db_now
from hackops.errors import error_responses
from hackops.events import children, role_invitations
from hackops.events.deps import EventAccess, EventDep, EventOrganizerDep
from hackops.events.role_invitation_schemas import RoleInvitationSent, invitation_out
from hackops.events.schemas import (
    AwardIn,
    AwardOut,
    AwardUpdate,
    RoleGrantIn,
    RoleGrantOut,
    TrackIn,
    TrackOut,
    TrackUpdate,
)
from hackops.models import EventRoleGrant, EventRoleInvitation, OrgRole, User
from hackops.orgs.service import InsufficientRole, rank
from hackops.routing import Router

router = Router(prefix="/organizations", tags=["events"])

EVENT = "/{slug}/events/{event_slug}"
READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
NO_CONTENT = status.HTTP_204_NO_CONTENT


async def org_organizer_access(access: EventOrganizerDep) -> EventAccess:
    if access.actor.is_platform_admin:
        return access
    if access.org_role is None or rank(access.org_role) < rank(OrgRole.ORGANIZER):
        raise InsufficientRole
    return access


OrgOrganizerEventDep = Annotated[EventAccess, Depends(org_organizer_access)]


# --- tracks --------------------------------------------------------------------------------


@router.get(EVENT + "/tracks", response_model=list[TrackOut], responses=READ_ERRORS)
async def list_tracks(session: SessionDep, access: EventDep) -> list[TrackOut]:
    """The event's tracks (prize categories)."""
    return [TrackOut.model_validate(t) for t in await children.list_tracks(session, access.event)]


@router.post(
    EVENT + "/tracks",
    status_code=status.HTTP_201_CREATED,
    response_model=TrackOut,
    responses=WRITE_ERRORS,
)
async def create_track(body: TrackIn, session: SessionDep, access: EventOrganizerDep) -> TrackOut:
    """Add a track (organizers)."""
    track = await children.create_track(session, access.actor, access.event, body.model_dump())
    return TrackOut.model_validate(track)


@router.patch(EVENT + "/tracks/{track_id}", response_model=TrackOut, responses=WRITE_ERRORS)
async def update_track(
    track_id: uuid.UUID, body: TrackUpdate, session: SessionDep, access: EventOrganizerDep
) -> TrackOut:
    """Rename, describe or reorder a track (organizers)."""
    track = await children.get_track(session, access.event, track_id)
    changes = body.model_dump(exclude_unset=True)
    track = await children.update_track(session, access.actor, access.event, track, changes)
    return TrackOut.model_validate(track)


@router.delete(EVENT + "/tracks/{track_id}", status_code=NO_CONTENT, responses=WRITE_ERRORS)
async def delete_track(
    track_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> Response:
    """Delete a track and the awards attached to it (organizers)."""
    track = await children.get_track(session, access.event, track_id)
    await children.delete_track(session, access.actor, access.event, track)
    return Response(status_code=NO_CONTENT)


# --- awards --------------------------------------------------------------------------------


@router.get(EVENT + "/awards", response_model=list[AwardOut], responses=READ_ERRORS)
async def list_awards(session: SessionDep, access: EventDep) -> list[AwardOut]:
    """The event's awards."""
    return [AwardOut.model_validate(a) for a in await children.list_awards(session, access.event)]


@router.post(
    EVENT + "/awards",
    status_code=status.HTTP_201_CREATED,
    response_model=AwardOut,
    responses=WRITE_ERRORS,
)
async def create_award(body: AwardIn, session: SessionDep, access: EventOrganizerDep) -> AwardOut:
    """Add an award, optionally for one of the event's tracks (organizers)."""
    award = await children.create_award(session, access.actor, access.event, body.model_dump())
    return AwardOut.model_validate(award)


@router.patch(EVENT + "/awards/{award_id}", response_model=AwardOut, responses=WRITE_ERRORS)
async def update_award(
    award_id: uuid.UUID, body: AwardUpdate, session: SessionDep, access: EventOrganizerDep
) -> AwardOut:
    """Edit an award; `track_id: null` detaches it from its track (organizers)."""
    award = await children.get_award(session, access.event, award_id)
    changes = body.model_dump(exclude_unset=True)
    award = await children.update_award(session, access.actor, access.event, award, changes)
    return AwardOut.model_validate(award)


@router.delete(EVENT + "/awards/{award_id}", status_code=NO_CONTENT, responses=WRITE_ERRORS)
async def delete_award(
    award_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> Response:
    """Delete an award (organizers)."""
    award = await children.get_award(session, access.event, award_id)
    await children.delete_award(session, access.actor, access.event, award)
    return Response(status_code=NO_CONTENT)


# --- roles ---------------------------------------------------------------------------------


def grant_out(grant: EventRoleGrant, user: User) -> RoleGrantOut:
    return RoleGrantOut(
        id=grant.id,
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=grant.role,
        created_at=grant.created_at,
    )


@router.get(EVENT + "/roles", response_model=list[RoleGrantOut], responses=WRITE_ERRORS)
async def list_roles(session: SessionDep, access: EventOrganizerDep) -> list[RoleGrantOut]:
    """Who organizes, judges and mentors this event (organizers)."""
    return [grant_out(g, u) for g, u in await children.list_role_grants(session, access.event)]


@router.post(
    EVENT + "/roles",
    status_code=status.HTTP_201_CREATED,
    response_model=RoleGrantOut,
    responses={
        **WRITE_ERRORS,
        **error_responses(429),
        202: {
            "model": RoleInvitationSent,
            "description": (
                "No account with this confirmed address: an invitation was mailed instead"
            ),
        },
    },
)
async def grant_role(
    body: RoleGrantIn, session: SessionDep, access: OrgOrganizerEventDep, services: ServicesDep
) -> RoleGrantOut | JSONResponse:
    """Grant an event role by email (organization organizers+). An account whose address is
    confirmed gets it at once and a notice mail (201); any other address (no account, or an
    account that never confirmed it) gets an invitation link (202, `message` says so), which
    proves the address, signs its owner in and grants the role
    (`POST /api/v1/events/invitations/accept`). A new judge joins an existing assignment run
    (re-balanced)."""
    outcome = await role_invitations.grant_or_invite(
        session, access, services, email=body.email, role=body.role.value
    )
    if isinstance(outcome, EventRoleInvitation):
        out = invitation_out(outcome, await db_now(session))
        sent = RoleInvitationSent(
            **out.model_dump(), message=role_invitations.sent_message(outcome)
        )
        return JSONResponse(sent.model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED)
    return grant_out(outcome.grant, outcome.user)


@router.delete(EVENT + "/roles/{grant_id}", status_code=NO_CONTENT, responses=WRITE_ERRORS)
async def revoke_role(
    grant_id: uuid.UUID, session: SessionDep, access: OrgOrganizerEventDep
) -> Response:
    """Revoke an event role (organization organizers+). A judge's unstarted reviews go to the
    other judges (re-balanced); their submitted evaluations stay and count."""
    await children.revoke_role(session, access.actor, access.event, grant_id)
    return Response(status_code=NO_CONTENT)
