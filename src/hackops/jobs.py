"""The task queue (procrastinate on the application's PostgreSQL), transactional enqueue, worker.

- `enqueue(session, task, ...)` inserts the job on the session's own connection, inside its
  transaction: a rollback drops the job, a commit can never lose it.
- Jobs take ids, open their own transaction with `job_transaction()`, re-check what they need and
  are idempotent.
- Queues: `default`, `notifications`, `processing`. Retries back off exponentially.
- The worker runs as `hackops worker` (any number of machines), or inside the web process when
  `RUN_WORKER_IN_PROCESS` is on (`make run`), where a supervisor restarts it if the database
  goes away and comes back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.config import Settings
from hackops.db import Database, raw_connection
from hackops.observability import JOB_DURATION, JOBS_RUN

log = structlog.get_logger("hackops.jobs")

QUEUES = ("default", "notifications", "processing")
#: 2, 4, 8, 16 s between the five attempts.
DEFAULT_RETRY = RetryStrategy(max_attempts=5, exponential_wait=2)
#: Modules whose tasks the worker must know; each domain's tasks.py is listed here.
TASK_MODULES = ["hackops.maintenance", "hackops.mail.tasks", "hackops.submissions.pipeline"]

queue_app = App(connector=PsycopgConnector(), import_paths=TASK_MODULES)


class _JobRuntime:
    database: Database | None = None
    settings: Settings | None = None


_runtime = _JobRuntime()


def bind_database(database: Database | None, settings: Settings | None = None) -> None:
    """Give jobs run in this process the database (and settings) they work with."""
    _runtime.database = database
    _runtime.settings = settings


def job_settings() -> Settings:
    if _runtime.settings is None:
        from hackops.config import get_settings

        return get_settings()
    return _runtime.settings


@asynccontextmanager
async def job_transaction() -> AsyncIterator[AsyncSession]:
    """The job edge: one transaction per job run, committed when the job body succeeds."""
    if _runtime.database is None:
        raise RuntimeError("no database bound for jobs; call jobs.bind_database() first")
    async with _runtime.database.transaction() as session:
        yield session


async def enqueue(
    session: AsyncSession,
    task: Any,
    *,
    queue: str | None = None,
    schedule_in: dict[str, float] | None = None,
    queueing_lock: str | None = None,
    **task_kwargs: Any,
) -> int:
    """Defer `task` inside the session's transaction; returns the job id."""
    if queue is not None and queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    connection = await raw_connection(session)
    options: dict[str, Any] = {"connection": connection}
    if queue is not None:
        options["queue"] = queue
    if schedule_in is not None:
        options["schedule_in"] = schedule_in
    if queueing_lock is not None:
        options["queueing_lock"] = queueing_lock
    job_id: int = await task.configure(**options).defer_async(**task_kwargs)
    return job_id


@asynccontextmanager
async def open_queue(settings: Settings) -> AsyncIterator[App]:
    """Open the queue app on its own small pool for the duration of the block.

    The pool starts empty (min_size=0), so a process can start while the database is down and
    recover when it returns.
    """
    connector = PsycopgConnector(
        conninfo=settings.libpq_url,
        min_size=0,
        max_size=settings.worker_concurrency + 4,
        kwargs={"connect_timeout": 5, "application_name": "hackops-queue"},
        name="hackops-queue",
    )
    with queue_app.replace_connector(connector):
        async with queue_app.open_async():
            yield queue_app


async def _measure(
    call_next: Callable[[], Awaitable[Any]], context: JobContext, worker: Any
) -> Any:
    task_name = context.job.task_name
    started = time.perf_counter()
    try:
        result = await call_next()
    except BaseException:
        JOBS_RUN.labels(task_name, "error").inc()
        raise
    else:
        JOBS_RUN.labels(task_name, "success").inc()
        return result
    finally:
        JOB_DURATION.labels(task_name).observe(time.perf_counter() - started)


async def run_worker(
    settings: Settings, *, queues: list[str] | None = None, name: str = "hackops-worker", **kw: Any
) -> None:
    """Run a worker until cancelled (assumes the queue app is open)."""
    await queue_app.run_worker_async(
        queues=queues or list(QUEUES),
        concurrency=settings.worker_concurrency,
        name=name,
        install_signal_handlers=False,
        fetch_job_polling_interval=settings.worker_polling_interval,
        worker_middleware=[_measure],
        **kw,
    )


async def supervise_worker(settings: Settings, **kw: Any) -> None:
    """Keep an in-process worker running; restart it with backoff when it dies (e.g. DB down)."""
    delay = 1.0
    while True:
        started = time.monotonic()
        try:
            await run_worker(settings, **kw)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if time.monotonic() - started > 60:
                delay = 1.0
            log.warning("worker_stopped", error=str(exc), restart_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
