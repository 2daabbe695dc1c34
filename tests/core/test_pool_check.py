"""A pooled connection the server closed is replaced at checkout, without a round trip
(`db.check_open`, in place of SQLAlchemy's `SELECT 1` pre-ping)."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from sqlalchemy import event, exc, text

from hackops.config import Settings
from hackops.db import Database


async def _backend(database: Database) -> int:
    async with database.transaction() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(settings: Settings, pid: int) -> None:
    """End that backend from another connection, as a restart or an idle timeout would, and
    wait until it is gone."""
    async with await psycopg.AsyncConnection.connect(settings.libpq_url, autocommit=True) as c:
        await c.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            cursor = await c.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if await cursor.fetchone() is None:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"backend {pid} still there")


@pytest.mark.parametrize("check", [True, False], ids=["checked", "unchecked"])
async def test_a_connection_the_server_closed_is_replaced_before_a_request_uses_it(
    settings: Settings, check: bool
) -> None:
    settings = settings.model_copy(
        update={
            "database_pool_size": 1,
            "database_max_overflow": 0,
            "database_pool_pre_ping": check,
        }
    )
    database = Database.from_settings(settings)
    try:
        first = await _backend(database)
        assert await _backend(database) == first  # the pool of one hands the same one back
        await _terminate(settings, first)
        if check:
            second = await _backend(database)
            assert second != first
            assert await _backend(database) == second
        else:  # what the check spares: the statement meets the closed connection
            with pytest.raises(exc.DBAPIError):
                await _backend(database)
    finally:
        await database.dispose()


async def test_the_check_sends_nothing(settings: Settings) -> None:
    """Taking a connection from the pool sends no statement (SQLAlchemy's pre-ping sent a
    `SELECT 1` on every checkout after the first)."""
    settings = settings.model_copy(update={"database_pool_size": 1, "database_max_overflow": 0})
    database = Database.from_settings(settings)
    seen: list[str] = []

    class Counting(psycopg.AsyncCursor[Any]):
        async def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(str(query))
            return await super().execute(query, *args, **kwargs)

    def count(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.driver_connection.cursor_factory = Counting

    event.listen(database.engine.sync_engine, "connect", count)
    try:
        for n in range(3):
            async with database.transaction() as session:
                await session.execute(text(f"SELECT {n}"))
        assert seen == ["SELECT 0", "SELECT 1", "SELECT 2"]
    finally:
        await database.dispose()
