"""Engine, sessions and the transaction edges.

Each edge owns one transaction and commits it before it reports success:

- HTTP: `TransactionalRoute` commits the request's session after the endpoint returns and before
  the response leaves, so a failed commit becomes an error response, never a lost write.
- Jobs and CLI commands: `Database.transaction()` commits on success, rolls back on error.

Services receive the session and never commit; they `flush()` when they need ids.
"""

from __future__ import annotations

import select
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from psycopg import pq
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from hackops.config import Settings
from hackops.tenancy import forget_tenant

OPTIONAL_EXTENSIONS = ("pg_trgm", "vector")


@dataclass
class Database:
    """The engine and the session factory; one per process (tests bind it to one connection)."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    extensions: frozenset[str] = field(default_factory=frozenset)
    # The raw driver's pool for one-statement hot reads (`open_reads`); None: not opened (tests
    # that bind every session to one rolled-back connection never open it).
    reads: AsyncConnectionPool | None = None
    reads_url: str | None = None
    reads_size: int = 0
    # Its sessions own their transactions (from `from_settings`): a final write may commit.
    owns_transactions: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        engine = create_async_engine(
            settings.sqlalchemy_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=10,
            connect_args={"connect_timeout": 5, "application_name": "hackops"},
        )
        if settings.database_pool_pre_ping:
            event.listen(engine.sync_engine, "checkout", check_open)
        return cls(
            engine=engine,
            sessionmaker=make_sessionmaker(engine),
            reads_url=settings.libpq_url,
            reads_size=settings.database_read_pool_size,
            owns_transactions=True,
        )

    async def open_reads(self) -> bool:
        """Open the raw-driver pool (autocommit: each statement is its own transaction, so a
        one-statement read costs one round trip). Connections are made in the background.
        False when there is nothing to open (turned off, already open, or bound for tests)."""
        if self.reads is not None or not self.reads_url or self.reads_size < 1:
            return False
        self.reads = AsyncConnectionPool(
            self.reads_url,
            min_size=1,
            max_size=self.reads_size,
            timeout=10,
            kwargs={"autocommit": True, "connect_timeout": 5, "application_name": "hackops-reads"},
            open=False,
        )
        await self.reads.open(wait=False)
        return True

    async def close_reads(self) -> None:
        if self.reads is not None:
            await self.reads.close()
            self.reads = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The job/CLI edge: one transaction, committed on success, rolled back on error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def detect_extensions(self) -> frozenset[str]:
        """Which optional extensions are installed (or installable) here; callers fall back."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT name FROM pg_available_extensions"
                    " WHERE name = ANY(:names) AND installed_version IS NOT NULL"
                ),
                {"names": list(OPTIONAL_EXTENSIONS)},
            )
            self.extensions = frozenset(row[0] for row in rows)
        return self.extensions

    async def dispose(self) -> None:
        await self.close_reads()
        await self.engine.dispose()


def make_sessionmaker(
    bind: AsyncEngine | AsyncConnection, **kw: Any
) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind=bind, expire_on_commit=False, autoflush=True, **kw)


def check_open(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, `pg_terminate_backend`, an idle
    timeout) is swapped for a new one before a request uses it, without a round trip.

    An idle connection in the pool is owed nothing by the server: when its socket is readable,
    what waits there is the server's goodbye (its termination notice, then the end of the
    stream), and the connection is dropped (`DisconnectionError`: the pool discards it and
    checks out another, connecting anew if need be). SQLAlchemy's `pool_pre_ping` found the
    same with a `SELECT 1` round trip on every checkout (plus the BEGIN it opened): 4 % of a
    registration's CPU (bench/request_profile.py under callgrind) and a statement per request
    for the database. What neither sees, a peer gone without closing, the next statement meets
    as an error (`errors.database_unavailable`); a check at checkout cannot prevent that."""
    pgconn = dbapi_connection.driver_connection.pgconn
    if pgconn.status != pq.ConnStatus.OK:
        raise exc.DisconnectionError("the connection is closed")
    readable, _, _ = select.select([pgconn.socket], [], [], 0)
    if readable:
        raise exc.DisconnectionError("the server closed the connection (or is closing it)")


_SESSION_KEY = "db_session"


async def get_session(request: Request) -> AsyncSession:
    """The request's session, created on first use; `TransactionalRoute` commits and closes it."""
    session: AsyncSession | None = getattr(request.state, _SESSION_KEY, None)
    if session is None:
        database: Database = request.app.state.db
        session = database.sessionmaker()
        setattr(request.state, _SESSION_KEY, session)
    return session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

#: `session.info` key: the request's transaction may be committed with its final write.
FINAL_WRITE = "hackops_final_write"


async def final_write_session(request: Request, session: SessionDep) -> AsyncSession:
    """The request's session, for a route whose one write is the last thing it does with the
    database: that write may send the COMMIT with it (`rows.fetch_one(..., final=True)`), so a
    hot row lock it takes (the event's seats) is released when the statement ends instead of
    when the request's coroutine next runs — under load, the event loop's latency, which every
    other request waiting on that lock paid in turn. Not when an idempotency record is stored
    in the same transaction (`commit_participant`), nor on a database whose sessions join an
    outer transaction (the tests' `database_on`), which a COMMIT would end."""
    database: Database = request.app.state.db
    participant = getattr(request.state, "commit_participant", None)
    if database.owns_transactions and participant is None:
        session.info[FINAL_WRITE] = True
    return session


FinalWriteSessionDep = Annotated[AsyncSession, Depends(final_write_session)]


def is_request_session(request: Request, session: AsyncSession) -> bool:
    """`session` is the request's own (from `get_session`), not one a route opened itself."""
    return getattr(request.state, _SESSION_KEY, None) is session


class TransactionalRoute(APIRoute):
    """Commits the request's session after the endpoint returns, before the response is sent."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        return transactional(handler)


class CommitParticipant(Protocol):
    """Writes something of its own in the request's transaction, after the endpoint, before the
    commit (`hackops.idempotency` stores the response there, so it commits with the write).
    Set as `request.state.commit_participant` by a middleware."""

    async def before_commit(self, session: AsyncSession, response: Response) -> None: ...

    def committed(self) -> None: ...


def transactional(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    async def run_in_transaction(request: Request) -> Response:
        try:
            response = await handler(request)
            participant: CommitParticipant | None = getattr(
                request.state, "commit_participant", None
            )
            if participant is not None:
                await participant.before_commit(await get_session(request), response)
            session: AsyncSession | None = getattr(request.state, _SESSION_KEY, None)
            if session is not None:
                await session.commit()
            if participant is not None:
                participant.committed()
            return response
        except BaseException:
            session = getattr(request.state, _SESSION_KEY, None)
            if session is not None:
                await session.rollback()
            raise
        finally:
            session = getattr(request.state, _SESSION_KEY, None)
            if session is not None:
                setattr(request.state, _SESSION_KEY, None)
                await session.close()

    return run_in_transaction


async def release(session: AsyncSession) -> None:
    """End the session's transaction now (commit) and give its pooled connection back, before
    slow I/O: a streamed request body, object storage, password hashing. The session stays
    usable; its next statement begins a new transaction with no tenant or actor set and no
    objects from before (they are detached, still readable), so the caller loads and
    authorizes again what it writes with."""
    await session.commit()
    session.expunge_all()
    forget_tenant(session)


async def raw_connection(session: AsyncSession) -> Any:
    """The psycopg AsyncConnection under the session's current transaction."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    return raw.driver_connection


async def db_now(session: AsyncSession) -> Any:
    """The database clock (`app_now()`), which tests can freeze per transaction."""
    return (await session.execute(text("SELECT app_now()"))).scalar_one()
