"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from hackops import __version__
from hackops.db import Database
from hackops.migrate import head_revisions
from hackops.observability import DB_POOL, JOBS_QUEUED, REGISTRY
from hackops.storage import check_store

log = structlog.get_logger("hackops.health")
router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 3.0


class Liveness(BaseModel):
    status: str
    version: str


class CheckResult(BaseModel):
    ok: bool
    duration_ms: float
    error: str | None = None


class Readiness(BaseModel):
    status: str
    failed: list[str]
    #: Optional services that are down: the app works without them (status `degraded`, 200).
    degraded: list[str] = []
    checks: dict[str, CheckResult]


#: Services the app degrades without (Redis: in-process limits and cache), never a 503.
OPTIONAL = frozenset({"redis"})


@router.get("/health", response_model=Liveness, summary="Liveness (no dependencies touched)")
async def liveness() -> Liveness:
    return Liveness(status="ok", version=__version__)


async def _database_check(db: Database) -> None:
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _migrations_check(db: Database) -> None:
    async with db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        applied = frozenset(row[0] for row in rows)
    expected = head_revisions()
    if applied != expected:
        raise RuntimeError(f"database at {sorted(applied)}, code expects {sorted(expected)}")


async def _queue_check(db: Database) -> None:
    # The queue lives in this database; check its table through the app's own pool (the
    # procrastinate connector is process-global and may belong to another event loop in tests).
    async with db.engine.connect() as conn:
        found = (await conn.execute(text("SELECT to_regclass('procrastinate_jobs')"))).scalar()
    if found is None:
        raise RuntimeError("the job queue's tables are missing (run the migrations)")


async def _run_check(check: Callable[[], Awaitable[Any]]) -> CheckResult:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_S)
    except Exception as exc:  # every failure is reported, none escapes as a 500
        message = str(exc) or type(exc).__name__
        return CheckResult(ok=False, duration_ms=_ms(started), error=message[:300])
    return CheckResult(ok=True, duration_ms=_ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


@router.get(
    "/health/ready",
    response_model=Readiness,
    summary="Readiness: database, migrations, queue, storage; Redis when configured (degraded)",
    responses={503: {"model": Readiness, "description": "A dependency is down"}},
)
async def readiness(request: Request) -> JSONResponse:
    state = request.app.state
    db: Database = state.db
    checks: dict[str, Callable[[], Awaitable[Any]]] = {
        "database": lambda: _database_check(db),
        "migrations": lambda: _migrations_check(db),
        "queue": lambda: _queue_check(db),
        "storage": lambda: check_store(state.store),
    }
    if state.redis is not None:
        checks["redis"] = lambda: state.redis.ping()
    names = list(checks)
    results = await asyncio.gather(*(_run_check(checks[n]) for n in names))
    by_name = dict(zip(names, results, strict=True))
    down = [name for name, result in by_name.items() if not result.ok]
    failed = [name for name in down if name not in OPTIONAL]
    degraded = [name for name in down if name in OPTIONAL]
    if down:
        log.warning("not_ready" if failed else "degraded", failed=failed, degraded=degraded)
    status = "unavailable" if failed else "degraded" if degraded else "ready"
    body = Readiness(status=status, failed=failed, degraded=degraded, checks=by_name)
    return JSONResponse(body.model_dump(), status_code=503 if failed else 200)


async def _refresh_gauges(request: Request) -> None:
    db: Database = request.app.state.db
    pool: Any = db.engine.pool
    for state, getter in (
        ("size", "size"),
        ("checked_out", "checkedout"),
        ("checked_in", "checkedin"),
    ):
        if hasattr(pool, getter):
            DB_POOL.labels(state).set(getattr(pool, getter)())
    try:
        async with db.engine.connect() as conn:
            rows = await asyncio.wait_for(
                conn.execute(
                    text(
                        "SELECT queue_name, status::text, count(*) FROM procrastinate_jobs"
                        " WHERE status IN ('todo', 'doing', 'failed') GROUP BY 1, 2"
                    )
                ),
                timeout=CHECK_TIMEOUT_S,
            )
            JOBS_QUEUED.clear()
            for queue, status, count in rows:
                JOBS_QUEUED.labels(queue, status).set(count)
    except Exception as exc:  # metrics must render even when the database is down
        log.warning("metrics_jobs_unavailable", error=str(exc))


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    await _refresh_gauges(request)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
