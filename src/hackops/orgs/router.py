"""Organizations API: create, read, settings, plan (platform admins), members, invitations,
the audit log, and my organizations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Query, Request, Response, status
from sqlalchemy import select

from hackops.accounts.deps import ActorDep, CurrentUserDep, PlatformAdminDep
from hackops.accounts.profile import disable_account
from hackops.audit.service import list_entries
from hackops.db import SessionDep
from hackops.errors import NotFound, error_responses
from hackops.models import Organization, User
from hackops.orgs import service
from hackops.orgs.deps import OrgAdminDep, OrgMemberDep, OrgOrganizerDep
from hackops.orgs.schemas import (
    AuditEntryOut,
    AuditPage,
    InvitationAccept,
    InvitationIn,
    InvitationOut,
    MemberOut,
    MembershipOut,
    OrganizationIn,
    OrganizationOut,
    OrganizationPublic,
    OrganizationUpdate,
    PlanUpdate,
    RoleUpdate,
)
from hackops.routing import Router, SlugPath

router = Router(prefix="/organizations", tags=["organizations"])
invitations = Router(prefix="/invitations", tags=["organizations"])
mine = Router(prefix="/me", tags=["me"])
admin = Router(prefix="/admin", tags=["platform admin"])

MEMBER_ERRORS = error_responses(401, 403, 404, 422)


def org_out(org: Organization, role: str | None = None) -> OrganizationOut:
    return OrganizationOut.model_validate(org).model_copy(update={"my_role": role})


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationOut,
    summary="Create an organization (you become its owner)",
    responses=error_responses(401, 403, 409, 422),
)
async def create_organization(
    body: OrganizationIn, session: SessionDep, actor: ActorDep
) -> OrganizationOut:
    org, membership = await service.create_organization(
        session, actor, slug=body.slug, name=body.name
    )
    return org_out(org, membership.role)


@router.get(
    "/{slug}",
    response_model=OrganizationPublic,
    summary="An organization's public profile",
    responses=error_responses(404, 422),
)
async def get_organization(session: SessionDep, slug: SlugPath) -> OrganizationPublic:
    return OrganizationPublic.model_validate(await service.get_public_profile(session, slug))


@router.get(
    "/{slug}/settings",
    response_model=OrganizationOut,
    summary="Settings, plan and my role (members)",
    responses=MEMBER_ERRORS,
)
async def get_settings(access: OrgMemberDep) -> OrganizationOut:
    return org_out(access.org, access.role)


@router.patch(
    "/{slug}",
    response_model=OrganizationOut,
    summary="Edit name and branding (admins)",
    responses=MEMBER_ERRORS,
)
async def update_organization(
    body: OrganizationUpdate, session: SessionDep, access: OrgAdminDep
) -> OrganizationOut:
    org = await service.update_organization(session, access.actor, access.org, body)
    return org_out(org, access.role)


@router.get(
    "/{slug}/members",
    response_model=list[MemberOut],
    summary="Members and their roles",
    responses=MEMBER_ERRORS,
)
async def list_members(session: SessionDep, access: OrgMemberDep) -> list[MemberOut]:
    return [
        MemberOut(user_id=u.id, email=u.email, name=u.name, role=m.role, since=m.created_at)
        for m, u in await service.list_members(session, access.org)
    ]


@router.patch(
    "/{slug}/members/{user_id}",
    response_model=MemberOut,
    summary="Change a member's role (admins; only owners grant or take ownership)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def change_role(
    user_id: uuid.UUID, body: RoleUpdate, session: SessionDep, access: OrgAdminDep
) -> MemberOut:
    membership = await service.change_role(session, access, user_id=user_id, role=body.role)
    members = {m.user_id: u for m, u in await service.list_members(session, access.org)}
    user = members[membership.user_id]
    return MemberOut(
        user_id=user.id,
        email=user.email,
        name=user.name,
        role=membership.role,
        since=membership.created_at,
    )


@router.delete(
    "/{slug}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member, or leave (your own id)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def remove_member(user_id: uuid.UUID, session: SessionDep, access: OrgMemberDep) -> Response:
    await service.remove_member(session, access, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{slug}/invitations",
    response_model=list[InvitationOut],
    summary="Pending invitations (admins)",
    responses=MEMBER_ERRORS,
)
async def list_invitations(session: SessionDep, access: OrgAdminDep) -> list[InvitationOut]:
    return [
        InvitationOut.model_validate(i) for i in await service.list_invitations(session, access.org)
    ]


@router.post(
    "/{slug}/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationOut,
    summary="Invite someone by email (admins; owners may invite owners)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def create_invitation(
    body: InvitationIn, request: Request, session: SessionDep, access: OrgAdminDep
) -> InvitationOut:
    invitation = await service.invite(
        session,
        access,
        email=body.email,
        role=body.role,
        base_url=request.app.state.settings.base_url,
    )
    return InvitationOut.model_validate(invitation)


@router.delete(
    "/{slug}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an invitation (admins)",
    responses=MEMBER_ERRORS,
)
async def revoke_invitation(
    invitation_id: uuid.UUID, session: SessionDep, access: OrgAdminDep
) -> Response:
    await service.revoke_invitation(session, access, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{slug}/audit",
    response_model=AuditPage,
    summary="The organization's audit log, newest first (organizers and up)",
    responses=MEMBER_ERRORS,
)
async def organization_audit(
    session: SessionDep,
    access: OrgOrganizerDep,
    actor_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    resource_type: Annotated[str | None, Query(max_length=64)] = None,
    resource_id: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    items, next_cursor = await list_entries(
        session,
        org_id=access.org.id,
        actor_id=actor_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    return AuditPage(
        items=[AuditEntryOut.model_validate(e) for e in items], next_cursor=next_cursor
    )


@invitations.post(
    "/accept",
    response_model=MembershipOut,
    summary="Accept an invitation with the token from the mail",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def accept_invitation(
    body: InvitationAccept, session: SessionDep, user: CurrentUserDep, actor: ActorDep
) -> MembershipOut:
    org, membership = await service.accept_invitation(
        session, actor, org_slug=body.org, token=body.token
    )
    return MembershipOut(organization=OrganizationPublic.model_validate(org), role=membership.role)


@mine.get(
    "/organizations",
    response_model=list[MembershipOut],
    summary="The organizations I belong to",
    responses=error_responses(401),
)
async def my_organizations(session: SessionDep, user: CurrentUserDep) -> list[MembershipOut]:
    return [
        MembershipOut(organization=OrganizationPublic.model_validate(org), role=m.role)
        for org, m in await service.list_my_organizations(session, user)
    ]


@admin.patch(
    "/organizations/{slug}",
    response_model=OrganizationOut,
    summary="Set an organization's plan, limits and feature flags (platform admins)",
    responses=error_responses(401, 403, 404, 422),
)
async def set_plan(
    slug: SlugPath,
    body: PlanUpdate,
    session: SessionDep,
    admin_user: PlatformAdminDep,
    actor: ActorDep,
) -> OrganizationOut:
    return org_out(await service.set_plan(session, actor, slug, body))


@admin.get(
    "/organizations",
    response_model=list[OrganizationOut],
    summary="Every organization (platform admins)",
    responses=error_responses(401, 403, 422),
)
async def all_organizations(
    session: SessionDep,
    admin_user: PlatformAdminDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[OrganizationOut]:
    rows = await session.scalars(
        select(Organization).order_by(Organization.slug).offset(offset).limit(limit)
    )
    return [org_out(org) for org in rows]


@admin.post(
    "/users/{user_id}/disable",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Disable an account: every session and token stops working at once (platform admins)",
    responses=error_responses(401, 403, 404, 422),
)
async def disable_user(
    user_id: uuid.UUID, session: SessionDep, admin_user: PlatformAdminDep, actor: ActorDep
) -> Response:
    user = await session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("No such user.", code="user_not_found")
    await disable_account(session, actor, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@admin.get(
    "/audit",
    response_model=AuditPage,
    summary="Every organization's audit log (platform admins)",
    responses=error_responses(401, 403, 422),
)
async def platform_audit(
    session: SessionDep,
    admin_user: PlatformAdminDep,
    org_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    items, next_cursor = await list_entries(
        session, org_id=org_id, actor_id=actor_id, action=action, cursor=cursor, limit=limit
    )
    return AuditPage(
        items=[AuditEntryOut.model_validate(e) for e in items], next_cursor=next_cursor
    )
