"""FastAPI dependencies over `orgs.access`: load an organization by slug AND authorize the
caller for it, setting the tenant (`OrgMemberDep`, `OrgOrganizerDep`, `OrgAdminDep`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from hackops import gate
from hackops.accounts.deps import ActorDep, CurrentUserDep
from hackops.db import SessionDep
from hackops.models import OrgRole
from hackops.orgs.access import OrgAccess, load_org_access
from hackops.orgs.service import InsufficientRole, rank

__all__ = ["OrgAccess", "OrgAdminDep", "OrgMemberDep", "OrgOrganizerDep", "org_access"]


@gate.loads(gate.ORG)
async def org_access(
    slug: Annotated[str, Path(min_length=1, max_length=63)],
    session: SessionDep,
    user: CurrentUserDep,
    actor: ActorDep,
) -> OrgAccess:
    return await load_org_access(session, user, actor, slug)


OrgMemberDep = Annotated[OrgAccess, Depends(org_access)]


def require_role(minimum: OrgRole) -> object:
    async def check(access: OrgMemberDep) -> OrgAccess:
        if rank(access.role) < rank(minimum):
            raise InsufficientRole
        return access

    return Depends(check)


OrgOrganizerDep = Annotated[OrgAccess, require_role(OrgRole.ORGANIZER)]
OrgAdminDep = Annotated[OrgAccess, require_role(OrgRole.ADMIN)]
