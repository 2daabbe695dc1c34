"""`public_versions` (migration 0029): the one table without row-level security that the public
pages' cache reads, and the triggers that write it. It holds no tenant data (scope names and
counters), the app's role cannot delete from it, the trigger that reads across tenants lifts the
filter for its own duration only, and what it bumps follows what visitors can see."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hackops.tenancy import set_tenant
from tests.conftest import APP_ROLE
from tests.factories import (
    create_event,
    create_organization,
    create_registration,
    create_submission,
    create_team,
    create_user,
)


async def version(session: AsyncSession, scope: str) -> int:
    found = await session.scalar(
        text("SELECT version FROM public_versions WHERE scope = :s"), {"s": scope}
    )
    return int(found or 0)


async def test_the_table_holds_scopes_and_counters_only(admin_engine: AsyncEngine) -> None:
    async with admin_engine.connect() as conn:
        columns = (
            await conn.execute(
                text(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name = 'public_versions' ORDER BY ordinal_position"
                )
            )
        ).scalars()
        assert list(columns) == ["scope", "version"]
        rights = (
            await conn.execute(
                text(
                    "SELECT privilege_type FROM information_schema.role_table_grants"
                    " WHERE table_name = 'public_versions' AND grantee = :r ORDER BY 1"
                ),
                {"r": APP_ROLE},
            )
        ).scalars()
        assert list(rights) == ["INSERT", "SELECT", "UPDATE"]


async def test_a_rename_bumps_other_tenants_galleries_and_lifts_nothing_after(
    session: AsyncSession,
) -> None:
    org_a, org_b = await create_organization(session), await create_organization(session)
    event_b = await create_event(session, org_b)
    user = await create_user(session)
    await create_registration(session, event_b, user)
    team = await create_team(session, event_b, user)
    await create_submission(session, team, status="approved")
    scope = f"content:{event_b.id}"
    before = await version(session, scope)
    await set_tenant(session, org_a.id)  # the person renames themselves elsewhere
    await session.execute(
        text("UPDATE users SET name = 'Renamed Person' WHERE id = :id"), {"id": user.id}
    )
    assert await session.scalar(text("SELECT is_platform_admin()")) is False
    assert (
        await session.scalar(text("SELECT count(*) FROM events WHERE org_id = :o"), {"o": org_b.id})
        == 0
    )  # the tenant filter holds again after the trigger
    await set_tenant(session, org_b.id)
    assert await version(session, scope) == before + 1


async def test_drafts_and_unapproved_projects_bump_no_public_list(session: AsyncSession) -> None:
    org = await create_organization(session)
    listing = await version(session, "listing")
    draft = await create_event(session, org)  # not published
    await session.execute(
        text("UPDATE events SET name = 'Still a draft' WHERE id = :id"), {"id": draft.id}
    )
    assert await version(session, "listing") == listing
    assert await version(session, f"org:{org.id}") == 0
    user = await create_user(session)
    await create_registration(session, draft, user)
    team = await create_team(session, draft, user)
    content = await version(session, f"content:{draft.id}")
    await create_submission(session, team)  # a working copy: nothing public changed
    assert await version(session, f"content:{draft.id}") == content
