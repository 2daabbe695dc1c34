"""Load an organization by slug AND authorize the caller for it, setting the tenant.

Not a member: 404 (existence of members-only resources never leaks). Platform admins act as
owners everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy import select

from hackops.accounts.deps import ActorDep, CurrentUserDep
from hackops.actor import Actor
from hackops.db import SessionDep
from hackops.models import Membership, Organization, OrgRole
from hackops.orgs.service import (
    InsufficientRole,
    OrganizationNotFound,
    get_organization_by_slug,
    rank,
)
from hackops.tenancy import set_tenant


@dataclass(frozen=True)
class OrgAccess:
    org: Organization
    role: str
    actor: Actor


async def org_access(
    slug: Annotated[str, Path(min_length=1, max_length=63)],
    session: SessionDep,
    user: CurrentUserDep,
    actor: ActorDep,
) -> OrgAccess:
    org = await get_organization_by_slug(session, slug)
    await set_tenant(session, org.id)
    role = await session.scalar(
        select(Membership.role).where(Membership.org_id == org.id, Membership.user_id == user.id)
    )
    if role is None:
        if not user.is_platform_admin:
            raise OrganizationNotFound
        role = OrgRole.OWNER.value
    return OrgAccess(org=org, role=role, actor=actor)


OrgMemberDep = Annotated[OrgAccess, Depends(org_access)]


def require_role(minimum: OrgRole) -> object:
    async def check(access: OrgMemberDep) -> OrgAccess:
        if rank(access.role) < rank(minimum):
            raise InsufficientRole
        return access

    return Depends(check)


OrgOrganizerDep = Annotated[OrgAccess, require_role(OrgRole.ORGANIZER)]
OrgAdminDep = Annotated[OrgAccess, require_role(OrgRole.ADMIN)]
