"""Migrations are the only way a schema is made: they go up, down and up again, and agree with
the models."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hackops import migrate
from hackops.embedded import ensure_database
from hackops.migrate import include_name
from hackops.models import Base


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {row[0] for row in rows}


def _functions(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'public'"
        ).fetchall()
    return {row[0] for row in rows}


@pytest.fixture
def scratch_database(database_url: str) -> Iterator[str]:
    admin = urlsplit(database_url)._replace(path="/postgres").geturl()
    name = f"hackops_mig_{secrets.token_hex(4)}"
    ensure_database(admin, name)
    yield urlsplit(database_url)._replace(path=f"/{name}").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
async def test_upgrade_downgrade_upgrade(scratch_database: str) -> None:
    await asyncio.to_thread(migrate.upgrade, scratch_database)
    after_first = _tables(scratch_database)
    assert {"alembic_version", "organizations", "procrastinate_jobs"} <= after_first

    await asyncio.to_thread(migrate.downgrade, scratch_database, "base")
    assert _tables(scratch_database) == {"alembic_version"}
    assert _functions(scratch_database) == set()

    await asyncio.to_thread(migrate.upgrade, scratch_database)
    assert _tables(scratch_database) == after_first


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    def diff(sync_conn: Connection) -> list[object]:
        context = MigrationContext.configure(
            sync_conn,
            opts={
                "include_name": include_name,
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_database_is_at_head(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        applied = set(
            (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars()
        )
    assert applied == set(migrate.head_revisions())
