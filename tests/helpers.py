"""Helpers for tests: counting queries and freezing time (Python's clock and the database's)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx2
import psycopg
import time_machine
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from hackops.db import Database, make_sessionmaker


def rollback_sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions that join the test's (rolled-back) connection, each in its own savepoint.

    In production every request has a fresh transaction, so its tenant settings start empty;
    here requests share one transaction, so each session clears them when it begins.
    """
    return make_sessionmaker(
        connection, join_transaction_mode="create_savepoint", sync_session_class=FreshContextSession
    )


FRESH_CONTEXT_MARK = "/* tests: fresh tenant context */"


class FreshContextSession(Session):
    """A session that starts every transaction with no tenant, actor or admin set."""


@event.listens_for(FreshContextSession, "after_begin")
def _clear_tenant_context(session: Any, transaction: Any, conn: Any) -> None:
    if transaction.nested:  # a SAVEPOINT inside a request (begin_nested) keeps its context
        return
    conn.exec_driver_sql(
        f"{FRESH_CONTEXT_MARK} SELECT set_config('hackops.org_id', '', true),"
        " set_config('hackops.user_id', '', true),"
        " set_config('hackops.platform_admin', '', true)"
    )


def database_on(engine: AsyncEngine, connection: AsyncConnection) -> Database:
    """A Database whose sessions all join the test's (rolled-back) connection."""
    return Database(engine=engine, sessionmaker=rollback_sessionmaker(connection))


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx2.AsyncClient]:
    """Run the app's lifespan and give an HTTP client for it (5xx come back as responses)."""
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `hackops ARGS` in a fresh interpreter with only PATH and `env` set."""
    return subprocess.run(
        [sys.executable, "-m", "hackops", *args],
        env={"PATH": os.environ.get("PATH", ""), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class QueryLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


#: The statements an event route's authorization sends before the route: the request gate's one
#: (token, person, tenant, event and roles; 8 before it). A ceiling for the write-count tests,
#: which pin only the write's own; the gate's own tests pin it.
AUTHORIZATION_AT_MOST = 1


def split_at(log: QueryLog, first_of_the_write: str) -> tuple[list[str], list[str]]:
    """The statements before the first one containing `first_of_the_write` (the request's
    authorization) and the rest (the write's own)."""
    at = next(i for i, s in enumerate(log.statements) if first_of_the_write in s)
    return log.statements[:at], log.statements[at:]


@contextmanager
def count_queries(connection: AsyncConnection) -> Iterator[QueryLog]:
    """Record every statement sent on `connection` (the test's; the app's requests share it),
    at the driver: SQLAlchemy's and those the app sends to the driver itself (`hackops.rows`).

    Savepoint bookkeeping (SAVEPOINT / RELEASE / ROLLBACK TO) is not a query the code asked for.
    """
    log = QueryLog()
    sync_conn = connection.sync_connection
    assert sync_conn is not None
    raw = sync_conn.connection.driver_connection
    assert raw is not None

    class Counting(psycopg.AsyncCursor[Any]):
        async def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            statement = query if isinstance(query, str) else str(query)
            plumbing = statement.startswith(
                FRESH_CONTEXT_MARK
            ) or statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO"))
            if not plumbing:
                log.statements.append(statement)
            return await super().execute(query, *args, **kwargs)

    previous = raw.cursor_factory
    raw.cursor_factory = Counting
    try:
        yield log
    finally:
        raw.cursor_factory = previous


@asynccontextmanager
async def frozen_time(connection: AsyncConnection, moment: datetime) -> AsyncIterator[None]:
    """Freeze Python's clock and the database clock (`app_now()`) of the test's transaction."""
    if moment.tzinfo is None:
        raise ValueError("freeze with an aware datetime")
    await connection.execute(
        text("SELECT set_config('hackops.frozen_now', :moment, true)"),
        {"moment": moment.isoformat()},
    )
    try:
        with time_machine.travel(moment, tick=False):
            yield
    finally:
        await connection.execute(text("SELECT set_config('hackops.frozen_now', '', true)"))


@contextmanager
def uvicorn_in_thread(app: FastAPI, port: int) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1:`port` from a thread; yields the base URL."""
    import threading

    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
