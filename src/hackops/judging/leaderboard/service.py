"""The organizers' live leaderboard: served from a cache, invalidated transactionally.

Every evaluation change bumps `judging_versions.version` for its event in the same transaction
(a trigger). The cache key is `hackops:lb:<org>:<event>:<version>`: a reader first reads the
committed version (one indexed row), then the cache; a new score is a new key the moment it
commits, and an uncommitted one can never be seen. Keys are scoped by organization and event, and
the value holds nothing user-specific (organizers of an event all see the same board), so no
one's data can land in another's response. Redis when configured, else a small in-process LRU.

Reads of the JSON board first pass `gate()`: one statement (the `leaderboard_gate` SQL function,
migration 0011) that resolves the caller's token, checks that they organize the event with the
same rules as the request path, sets the tenant and actor, and returns the committed version. A
cache hit is then served without the ORM; a miss runs the normal request path (`read`).

The stream (server-sent events) polls the version twice a second and sends the board when it
changed, so a score shows within a second.
"""

from __future__ import annotations

import asyncio
import enum
import json
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog
from psycopg_pool import AsyncConnectionPool, PoolClosed, PoolTimeout
from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import digest
from hackops.cache import Fallback
from hackops.db import Database
from hackops.events.access import EventAccess
from hackops.judging.leaderboard import live
from hackops.models import JudgingVersion
from hackops.tenancy import set_tenant

log = structlog.get_logger("hackops.leaderboard")

TTL_SECONDS = 3600
POLL_SECONDS = 0.5
DEFAULT_LIMIT = 100


class Size(enum.IntEnum):
    """The board's sizes: each is a cache key per version, so `limit` takes these only."""

    TOP_10 = 10
    TOP_25 = 25
    TOP_50 = 50
    TOP_100 = 100
    TOP_500 = 500


SIZES = tuple(int(size) for size in Size)


class LocalCache:
    """A bounded LRU for one process (used when REDIS_URL is not set)."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.items: OrderedDict[str, bytes] = OrderedDict()

    async def get(self, key: str) -> bytes | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ex: int) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


class Cache:
    """Redis when configured (shared by the processes), the process's LRU otherwise — and also
    while Redis cannot answer (`cache.Fallback`): keys name the committed version, so a board
    from either is right, and a miss takes the database path."""

    def __init__(self, redis: Redis | None, local: LocalCache) -> None:
        self.redis = redis
        self.local = local
        self.fallback = Fallback("leaderboard")

    async def get(self, key: str) -> bytes | None:
        if self.redis is None:
            return await self.local.get(key)
        redis = self.redis
        value: Any = await self.fallback.attempt(
            lambda: redis.get(key), lambda: self.local.get(key)
        )
        if value is None:
            return None
        return value if isinstance(value, bytes) else str(value).encode()

    async def set(self, key: str, value: bytes) -> None:
        if self.redis is None:
            await self.local.set(key, value, ex=TTL_SECONDS)
            return
        redis = self.redis
        await self.fallback.attempt(
            lambda: redis.set(key, value, ex=TTL_SECONDS),
            lambda: self.local.set(key, value, ex=TTL_SECONDS),
        )


async def version_of(session: AsyncSession, access: EventAccess) -> int:
    value = await session.scalar(
        select(JudgingVersion.version).where(JudgingVersion.event_id == access.event.id)
    )
    return int(value or 0)


def cache_key(org_id: uuid.UUID, event_id: uuid.UUID, version: int, limit: int) -> str:
    return f"hackops:lb:{org_id}:{event_id}:{version}:{limit}"


_GATE_COLUMNS = "SELECT o_outcome, o_org_id, o_event_id, o_version FROM leaderboard_gate"
_GATE = text(f"{_GATE_COLUMNS}(:token, :bearer, :org, :event)")
_GATE_RAW = f"{_GATE_COLUMNS}(%(token)s, %(bearer)s, %(org)s, %(event)s)"


@dataclass(frozen=True)
class Gate:
    """What `leaderboard_gate` decided: `ok` (with the event and its committed version),
    `invalid_token` (a bearer token that does not resolve), `forbidden` (staff who do not
    organize) or `not_found`."""

    outcome: str
    org_id: uuid.UUID | None = None
    event_id: uuid.UUID | None = None
    version: int = 0

    def key(self, limit: int) -> str | None:
        if self.outcome != "ok" or self.org_id is None or self.event_id is None:
            return None
        return cache_key(self.org_id, self.event_id, self.version, limit)


def _gate_params(
    raw_token: str | None, bearer: bool, org_slug: str, event_slug: str
) -> dict[str, Any]:
    return {
        "token": digest(raw_token) if raw_token else None,
        "bearer": bearer,
        "org": org_slug,
        "event": event_slug,
    }


async def gate(
    session: AsyncSession, raw_token: str | None, bearer: bool, org_slug: str, event_slug: str
) -> Gate:
    """Authenticate and authorize an organizer's read of the board in one statement."""
    params = _gate_params(raw_token, bearer, org_slug, event_slug)
    row = (await session.execute(_GATE, params)).one()
    return Gate(row[0], row[1], row[2], int(row[3] or 0))


async def gate_on_pool(
    pool: AsyncConnectionPool,
    raw_token: str | None,
    bearer: bool,
    org_slug: str,
    event_slug: str,
) -> Gate | None:
    """`gate` on the raw driver's autocommit pool: one round trip, no ORM. None when the pool
    cannot answer (a value the driver refuses, the database away, the pool busy): the caller
    then takes the session path, which reports such problems as every other route does."""
    if "\x00" in f"{raw_token or ''}{org_slug}{event_slug}":
        return None
    try:
        async with pool.connection() as conn:
            cursor = await conn.execute(
                _GATE_RAW, _gate_params(raw_token, bearer, org_slug, event_slug)
            )
            row = await cursor.fetchone()
    except (psycopg.Error, PoolTimeout, PoolClosed) as exc:
        log.warning("leaderboard_gate_pool_unavailable", error=str(exc))
        return None
    if row is None:
        return None
    return Gate(row[0], row[1], row[2], int(row[3] or 0))


REGISTRY = live.Registry()


async def read(
    session: AsyncSession, access: EventAccess, cache: Cache, limit: int = DEFAULT_LIMIT
) -> bytes:
    """The board (top `limit`) as JSON bytes: from the cache for the committed version, else
    brought up to date incrementally (one writer per event; the others then find the cache)."""
    version = await version_of(session, access)
    event = access.event
    key = cache_key(event.org_id, event.id, version, limit)
    cached = await cache.get(key)
    if cached is not None:
        return cached
    async with REGISTRY.lock(event.org_id, event.id):
        cached = await cache.get(key)
        if cached is not None:
            return cached
        board = await REGISTRY.board_at(session, event.org_id, event.id, version)
        board.limits.add(limit)
        board.on_refit = _republisher(cache)
        body = json.dumps(board.board(limit)).encode()
    await cache.set(key, body)
    if board.version != version:
        await cache.set(cache_key(event.org_id, event.id, board.version, limit), body)
    return body


def _republisher(cache: Cache) -> Callable[[live.EventBoard], Awaitable[None]]:
    """After a background re-estimation of an unchanged version: its refined boards replace the
    cached ones (same key: the same committed scores, better hyperparameters)."""

    async def republish(board: live.EventBoard) -> None:
        for limit in sorted(board.limits):
            key = cache_key(board.org_id, board.event_id, board.version, limit)
            await cache.set(key, json.dumps(board.board(limit)).encode())

    return republish


async def stream(
    database: Database,
    access: EventAccess,
    cache: Cache,
    caller: tuple[str | None, bool],
    *,
    polls: int | None = None,
) -> AsyncIterator[bytes]:
    """Server-sent events: the board now, then each time the version changes.

    Each poll passes the gate again with the caller's credentials (`caller`: raw token, came as
    a bearer token), so a revoked token or role, or a disabled account, ends the stream within
    a poll (`event: closed`) instead of receiving scores until the page is closed."""
    last = -1
    count = 0
    while polls is None or count < polls:
        count += 1
        async with database.transaction() as session:
            allowed = await gate(session, *caller, access.org.slug, access.event.slug)
            if allowed.outcome != "ok" or allowed.event_id != access.event.id:
                yield b"event: closed\ndata: {}\n\n"
                return
            await set_tenant(session, access.event.org_id)
            if allowed.version != last:
                body = await read(session, access, cache)
                last = allowed.version
                yield b"event: leaderboard\ndata: " + body + b"\n\n"
            elif count % 30 == 0:
                yield b": keep-alive\n\n"
        await asyncio.sleep(POLL_SECONDS)
