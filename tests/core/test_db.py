from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.config import Environment, Settings
from hackops.db import Database, db_now
from hackops.demo import seed_demo
from hackops.models import (
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
    # The organizer and six participants; a running hackathon with two teams and five tasks;
    # a judged event and a finished one (twelve participants, six teams, three judges each).
    assert await session.scalar(select(func.count()).select_from(User)) == 37
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    counts = [
        await session.scalar(select(func.count()).select_from(model))
        for model in (Event, Registration, Team, TeamMember, Task, EventResult)
    ]
    assert counts == [3, 30, 14, 30, 5, 1]
    assert await session.scalar(select(func.count()).select_from(Evaluation)) == 21


async def test_demo_makes_no_known_password_account_outside_dev(
    session: AsyncSession, settings: Settings
) -> None:
    assert [kind for kind, _ in await seed_demo(session, settings)] == ["organization"]
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
