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

from hackops.db import Database
from hackops.migrate import head_revisions

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
