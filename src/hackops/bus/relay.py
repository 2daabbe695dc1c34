"""The relay: outbox → broker, in `seq` order, at least once.

One round (`relay_once`): the horizon (`leader.Leader.horizon`), a batch of unpublished events
up to it in `seq` order read in a short transaction, the batch published with publisher confirms
(no transaction open meanwhile), then the confirmed events marked `published_at` in a second
short transaction. A crash between the broker's confirm and the mark publishes those events
again on the next round, with the same `message_id`: consumers drop duplicates by it. An event
is never marked before the broker confirmed it, so none is lost.

Outages end: while the broker is away, publishing fails (or times out), nothing is marked, the
relay keeps its place and tries again with a growing pause while events wait in the outbox; the
robust connection comes back with the broker and re-declares the topology. When the database
goes away, the round fails, the relay drops its connection (and so its leadership) and elects
again once the database answers. Neither needs a restart.

Everything the relay does in the database runs on its own connection (`leader`): the lock, the
wake-ups, the horizon, and the two short transactions of a round (raw statements, not the ORM:
most of the relay's time went into the session machinery, measured with bench/bus.py).

`run(settings)` is what `hackops worker` and the in-process worker start when AMQP_URL is set.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from typing import TYPE_CHECKING

import structlog
from psycopg.rows import class_row

from hackops.bus.leader import STANDBY_POLL_S, Leader, elect
from hackops.bus.messages import EventRecord, Outgoing
from hackops.bus.topology import Names, declare
from hackops.config import Settings, hide_password
from hackops.tenancy import set_actor_on

if TYPE_CHECKING:
    from aio_pika.abc import AbstractChannel, AbstractRobustConnection

log = structlog.get_logger("hackops.bus")

#: Events per round (one read, one publish of them all, one mark).
BATCH = 500
#: The poll behind LISTEN: a round at least this often.
POLL_S = 5.0
#: A batch not confirmed within this is given up (nothing marked) and tried again.
PUBLISH_TIMEOUT_S = 10.0
#: Seconds between the robust connection's attempts to reach a broker that went away.
RECONNECT_S = 1.0
#: Pauses after a failure: the first, doubled up to the longest.
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 10.0


_FETCH = """
    SELECT id, seq, type, version, org_id, event_id, actor_id, subject_type, subject_id,
           occurred_at, payload
      FROM outbox_events
     WHERE published_at IS NULL AND seq <= %(horizon)s
     ORDER BY seq LIMIT %(batch)s
"""
_MARK = """
    UPDATE outbox_events SET published_at = app_now()
     WHERE id = ANY(%(ids)s) AND published_at IS NULL
"""


class BrokerUnavailable(Exception):
    """Publishing failed: the broker is away, refused, or did not confirm in time."""


class Relay:
    """One relay (see the module docstring); `active` is set while it is the one publishing."""

    def __init__(
        self,
        settings: Settings,
        *,
        batch: int = BATCH,
        poll_s: float = POLL_S,
        standby_poll_s: float = STANDBY_POLL_S,
        publish_timeout_s: float = PUBLISH_TIMEOUT_S,
        retry_max_s: float = RETRY_MAX_S,
    ) -> None:
        if settings.amqp_url is None:
            raise ValueError("AMQP_URL is not set: there is no broker to relay to")
        self.amqp_url = settings.amqp_url.get_secret_value()
        self.shown_url = settings.amqp_url_shown or ""
        self.database_url = settings.libpq_url
        self.names = Names.from_settings(settings)
        self.batch = batch
        self.poll_s = poll_s
        self.standby_poll_s = standby_poll_s
        self.publish_timeout_s = publish_timeout_s
        self.retry_max_s = retry_max_s
        self.active = asyncio.Event()
        #: Events confirmed by the broker (and then marked) by this relay.
        self.published = 0
        self.connection: AbstractRobustConnection | None = None
        self.channel: AbstractChannel | None = None

    # ── the loop ────────────────────────────────────────────────────────────────────────────

    async def run(self) -> None:
        """Relay until cancelled, through broker and database outages."""
        pause = RETRY_FIRST_S
        try:
            while True:
                try:
                    await self.connect_broker()
                    async with elect(self.database_url, standby_poll_s=self.standby_poll_s) as lead:
                        self.active.set()
                        log.info("bus_relay_active", broker=self.shown_url)
                        pause = RETRY_FIRST_S
                        await self._lead(lead)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning(
                        "bus_relay_interrupted", reason=self.describe(exc), retry_in_s=pause
                    )
                finally:
                    self.active.clear()
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.retry_max_s)
        finally:
            await self.close()

    async def _lead(self, leader: Leader) -> None:
        pause = RETRY_FIRST_S
        while True:
            try:
                sent = await self.relay_once(leader)
            except BrokerUnavailable as exc:
                log.warning("bus_broker_unavailable", reason=str(exc), retry_in_s=pause)
                pause = await self._after_failure(pause)
                continue
            pause = RETRY_FIRST_S
            if sent < self.batch:
                await leader.wait_for_events(self.poll_s)

    async def _after_failure(self, pause: float) -> float:
        """Pause after a failed publish; the next pause. While the broker is away, the pause
        ends as soon as the robust connection is back (not a whole backoff later)."""
        connection = self.connection
        if connection is not None and not connection.connected.is_set():
            try:
                await asyncio.wait_for(connection.ready(), pause)
            except TimeoutError:
                return min(pause * 2, self.retry_max_s)
            return RETRY_FIRST_S
        await asyncio.sleep(pause)
        return min(pause * 2, self.retry_max_s)

    async def relay_once(self, leader: Leader) -> int:
        """One round; the number of events published and marked."""
        started = time.perf_counter()
        horizon = await leader.horizon()
        if horizon is None:
            return 0
        settled = time.perf_counter()
        batch = await self.fetch(leader, horizon)
        if not batch:
            return 0
        fetched = time.perf_counter()
        confirmed, failure = await self.publish(batch)
        if confirmed:
            sent = time.perf_counter()
            await self.mark(leader, confirmed)
            self.published += len(confirmed)
            log.debug(
                "bus_published",
                count=len(confirmed),
                last_seq=confirmed[-1].seq,
                horizon_ms=_ms(settled - started),
                fetch_ms=_ms(fetched - settled),
                publish_ms=_ms(sent - fetched),
                mark_ms=_ms(time.perf_counter() - sent),
            )
        if failure is not None:
            raise BrokerUnavailable(failure)
        return len(confirmed)

    # ── the three steps of a round ──────────────────────────────────────────────────────────

    async def fetch(self, leader: Leader, horizon: int) -> list[Outgoing]:
        """Unpublished events up to `horizon`, oldest first (a short transaction)."""
        conn = leader.conn
        async with conn.transaction():
            # The relay reads every organization's events (and the platform's).
            await set_actor_on(conn, None, platform_admin=True)
            cursor = conn.cursor(row_factory=class_row(EventRecord))
            await cursor.execute(_FETCH, {"horizon": horizon, "batch": self.batch})
            return [Outgoing.from_row(row) for row in await cursor.fetchall()]

    async def publish(self, batch: list[Outgoing]) -> tuple[list[Outgoing], str | None]:
        """Publish `batch` in order and wait for the broker's confirms: the confirmed prefix,
        and why the rest was not confirmed (None when all were)."""
        if self.channel is None:
            return [], "not connected to the broker"
        try:
            channel = await asyncio.wait_for(
                self.channel.get_underlay_channel(), self.publish_timeout_s
            )
        except Exception as exc:
            return [], self.describe(exc)
        # Tasks start in seq order and each takes the channel's (FIFO) write lock before its
        # first pause, so the frames leave in seq order while the confirms are awaited together.
        tasks = [
            asyncio.create_task(
                channel.basic_publish(
                    out.body,
                    exchange=self.names.exchange,
                    routing_key=out.routing_key,
                    properties=out.message().properties,
                    mandatory=False,
                )
            )
            for out in batch
        ]
        _, pending = await asyncio.wait(tasks, timeout=self.publish_timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        confirmed: list[Outgoing] = []
        for out, task in zip(batch, tasks, strict=True):
            if task.cancelled():
                return confirmed, f"no confirm from the broker within {self.publish_timeout_s} s"
            error = task.exception()
            if error is not None:
                for rest in tasks:  # retrieve the others' errors too (no "never retrieved")
                    if rest.done() and not rest.cancelled():
                        rest.exception()
                return confirmed, self.describe(error)
            confirmed.append(out)
        return confirmed, None

    async def mark(self, leader: Leader, confirmed: list[Outgoing]) -> None:
        """Mark the broker-confirmed events published (a short transaction)."""
        conn = leader.conn
        async with conn.transaction():
            await set_actor_on(conn, None, platform_admin=True)
            await conn.execute(_MARK, {"ids": [out.id for out in confirmed]})

    # ── the broker ──────────────────────────────────────────────────────────────────────────

    async def connect_broker(self) -> None:
        """A robust connection (it reconnects by itself and re-declares the topology) with a
        publisher-confirms channel; made once, kept across database outages."""
        if self.connection is not None and not self.connection.is_closed:
            return
        # lazy third-party import: RabbitMQ's client is loaded only where AMQP_URL is set
        import aio_pika

        connection = await aio_pika.connect_robust(
            self.amqp_url,
            timeout=10,
            reconnect_interval=RECONNECT_S,
            client_properties={"connection_name": f"hackops relay {socket.gethostname()}"},
        )
        try:
            channel = await connection.channel(publisher_confirms=True)
            await declare(channel, self.names)
        except BaseException:
            await connection.close()
            raise
        self.connection, self.channel = connection, channel
        log.info("bus_broker_connected", broker=self.shown_url, exchange=self.names.exchange)

    async def close(self) -> None:
        if self.connection is not None:
            connection, self.connection, self.channel = self.connection, None, None
            try:
                await asyncio.wait_for(connection.close(), 5)
            except Exception as exc:  # closing a connection to a broker that is gone
                log.debug("bus_broker_close_failed", reason=self.describe(exc))

    def describe(self, exc: BaseException) -> str:
        """The error in one line, never with the broker's password."""
        return hide_password(f"{type(exc).__name__}: {str(exc).strip()}"[:500], self.amqp_url)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def run(settings: Settings) -> None:
    """The relay of this process (started by the worker when AMQP_URL is set)."""
    log.info("bus_relay_starting", pid=os.getpid(), broker=settings.amqp_url_shown)
    await Relay(settings).run()
