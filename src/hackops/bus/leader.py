"""The relay's own database connection: leadership, wake-ups and the horizon.

One relay is active across every process (`hackops worker` on any number of machines, web
processes with an in-process worker): the one holding a session-level advisory lock on this
connection (`elect`). The others wait, trying again every few seconds; when the active one's
connection ends (its process stopped, the database went away), PostgreSQL releases the lock and
a waiting relay takes over. Why one relay rather than `FOR UPDATE SKIP LOCKED` batches shared by
several: batches taken side by side go out side by side, and the stream would no longer be in
`seq` order.

The connection also LISTENs on the outbox's channel (`outbox.emit` notifies it at each commit),
so a new event is published at once; the relay polls as well, in case a notification is missed.

The horizon: `seq` is given out when a row is inserted, but transactions commit in their own
order, so a relay that published whatever is visible could publish seq 6 and only then see 5
committed. `horizon()` answers the highest `seq` below which nothing can appear any more:
it reads the identity sequence's last value M, then the transactions holding a lock on that
sequence (nextval takes it before handing out a number and keeps it until the transaction
ends), and waits for those to end. Every number up to M was handed out before M was read, so its
transaction either ended before, or was among those waited for: once they are gone, each row
up to M is committed or rolled back for good, and the relay publishes up to M in order. A
transaction that emits and stays open holds the stream back until it ends (logged every 10 s).
The identity sequence must keep its default cache of 1 (a per-session cache would hand out
numbers without touching the shared sequence; `elect` refuses one that does).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import psycopg
import structlog

from hackops.outbox.channels import NOTIFY_CHANNEL

log = structlog.get_logger("hackops.bus")

#: The advisory lock of the active relay (two int4 keys: "hack", "bus!"), per database.
LOCK_KEY = (0x6861636B, 0x62757321)
#: Seconds between two attempts of a waiting relay to become the active one.
STANDBY_POLL_S = 2.0
#: The longest pause between two looks at the transactions a horizon waits for (each look is
#: one small query; a longer pause would add to the lag of every event behind them).
WAIT_POLL_MAX_S = 0.01
#: How often a horizon that waits for open transactions says so.
WAIT_WARNING_S = 10.0

_SEQUENCE = "SELECT pg_get_serial_sequence('outbox_events', 'seq')"
_CACHE = "SELECT seqcache FROM pg_sequence WHERE seqrelid = %s::regclass"
#: The sequence's last value M, then (a nested loop: strictly after M is read) the transactions
#: holding the sequence's lock. One statement, one round trip.
_HORIZON = """
    SELECT last.m, coalesce(w.writers, '{}')
      FROM (SELECT pg_sequence_last_value(%(seq)s::regclass) AS m OFFSET 0) AS last
      CROSS JOIN LATERAL (
        SELECT array_agg(DISTINCT l.virtualtransaction) AS writers FROM pg_locks l
         WHERE last.m IS NOT NULL
           AND l.locktype = 'relation'
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.relation = %(seq)s::regclass
           AND l.pid IS DISTINCT FROM pg_backend_pid()
      ) AS w
"""
_STILL_WRITING = """
    SELECT count(DISTINCT virtualtransaction) FROM pg_locks
     WHERE locktype = 'relation'
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND relation = %s::regclass
       AND virtualtransaction = ANY(%s)
"""


@dataclass
class Leader:
    """The active relay's connection (autocommit: it never holds a transaction open)."""

    conn: psycopg.AsyncConnection
    sequence: str

    async def horizon(self) -> int | None:
        """The highest `seq` whose rows are all settled (None: no event ever)."""
        cursor = await self.conn.execute(_HORIZON, {"seq": self.sequence})
        row = await cursor.fetchone()
        if row is None or row[0] is None:
            return None
        last, writers = int(row[0]), [str(vxid) for vxid in row[1]]
        if writers:
            await self._wait_for(writers)
        return last

    async def _wait_for(self, writers: list[str]) -> None:
        delay = 0.001
        started = warned = time.monotonic()
        while open_ := await self._one(_STILL_WRITING, (self.sequence, writers)) or 0:
            if time.monotonic() - warned > WAIT_WARNING_S:
                warned = time.monotonic()
                log.warning(
                    "bus_relay_waits_for_open_transactions",
                    transactions=open_,
                    waited_s=round(warned - started, 1),
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, WAIT_POLL_MAX_S)

    async def wait_for_events(self, within_s: float) -> bool:
        """Until an outbox notification arrives (True) or `within_s` seconds pass (False)."""
        woken = False
        async for _ in self.conn.notifies(timeout=within_s, stop_after=1):
            woken = True
        return woken

    async def _one(self, query: str, params: tuple[object, ...] = ()) -> int | None:
        cursor = await self.conn.execute(query, params)
        row = await cursor.fetchone()
        return None if row is None or row[0] is None else int(row[0])


async def connect(url: str, name: str) -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(
        url,
        autocommit=True,
        connect_timeout=5,
        application_name=name,
        # A silent network loss ends the connection (and the lock) within about half a minute.
        keepalives=1,
        keepalives_idle=10,
        keepalives_interval=5,
        keepalives_count=3,
    )


@asynccontextmanager
async def elect(
    url: str, *, name: str = "hackops-bus-relay", standby_poll_s: float = STANDBY_POLL_S
) -> AsyncIterator[Leader]:
    """Become the active relay (waiting while another is), listening for new events; the lock
    goes with the connection at the end of the block."""
    conn = await connect(url, name)
    async with conn:
        waiting = False
        while not await _try_lock(conn):
            if not waiting:
                log.info("bus_relay_standby", reason="another relay is active")
                waiting = True
            await asyncio.sleep(standby_poll_s)
        await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        cursor = await conn.execute(_SEQUENCE)
        row = await cursor.fetchone()
        if row is None or row[0] is None:
            raise RuntimeError("outbox_events.seq has no sequence (run the migrations)")
        sequence = str(row[0])
        cursor = await conn.execute(_CACHE, (sequence,))
        cache = await cursor.fetchone()
        if cache is not None and cache[0] != 1:
            raise RuntimeError(
                f"{sequence} caches {cache[0]} numbers per session; the relay's order needs"
                f" ALTER SEQUENCE {sequence} CACHE 1"
            )
        yield Leader(conn, sequence)


async def _try_lock(conn: psycopg.AsyncConnection) -> bool:
    cursor = await conn.execute("SELECT pg_try_advisory_lock(%s, %s)", LOCK_KEY)
    row = await cursor.fetchone()
    return bool(row and row[0])
