"""Demo data: idempotent, grows as capabilities land (the demo hackathon comes with events)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.orgs.service import ensure_organization

DEMO_ORG_SLUG = "demo"


async def seed_demo(session: AsyncSession) -> list[tuple[str, str]]:
    org = await ensure_organization(session, slug=DEMO_ORG_SLUG, name="Demo Hackathon Club")
    return [("organization", org.slug)]
