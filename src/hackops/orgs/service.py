"""Organizations (the tenants). Membership and management arrive with the accounts issue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.errors import NotFound
from hackops.models import Organization


class OrganizationNotFound(NotFound):
    code = "organization_not_found"
    message = "No such organization."


async def get_organization_by_slug(session: AsyncSession, slug: str) -> Organization:
    org = await session.scalar(
        select(Organization).where(Organization.slug == slug, Organization.deleted_at.is_(None))
    )
    if org is None:
        raise OrganizationNotFound
    return org


async def ensure_organization(session: AsyncSession, *, slug: str, name: str) -> Organization:
    """Create the organization unless one with this slug exists (idempotent; demo data)."""
    existing = await session.scalar(select(Organization).where(Organization.slug == slug))
    if existing is not None:
        return existing
    org = Organization(slug=slug, name=name)
    session.add(org)
    await session.flush()
    return org
