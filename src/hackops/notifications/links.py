"""The pages notifications link to (paths; mail makes them absolute with BASE_URL)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event, Organization

EVENT_PAGE = "/orgs/{org}/events/{event}"


async def event_path(session: AsyncSession, event: Event, suffix: str = "") -> str:
    org = await session.get(Organization, event.org_id)
    slug = org.slug if org is not None else ""
    return EVENT_PAGE.format(org=slug, event=event.slug) + suffix
