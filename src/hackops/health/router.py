"""Liveness, readiness and Prometheus metrics (who sees what: `access`; what: `checks`)."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from hackops import __version__
from hackops.config import Settings
from hackops.db import Database
from hackops.errors import error_responses
from hackops.health.access import bears_metrics_token, require_metrics_access
from hackops.health.checks import (
    CHECK_TIMEOUT_S,
    Check,
    Degraded,
    Outcome,
    State,
    broker_check,
    bus_backlog_check,
    database_check,
    migrations_check,
    queue_check,
    run_check,
    worker_check,
)
from hackops.observability import CONTENT_TYPE, render_metrics
from hackops.storage import check_store

log = structlog.get_logger("hackops.health")
router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: str
    version: str


class CheckResult(BaseModel):
    ok: bool
    state: State
    # Only for callers bearing the metrics token (they may name hosts and socket paths).
    duration_ms: float | None = None
    error: str | None = None
    details: dict[str, Any] | None = None


class Readiness(BaseModel):
    status: str
    failed: list[str]
    #: Parts that work in a reduced way (e.g. Redis down: in-process limits, the database for
    #: the leaderboard): status `degraded`, still 200.
    degraded: list[str] = []
    checks: dict[str, CheckResult]


#: The liveness answer never changes in a process: encoded once (no model validation or JSON
#: encoding per request; `bench/asgi_profile.py`).
_LIVENESS = Liveness(status="ok", version=__version__).model_dump_json().encode()


@router.get("/health", response_model=Liveness, summary="Liveness (no dependencies touched)")
async def liveness() -> Response:
    return Response(_LIVENESS, media_type="application/json")


def readiness_checks(request: Request) -> dict[str, Check]:
    state = request.app.state
    db: Database = state.db

    async def storage() -> None:
        await check_store(state.store)

    async def redis() -> None:
        # Optional: without Redis the app falls back to in-process limits and the database.
        try:
            await state.redis.ping()
        except Exception as exc:
            raise Degraded(f"redis is unreachable: {exc or type(exc).__name__}") from exc

    checks: dict[str, Check] = {
        "database": lambda: database_check(db),
        "migrations": lambda: migrations_check(db),
        "queue": lambda: queue_check(db),
        "worker": lambda: worker_check(db),
        "storage": storage,
    }
    if state.redis is not None:
        checks["redis"] = redis
    # Live notifications' listener (notifications.live.Hub): degraded while it reconnects.
    if (hub := getattr(state, "notification_hub", None)) is not None:
        checks["notifications"] = hub.check
    # The public pages' versions (publiccache.versions): degraded while they cannot be read.
    if (public_cache := getattr(state, "public_cache", None)) is not None:
        checks["public_cache"] = public_cache.check
    settings: Settings = state.settings
    if settings.amqp_url is not None:
        checks["broker"] = lambda: broker_check(settings)
        checks["event_bus"] = lambda: bus_backlog_check(db)
    return checks


@router.get(
    "/health/ready",
    response_model=Readiness,
    response_model_exclude_none=True,
    summary=(
        "Readiness: database, migrations, queue, worker, storage; Redis and the RabbitMQ"
        " event bus when configured"
    ),
    description=(
        "Each part's state (`ok`, `degraded`, `down`); 503 naming the parts that are down. "
        "Errors, timings and details only with `Authorization: Bearer <METRICS_TOKEN>`."
    ),
    responses={503: {"model": Readiness, "description": "A part is down"}},
)
async def readiness(request: Request) -> JSONResponse:
    checks = readiness_checks(request)
    names = list(checks)
    outcomes = dict(
        zip(names, await asyncio.gather(*(run_check(checks[n]) for n in names)), strict=True)
    )
    failed = [name for name, outcome in outcomes.items() if not outcome.ok]
    troubled = {n: o for n, o in outcomes.items() if o.state is not State.OK}
    if troubled:
        log.warning(
            "not_ready" if failed else "degraded",
            failed=failed,
            **{
                n: {"state": o.state.value, "error": o.error, **o.details}
                for n, o in troubled.items()
            },
        )
    settings: Settings = request.app.state.settings
    public = _detailed if bears_metrics_token(request, settings) else _public
    body = Readiness(
        status="unavailable" if failed else "degraded" if troubled else "ready",
        failed=failed,
        degraded=[name for name, o in troubled.items() if o.state is State.DEGRADED],
        checks={name: public(outcome) for name, outcome in outcomes.items()},
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=503 if failed else 200)


def _public(outcome: Outcome) -> CheckResult:
    return CheckResult(ok=outcome.ok, state=outcome.state)


def _detailed(outcome: Outcome) -> CheckResult:
    return CheckResult(
        ok=outcome.ok,
        state=outcome.state,
        duration_ms=outcome.duration_ms,
        error=outcome.error,
        details=outcome.details or None,
    )


async def _queue_counts(db: Database) -> list[tuple[str, str, int]] | None:
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
            return [(str(queue), str(status), int(count)) for queue, status, count in rows]
    except Exception as exc:  # metrics must render even when the database is down
        log.warning("metrics_jobs_unavailable", error=str(exc))
        return None


@router.get(
    "/metrics",
    summary="Prometheus metrics (METRICS_ALLOW_FROM addresses, or Bearer METRICS_TOKEN)",
    response_class=Response,
    responses=error_responses(403),
)
async def metrics(request: Request) -> Response:
    require_metrics_access(request, request.app.state.settings)
    counts = await _queue_counts(request.app.state.db)
    return Response(render_metrics(job_counts=counts), media_type=CONTENT_TYPE)
