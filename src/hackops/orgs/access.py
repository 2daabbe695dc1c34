"""Who may act in an organization and with which role: framework-free, so services and jobs can
take an `OrgAccess` without importing FastAPI (`orgs.deps` wraps `load_org_access` as the
`OrgMemberDep` / `OrgOrganizerDep` / `OrgAdminDep` dependencies).

Not a member: 404 (existence of members-only resources never leaks). Platform admins act as
owners everywhere. Loading sets the tenant for the rest of the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import gate
from hackops.actor import Actor
from hackops.models import Membership, Organization, OrgRole, User
from hackops.orgs.service import OrganizationNotFound, get_organization_by_slug
from hackops.tenancy import set_tenant


@dataclass(frozen=True)
class OrgAccess:
    org: Organization
    role: OrgRole
    actor: Actor


async def load_org_access(session: AsyncSession, user: User, actor: Actor, slug: str) -> OrgAccess:
    """The organization `slug` as `user` may act in it (404 to non-members)."""
    fetched = gate.take_org(session, slug, user.id)
    role: OrgRole | None
    if fetched is not None:  # read by the request gate, which set the tenant
        if fetched.org is None:
            raise OrganizationNotFound
        org = fetched.org
        await set_tenant(session, org.id)  # no statement
        role = OrgRole(fetched.org_role) if fetched.org_role is not None else None
    else:
        org = await get_organization_by_slug(session, slug)
        await set_tenant(session, org.id)
        role = await session.scalar(
            select(Membership.role).where(
                Membership.org_id == org.id, Membership.user_id == user.id
            )
        )
    if role is None:
        if not user.is_platform_admin:
            raise OrganizationNotFound
        role = OrgRole.OWNER
    return OrgAccess(org=org, role=role, actor=actor)
