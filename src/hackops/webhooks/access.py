"""Checking an endpoint's address with no database connection held (framework-free, for the
API and the pages alike).

Resolving a host name is network I/O of unbounded speed, so the request's transaction ends
first (`db.release`), DNS runs, and the caller is loaded and authorized again in a new
transaction before anything is written (its role may have changed meanwhile)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.db import release
from hackops.orgs.access import OrgAccess, load_org_access
from hackops.orgs.service import OrganizationNotFound
from hackops.webhooks.service import require_admin
from hackops.webhooks.urls import TargetPolicy, check_public, normalize_url


async def checked_url(
    session: AsyncSession, access: OrgAccess, url: str, policy: TargetPolicy
) -> tuple[OrgAccess, str]:
    """The address in normal form once its host resolves to public addresses only, and the
    caller's access loaded again after the check (InvalidEndpointUrl when refused)."""
    normalized = normalize_url(url, policy)
    await release(session)
    await check_public(normalized, policy)
    return await reauthorize(session, access), normalized


async def reauthorize(session: AsyncSession, access: OrgAccess) -> OrgAccess:
    """The caller's access loaded and checked again (after `db.release`: a new transaction,
    no tenant set, the caller's role as it is now)."""
    user = access.actor.user
    if user is None:
        raise OrganizationNotFound
    again = await load_org_access(session, user, access.actor, access.org.slug)
    require_admin(again)
    return again
