from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.config import Environment, Settings
from hackops.db import Database, db_now
from hackops.demo import seed_demo
from hackops.events.lifecycle import SignUp
from hackops.events.showcase import landing
from hackops.models import (
    AuditEntry,
    Evaluation,
    Event,
    EventResult,
    Organization,
    Registration,
    Task,
    Team,
    TeamMember,
    User,
)
from tests.factories import create_organization
from tests.helpers import frozen_time

T1 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 3, 2, 18, 30, tzinfo=UTC)


async def test_timestamps_come_from_the_database_clock(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    async with frozen_time(connection, T1):
        assert await db_now(session) == T1
        org = await create_organization(session)
        await session.refresh(org)
        assert (org.created_at, org.updated_at) == (T1, T1)
    async with frozen_time(connection, T2):
        org.name = "Renamed"
        await session.flush()
        await session.refresh(org)
        assert (org.created_at, org.updated_at) == (T1, T2)
        assert datetime.now(UTC) == T2


async def test_primary_keys_are_time_ordered_uuid7(session: AsyncSession) -> None:
    first = await create_organization(session)
    second = await create_organization(session)
    assert isinstance(first.id, uuid.UUID)
    assert first.id.version == 7
    assert first.id < second.id


async def test_soft_delete_marks_the_row(session: AsyncSession) -> None:
    org = await create_organization(session)
    assert not org.is_deleted
    org.deleted_at = await db_now(session)
    await session.flush()
    assert org.is_deleted


async def test_constraints_hold_in_the_database(session: AsyncSession) -> None:
    with pytest.raises(Exception, match="ck_organizations_slug_format"):
        async with session.begin_nested():
            await create_organization(session, slug="Not A Slug")


async def test_demo_data_is_idempotent(session: AsyncSession, settings: Settings) -> None:
    dev = settings.model_copy(update={"hackops_env": Environment.DEV})
    first = await seed_demo(session, dev)
    second = await seed_demo(session, dev)
    assert first == second
    count = await session.scalar(
        select(func.count()).select_from(Organization).where(Organization.slug == "demo")
    )
    assert count == 1
    demo = await session.scalar(select(Organization).where(Organization.slug == "demo"))
    assert demo is not None
    # Room for the demo's three events and more to try (the default plan allows three).
    assert (demo.plan, demo.max_active_events) == ("demo", 20)
    assert ("plan", "demo: up to 20 active events") in first
    await session.execute(
        text("SELECT set_config('hackops.org_id', :id, true)"), {"id": str(demo.id)}
    )
    changes = await session.scalars(
        select(AuditEntry.details).where(AuditEntry.action == "organization.plan_changed")
    )
    assert list(changes) == [{"plan": "demo", "max_active_events": 20}]  # once: idempotent
    # The organizer and six participants; a running hackathon with two teams and five tasks;
    # a judged event and a finished one (twelve participants, six teams, three judges each).
    assert await session.scalar(select(func.count()).select_from(User)) == 37
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    counts = [
        await session.scalar(select(func.count()).select_from(model))
        for model in (Event, Registration, Team, TeamMember, Task, EventResult)
    ]
    assert counts == [4, 30, 14, 30, 5, 1]
    assert await session.scalar(select(func.count()).select_from(Evaluation)) == 21
    # What a visitor finds on the landing page: an upcoming event with registration open, the
    # running and the judged ones, and the finished one's results and open gallery.
    await session.execute(text("SELECT set_config('hackops.platform_admin', '', true)"))
    shown = await landing(session)
    assert [(c.name, c.sign_up) for c in shown.upcoming] == [("Demo Spring Hack 2027", SignUp.OPEN)]
    assert sorted(c.name for c in shown.happening) == ["Demo Hack 2026", "Demo Judging Night 2026"]
    assert [(c.name, c.results_published, c.gallery_open) for c in shown.results] == [
        ("Demo Hack 2025 (finished)", True, True)
    ]


async def test_demo_opens_the_gallery_of_a_finished_event_seeded_before(
    session: AsyncSession, settings: Settings
) -> None:
    """Demo databases seeded before the galleries were opened get theirs on the next start."""
    dev = settings.model_copy(update={"hackops_env": Environment.DEV})
    await seed_demo(session, dev)
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    finished = await session.scalar(select(Event).where(Event.slug == "demo-finished-2025"))
    assert finished is not None
    finished.gallery_opened_at = None
    await session.flush()
    await seed_demo(session, dev)
    await session.refresh(finished)
    assert finished.gallery_opened_at == finished.results_published_at


async def test_demo_makes_no_known_password_account_outside_dev(
    session: AsyncSession, settings: Settings
) -> None:
    assert [kind for kind, _ in await seed_demo(session, settings)] == ["organization", "plan"]
    assert await session.scalar(select(func.count()).select_from(User)) == 0


async def test_optional_extensions_are_detected(
    bound_database: Database, connection: AsyncConnection
) -> None:
    available = set(
        (
            await connection.execute(
                text("SELECT name FROM pg_available_extensions WHERE installed_version IS NOT NULL")
            )
        ).scalars()
    )
    detected = await bound_database.detect_extensions()
    assert detected == available & {"pg_trgm", "vector"}


async def test_job_and_cli_edge_commits_or_rolls_back(committed_db: Database) -> None:
    async with committed_db.transaction() as session:
        await create_organization(session, slug="kept")

    async def fail_midway() -> None:
        async with committed_db.transaction() as session:
            await create_organization(session, slug="dropped")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_midway()
    async with committed_db.transaction() as session:
        slugs = set((await session.execute(select(Organization.slug))).scalars())
    assert "kept" in slugs
    assert "dropped" not in slugs
