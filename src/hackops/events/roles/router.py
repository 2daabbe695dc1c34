"""An event's roles: granted and revoked by organization organizers and up (an event-level
organizer cannot hand out roles); pending invitations of addresses without an account:
`roles.invitations_router`."""

from __future__ import annotations

import uuid

from fastapi import Response, status
from fastapi.responses import JSONResponse

from hackops.accounts.deps import ServicesDep
from hackops.db import SessionDep, db_now
from hackops.errors import error_responses
from hackops.events.deps import EventOrganizerDep, OrgOrganizerEventDep
from hackops.events.roles import invitations as role_invitations
from hackops.events.roles import service as roles
from hackops.events.roles.schemas import RoleInvitationSent, invitation_out
from hackops.events.schemas import RoleGrantIn, RoleGrantOut
from hackops.models import EventRoleGrant, EventRoleInvitation, User
from hackops.routing import Router

router = Router(prefix="/organizations", tags=["events"])

EVENT = "/{slug}/events/{event_slug}"
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
NO_CONTENT = status.HTTP_204_NO_CONTENT


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
    return [grant_out(g, u) for g, u in await roles.list_role_grants(session, access.event)]


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
    await roles.revoke_role(session, access.actor, access.event, grant_id)
    return Response(status_code=NO_CONTENT)
