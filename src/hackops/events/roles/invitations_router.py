"""Event role invitations: organizers list the pending ones, resend or revoke them (organization
organizers and up, as for granting roles); whoever holds the mailed link accepts it — signed in
with the invited address, or not signed in at all (the account is created if needed, and a
session token comes back)."""

from __future__ import annotations

import uuid

from fastapi import Response, status

from hackops.accounts.deps import ActorDep, ServicesDep
from hackops.accounts.router import user_out
from hackops.db import SessionDep, db_now
from hackops.errors import error_responses
from hackops.events.deps import EventOrganizerDep, OrgOrganizerEventDep
from hackops.events.roles import invitations as role_invitations
from hackops.events.roles.schemas import (
    RoleInvitationAccepted,
    RoleInvitationAcceptIn,
    RoleInvitationOut,
    invitation_out,
)
from hackops.routing import Router

router = Router(prefix="/organizations", tags=["events"])
accept_router = Router(prefix="/events/invitations", tags=["events"])

INVITATIONS = "/{slug}/events/{event_slug}/role-invitations"
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422, 429)


@router.get(
    INVITATIONS,
    response_model=list[RoleInvitationOut],
    summary="Pending role invitations, expired ones included (organizers)",
    responses=error_responses(401, 403, 404, 422),
)
async def list_invitations(
    session: SessionDep, access: EventOrganizerDep
) -> list[RoleInvitationOut]:
    now = await db_now(session)
    pending = await role_invitations.list_invitations(session, access.event)
    return [invitation_out(i, now) for i in pending]


@router.delete(
    INVITATIONS + "/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a pending invitation: its link stops working (organization organizers+)",
    responses=WRITE_ERRORS,
)
async def revoke_invitation(
    invitation_id: uuid.UUID, session: SessionDep, access: OrgOrganizerEventDep
) -> Response:
    await role_invitations.revoke_invitation(session, access.actor, access.event, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    INVITATIONS + "/{invitation_id}/resend",
    response_model=RoleInvitationOut,
    summary="Mail a new link, valid 7 days; the previous one stops working (org organizers+)",
    responses=WRITE_ERRORS,
)
async def resend_invitation(
    invitation_id: uuid.UUID,
    session: SessionDep,
    access: OrgOrganizerEventDep,
    services: ServicesDep,
) -> RoleInvitationOut:
    invitation = await role_invitations.resend_invitation(session, access, services, invitation_id)
    return invitation_out(invitation, await db_now(session))


@accept_router.post(
    "/accept",
    response_model=RoleInvitationAccepted,
    summary="Accept an event role invitation with the token from the mail",
    description=(
        "Signed in: the invitation must be for your address. Not signed in: the account of the"
        " invited address is created (verified, no password) or, if it has no password, used;"
        " the response carries a new bearer session. An account with a password must sign in"
        " first (401 `sign_in_required`). One use per link; 404 unknown, 409 used, 410 expired"
        " or revoked."
    ),
    responses=error_responses(401, 403, 404, 409, 410, 422),
)
async def accept_invitation(
    body: RoleInvitationAcceptIn, session: SessionDep, actor: ActorDep, services: ServicesDep
) -> RoleInvitationAccepted:
    accepted = await role_invitations.accept(
        session, actor, services, org_slug=body.org, token=body.token, name=body.name
    )
    lifetime = int(services.session_lifetime.total_seconds())
    return RoleInvitationAccepted(
        organization=accepted.org.slug,
        event=accepted.event.slug,
        event_name=accepted.event.name,
        role=accepted.grant.role,
        grant_id=accepted.grant.id,
        user=user_out(accepted.user),
        account_created=accepted.account_created,
        access_token=accepted.session_token,
        expires_in=lifetime if accepted.session_token else None,
    )
