"""What readiness checks: each part the app needs, each answering ok, degraded or down.

A check is an async function that returns details (numbers, never secrets) or raises:
`Degraded` when its part works in a reduced way (reported, readiness still passes), any other
exception when its part is down. Driver errors (which name hosts and socket paths) go to the
logs and to callers bearing the metrics token, never to anonymous callers (see `router`).
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from hackops.bus.leader import LOCK_KEY as BUS_RELAY_LOCK
from hackops.bus.topology import Names as BusNames
from hackops.config import Settings, mask_password
from hackops.db import Database
from hackops.migrate import head_revisions
from hackops.tenancy import set_actor

CHECK_TIMEOUT_S = 3.0
#: A worker whose last heartbeat is older than this is not alive (procrastinate beats every
#: 10 s and treats 30 s of silence as a stalled worker).
WORKER_ALIVE_S = 30.0
#: A job due this long ago and still `todo` is waiting too long.
JOB_WAIT_LIMIT_S = 30.0
#: Readiness looks at this many of the oldest `todo` jobs (bounded cost on a long queue).
JOBS_SAMPLED = 1000

Details = dict[str, Any]
Check = Callable[[], Awaitable[Details | None]]


class State(enum.StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


class Degraded(Exception):
    """The part works in a reduced way (a fallback is in use, a backlog grows)."""

    def __init__(self, message: str, details: Details | None = None) -> None:
        super().__init__(message)
        self.details = details


class Down(Exception):
    """The part does not work; `details` say what was seen."""

    def __init__(self, message: str, details: Details | None = None) -> None:
        super().__init__(message)
        self.details = details


@dataclass
class Outcome:
    state: State
    duration_ms: float
    error: str | None = None
    details: Details = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state is not State.DOWN


async def run_check(check: Check) -> Outcome:
    started = time.perf_counter()
    try:
        details = await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_S)
    except Degraded as exc:
        return Outcome(State.DEGRADED, _ms(started), str(exc), exc.details or {})
    except Exception as exc:  # every failure is reported, none escapes as a 500
        message = (str(exc) or type(exc).__name__)[:300]
        return Outcome(State.DOWN, _ms(started), message, getattr(exc, "details", None) or {})
    return Outcome(State.OK, _ms(started), None, details or {})


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


async def database_check(db: Database) -> None:
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def migrations_check(db: Database) -> None:
    async with db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        applied = frozenset(row[0] for row in rows)
    expected = head_revisions()
    if applied != expected:
        raise RuntimeError(f"database at {sorted(applied)}, code expects {sorted(expected)}")


async def queue_check(db: Database) -> None:
    # The queue lives in this database; check its table through the app's own pool (the
    # procrastinate connector is process-global and may belong to another event loop in tests).
    async with db.engine.connect() as conn:
        found = (await conn.execute(text("SELECT to_regclass('procrastinate_jobs')"))).scalar()
    if found is None:
        raise RuntimeError("the job queue's tables are missing (run the migrations)")


_WORKER_STATE = text(
    """
    WITH todo AS (
      SELECT coalesce(
               j.scheduled_at,
               (SELECT min(e.at) FROM procrastinate_events e WHERE e.job_id = j.id)
             ) AS due
        FROM procrastinate_jobs j
       WHERE j.status = 'todo'
       ORDER BY j.id
       LIMIT :sampled
    )
    SELECT
      (SELECT count(*) FROM procrastinate_workers
        WHERE last_heartbeat > now() - make_interval(secs => :alive_s)) AS live_workers,
      (SELECT extract(epoch FROM now() - max(last_heartbeat)) FROM procrastinate_workers)
        AS heartbeat_age_s,
      (SELECT count(*) FROM todo WHERE due <= now()) AS jobs_due,
      (SELECT extract(epoch FROM now() - min(due)) FROM todo WHERE due <= now())
        AS oldest_due_job_s
    """
)


async def worker_check(db: Database) -> Details:
    """Down when no worker has beaten for `WORKER_ALIVE_S` while a job waits past its limit;
    degraded when workers are alive but a job still waits past it (a backlog)."""
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(_WORKER_STATE, {"alive_s": WORKER_ALIVE_S, "sampled": JOBS_SAMPLED})
        ).one()
    details: Details = {
        "live_workers": int(row.live_workers),
        "last_heartbeat_age_s": _seconds(row.heartbeat_age_s),
        "jobs_due": int(row.jobs_due),
        "oldest_due_job_s": _seconds(row.oldest_due_job_s),
    }
    waiting_too_long = (details["oldest_due_job_s"] or 0) > JOB_WAIT_LIMIT_S
    if waiting_too_long and not details["live_workers"]:
        raise Down(
            f"no worker has been alive for {WORKER_ALIVE_S:.0f} s and jobs are waiting", details
        )
    if waiting_too_long:
        raise Degraded(f"jobs have waited more than {JOB_WAIT_LIMIT_S:.0f} s", details)
    return details


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


# ── the RabbitMQ event bus (only when AMQP_URL is set) ─────────────────────────────────────────

#: The oldest unpublished event may wait this long before readiness says degraded.
BUS_BACKLOG_LIMIT_S = 60.0
#: Readiness counts at most this many unpublished events (bounded cost on a long backlog).
BUS_BACKLOG_COUNTED = 10_000
BROKER_TIMEOUT_S = 2.0

_BUS_BACKLOG = text(
    """
    WITH waiting AS (
      SELECT occurred_at FROM outbox_events
       WHERE published_at IS NULL ORDER BY seq LIMIT :counted
    )
    SELECT
      (SELECT count(*) FROM waiting) AS unpublished,
      (SELECT extract(epoch FROM now() - min(occurred_at)) FROM waiting) AS oldest_s,
      EXISTS (
        SELECT 1 FROM pg_locks
         WHERE locktype = 'advisory' AND granted
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND classid = :classid AND objid = :objid AND objsubid = 2
      ) AS relay_active
    """
)


async def bus_backlog_check(db: Database) -> Details:
    """Degraded when an event has waited for the broker past `BUS_BACKLOG_LIMIT_S` (no relay
    runs, or it cannot publish): events wait in the outbox, nothing is lost."""
    async with db.transaction() as session:
        await set_actor(session, None, platform_admin=True)  # every organization's events
        row = (
            await session.execute(
                _BUS_BACKLOG,
                {
                    "counted": BUS_BACKLOG_COUNTED,
                    "classid": BUS_RELAY_LOCK[0],
                    "objid": BUS_RELAY_LOCK[1],
                },
            )
        ).one()
    details: Details = {
        "unpublished": int(row.unpublished),
        "oldest_unpublished_s": _seconds(row.oldest_s),
        "relay_active": bool(row.relay_active),
    }
    oldest = details["oldest_unpublished_s"]
    if oldest is not None and oldest > BUS_BACKLOG_LIMIT_S:
        why = "the relay cannot publish" if row.relay_active else "no relay is running"
        raise Degraded(f"events have waited {oldest:.0f} s for the broker ({why})", details)
    return details


async def broker_check(settings: Settings) -> Details:
    """Degraded when the broker does not answer or the bus's exchange is not declared yet."""
    if settings.amqp_url is None:
        return {}
    # lazy third-party import: RabbitMQ's client is loaded only where AMQP_URL is set
    import aio_pika

    url = settings.amqp_url.get_secret_value()
    exchange = BusNames.from_settings(settings).exchange
    try:
        connection = await aio_pika.connect(url, timeout=BROKER_TIMEOUT_S)
    except Exception as exc:
        raise Degraded(
            f"the broker at {mask_password(url)} does not answer ({type(exc).__name__})"
        ) from None
    try:
        channel = await connection.channel()
        try:
            await channel.declare_exchange(exchange, "topic", passive=True)
        except Exception:
            raise Degraded(f"exchange {exchange} is not declared yet (no relay ran)") from None
    finally:
        await asyncio.wait_for(connection.close(), BROKER_TIMEOUT_S)
    return {"exchange": exchange}
