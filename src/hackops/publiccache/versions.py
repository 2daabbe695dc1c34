"""What this process knows of `public_versions` (migration 0029): scope → committed version.

Triggers bump a scope's version in the transaction of each change and `pg_notify` it at commit
(one notification per `public_bump` call: a line `<scope> <version>` per scope, migration 0036);
the process learns it two ways:
- the `hackops_public` listener (`hackops.listening.Listener`, one connection per process):
  within milliseconds of the commit;
- a poll of every scope it knows, every `POLL_SECONDS`: the net for a lost notification or a
  listener that is reconnecting (the listener's every (re)connection also polls at once).

A cached page is served only while the versions were `fresh`: confirmed by a poll that STARTED
at most `FRESH_SECONDS` ago (whatever committed before a poll starts is in its answer). So no
page outlives the commit that changed it by more than about `FRESH_SECONDS`, in any process,
with the listener down or notifications lost; while polls fail (the database away) nothing is
served from the cache and requests take the normal path.

Each change of a known version advances `tick`, and `changed_at` records the tick of each
scope's last change: a page rendered while one of its scopes changed is not stored (it might
hold the data of before under the version of after).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from typing import Any

import psycopg
import structlog
from psycopg_pool import PoolClosed, PoolTimeout
from sqlalchemy import text

from hackops.db import Database
from hackops.health.checks import Degraded
from hackops.listening import Listener, State

log = structlog.get_logger("hackops.publiccache")

CHANNEL = "hackops_public"
APPLICATION_NAME = "hackops-public"
POLL_SECONDS = 1.0
FRESH_SECONDS = 3.0
#: At most this many scopes are remembered (each event has two, each organization one).
MAX_SCOPES = 50_000

_POLL = "SELECT scope, version FROM public_versions WHERE scope = ANY(%(scopes)s)"
_POLL_SQL = text("SELECT scope, version FROM public_versions WHERE scope = ANY(:scopes)")


class Versions:
    """This process's view of `public_versions` (see the module)."""

    def __init__(
        self,
        database: Database,
        url: str | None,
        *,
        poll_seconds: float = POLL_SECONDS,
        fresh_seconds: float = FRESH_SECONDS,
    ) -> None:
        self.database = database
        self.poll_seconds = poll_seconds
        self.fresh_seconds = fresh_seconds
        self.known: dict[str, int] = {}
        self.changed_at: dict[str, int] = {}
        self.tick = 0
        self.confirmed_at = float("-inf")
        self.polls = 0
        self.poll_error: str | None = None
        self.wanted: set[str] = set()
        self.listener = (
            Listener(
                url, CHANNEL, self._on_payload, self._on_connect, application_name=APPLICATION_NAME
            )
            if url
            else None
        )
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- reading ----------------------------------------------------------------------------

    def fresh(self) -> bool:
        return time.monotonic() - self.confirmed_at <= self.fresh_seconds

    def want(self, scopes: Iterable[str]) -> None:
        """Scopes a page needs but this process does not know yet: the next poll (now) reads
        them."""
        missing = [scope for scope in scopes if scope not in self.known]
        if missing:
            self.wanted.update(missing)
            self._wake.set()

    # --- learning ---------------------------------------------------------------------------

    def apply(self, scope: str, version: int) -> None:
        current = self.known.get(scope)
        if current is not None and version <= current:
            return
        if current is None and len(self.known) >= MAX_SCOPES:
            return  # not remembered: pages of it are rendered, never served from the cache
        self.tick += 1
        self.known[scope] = version
        self.changed_at[scope] = self.tick

    async def _on_payload(self, payload: str) -> None:
        # One line per scope a transaction's `public_bump` changed: `<scope> <version>`.
        for line in payload.split("\n"):
            scope, _, version = line.rpartition(" ")
            # Only scopes a page here needed: the others are read when a page first needs them.
            if version.isdigit() and (scope in self.known or scope in self.wanted):
                self.apply(scope, int(version))

    async def _on_connect(self) -> None:
        self._wake.set()  # what was missed while away: read at once

    async def poll(self) -> None:
        """Read the versions of every scope known or wanted; `fresh` from the poll's start."""
        started = time.monotonic()
        scopes = sorted({*self.known, *self.wanted})
        rows = await self._read(scopes) if scopes else []
        found = dict(rows)
        for scope in scopes:
            self.apply(scope, int(found.get(scope, 0)))
        self.wanted.difference_update(scopes)
        self.confirmed_at = started
        self.polls += 1
        if self.poll_error is not None:
            log.info("public_versions_poll_back")
        self.poll_error = None

    async def _read(self, scopes: list[str]) -> list[Any]:
        pool = self.database.reads
        if pool is not None:
            try:
                async with pool.connection() as conn:
                    cursor = await conn.execute(_POLL, {"scopes": scopes})
                    return list(await cursor.fetchall())
            except (PoolTimeout, PoolClosed):
                pass  # the session path below reports the database's own state
        async with self.database.engine.connect() as conn:
            result = await conn.execute(_POLL_SQL, {"scopes": scopes})
            return [tuple(row) for row in result]

    # --- running ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="public-versions-poll")
            if self.listener is not None:
                self.listener.start()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.listener is not None:
            await self.listener.stop()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError, Exception) as exc:  # the database away: not fresh
                error = (str(exc) or type(exc).__name__)[:300]
                if self.poll_error is None:
                    log.warning("public_versions_poll_failed", error=error)
                self.poll_error = error
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def check(self) -> dict[str, Any]:
        """Readiness: degraded while the versions cannot be confirmed or the listener is down
        (pages are then rendered per request, or served up to `FRESH_SECONDS` late)."""
        details: dict[str, Any] = {"scopes": len(self.known), "polls": self.polls}
        listener = self.listener
        if listener is not None:
            details.update(listener=listener.state.value, connects=listener.connects)
        if not self.fresh() and (self.polls or self.poll_error is not None):
            raise Degraded(
                "the public pages' versions cannot be read; pages are rendered per request",
                {**details, "error": self.poll_error},
            )
        if (
            listener is not None
            and listener.state in (State.DOWN, State.CONNECTING)
            and (listener.connects or listener.last_error)
        ):
            raise Degraded(
                "the public pages' change notices are not received; polling meanwhile", details
            )
        return details
