"""One PostgreSQL `LISTEN` connection that comes back by itself: the receiving half of every
`pg_notify` this application sends (live notifications, public page versions).

A `Listener` holds ONE connection listening on one channel (started on demand). When the
connection dies (a database restart, `pg_terminate_backend`, a network cut — noticed within
`PING_SECONDS` at most), it reconnects with backoff, without a restart, and calls `on_connect`
after every (re)connection, so its owner can catch up on what it may have missed in the gap.
Its `state` is what readiness reports (degraded while it is down).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
from collections.abc import Awaitable, Callable

import psycopg
import structlog

log = structlog.get_logger("hackops.listening")

#: A silent connection is checked this often (a dead peer is not always an error at once).
PING_SECONDS = 20.0
RECONNECT_FIRST_S = 0.2
RECONNECT_MAX_S = 5.0


class State(enum.StrEnum):
    IDLE = "idle"  # not started yet
    CONNECTING = "connecting"
    LISTENING = "listening"
    DOWN = "down"  # lost; reconnecting


class Listener:
    """One LISTEN connection on `channel` that comes back by itself (see the module)."""

    def __init__(
        self,
        url: str,
        channel: str,
        on_payload: Callable[[str], Awaitable[None]],
        on_connect: Callable[[], Awaitable[None]],
        *,
        application_name: str,
        ping_seconds: float = PING_SECONDS,
    ) -> None:
        if not channel.replace("_", "").isalnum():
            raise ValueError(f"invalid channel name {channel!r}")
        self.url = url
        self.channel = channel
        self.on_payload = on_payload
        self.on_connect = on_connect
        self.application_name = application_name
        self.ping_seconds = ping_seconds
        self.state = State.IDLE
        self.connects = 0
        self.last_error: str | None = None
        self.backend_pid: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self.state = State.CONNECTING
            self._task = asyncio.create_task(self._run(), name=f"listener-{self.channel}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.state = State.IDLE

    async def _run(self) -> None:
        delay = RECONNECT_FIRST_S
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of the connection: reconnect
                self.last_error = (str(exc) or type(exc).__name__)[:300]
                log.warning("listener_lost", channel=self.channel, error=self.last_error)
            if self.state is State.LISTENING:
                delay = RECONNECT_FIRST_S  # it worked until now: come back quickly
            self.state = State.DOWN
            self.backend_pid = None
            await asyncio.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter, not a secret
            delay = min(delay * 2, RECONNECT_MAX_S)

    async def _listen(self) -> None:
        conn = await psycopg.AsyncConnection.connect(
            self.url, autocommit=True, connect_timeout=5, application_name=self.application_name
        )
        async with conn:
            await conn.execute(f"LISTEN {self.channel}")
            self.backend_pid = conn.info.backend_pid
            self.state = State.LISTENING
            self.connects += 1
            log.info("listening", channel=self.channel, connects=self.connects)
            await self._safely(self.on_connect())
            while True:
                async for notify in conn.notifies(timeout=self.ping_seconds):
                    await self._safely(self.on_payload(notify.payload))
                await conn.execute("SELECT 1")  # still there? (raises when not)

    async def _safely(self, work: Awaitable[None]) -> None:
        """The listener outlives a failed handler (a query refused during an outage)."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("listener_handler_failed", channel=self.channel, error=str(exc)[:300])
