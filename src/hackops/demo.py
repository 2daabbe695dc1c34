"""Demo data: idempotent, grows as capabilities land (the demo hackathon comes with events).

In dev mode a demo organizer account with a published password is created so a newcomer can
sign in at once; outside dev mode no account with a known password is ever made.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.admin import hasher_for
from hackops.accounts.service import get_user_by_email
from hackops.config import Settings
from hackops.db import db_now
from hackops.models import Membership, OrgRole, User
from hackops.orgs.service import ensure_organization
from hackops.tenancy import set_tenant

DEMO_ORG_SLUG = "demo"
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "hackops-demo-2026"  # noqa: S105 - published on purpose, dev mode only


async def seed_demo(session: AsyncSession, settings: Settings) -> list[tuple[str, str]]:
    org = await ensure_organization(session, slug=DEMO_ORG_SLUG, name="Demo Hackathon Club")
    created = [("organization", f"{org.name} (/orgs/{org.slug})")]
    if not settings.is_dev:
        return created
    user = await get_user_by_email(session, DEMO_EMAIL)
    if user is None:
        now = await db_now(session)
        user = User(
            email=DEMO_EMAIL,
            name="Demo Organizer",
            password_hash=await hasher_for(settings).hash(DEMO_PASSWORD),
            password_changed_at=now,
            email_verified_at=now,
        )
        session.add(user)
        await session.flush()
    await set_tenant(session, org.id)
    member = await session.scalar(
        select(Membership).where(Membership.org_id == org.id, Membership.user_id == user.id)
    )
    if member is None:
        session.add(Membership(org_id=org.id, user_id=user.id, role=OrgRole.OWNER.value))
        await session.flush()
    created.append(("sign in (dev only)", f"{DEMO_EMAIL} / {DEMO_PASSWORD}"))
    return created
