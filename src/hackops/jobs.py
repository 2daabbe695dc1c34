"""The task queue (procrastinate on the application's PostgreSQL), transactional enqueue, worker.

- `enqueue(session, task, ...)` inserts the job on the session's own connection, inside its
  transaction: a rollback drops the job, a commit can never lose it.
- Jobs take ids, open their own transaction with `job_transaction()`, re-check what they need and
  are idempotent.
- Queues: `default`, `notifications`, `processing`, `webhooks` (HTTP to organizations' endpoints,
  up to 10 s each: a worker of its own can take it, `hackops worker --queue webhooks`). Retries
  back off exponentially.
- The worker runs as `hackops worker` (any number of machines), or inside the web process when
  `RUN_WORKER_IN_PROCESS` is on (`make run`); either way `supervise_worker` starts it again
  whenever it stops (a database outage stops procrastinate's worker), see its docstring.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import psycopg
import structlog
from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.worker import Worker
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.config import Settings, get_settings
from hackops.db import Database, raw_connection
from hackops.observability import JOB_DURATION, JOBS_RUN

log = structlog.get_logger("hackops.jobs")

QUEUES = ("default", "notifications", "processing", "webhooks")
#: 2, 4, 8, 16 s between the five attempts.
DEFAULT_RETRY = RetryStrategy(max_attempts=5, exponential_wait=2)
#: Modules whose tasks the worker must know; each domain's tasks.py is listed here.
TASK_MODULES = [
    "hackops.maintenance",
    "hackops.mail.tasks",
    "hackops.outbox.tasks",
    "hackops.submissions.pipeline.tasks",
    "hackops.announcements.tasks",
    "hackops.webhooks.tasks",
    "hackops.notifications.tasks",
]
#: The first pause before a stopped worker is started again; doubled per quick failure, up to
#: the longest, so a worker is back within a few seconds of the database.
RESTART_FIRST_DELAY_S = 0.5
RESTART_MAX_DELAY_S = 5.0
#: Longest pause between two probes of a database that does not answer yet.
PROBE_MAX_DELAY_S = 2.0
#: A run this long counts as healthy: the next failure starts the backoff again.
HEALTHY_RUN_S = 60.0

queue_app = App(connector=PsycopgConnector(), import_paths=TASK_MODULES)


class _JobRuntime:
    database: Database | None = None
    settings: Settings | None = None


_runtime = _JobRuntime()


def bind_database(
    database: Database | None, settings: Settings | None = None
) -> tuple[Database | None, Settings | None]:
    """Give jobs run in this process the database (and settings) they work with; returns the
    previous binding, which an app's lifespan puts back when it ends (apps nest in tests)."""
    previous = (_runtime.database, _runtime.settings)
    _runtime.database = database
    _runtime.settings = settings
    return previous


def job_settings() -> Settings:
    if _runtime.settings is None:
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
    schedule_at: datetime | None = None,
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
    if schedule_at is not None:
        options["schedule_at"] = schedule_at
    if queueing_lock is not None:
        options["queueing_lock"] = queueing_lock
    job_id: int = await task.configure(**options).defer_async(**task_kwargs)
    return job_id


def job_row(
    task: Any, *, queue: str, queueing_lock: str | None = None, **task_kwargs: Any
) -> dict[str, Any]:
    """The job `enqueue` would defer, as a `procrastinate_job_to_defer_v1` in JSON: for a SQL
    function that defers it itself (`procrastinate_defer_jobs_v1`) in the same statement as
    the change that causes it (`submit_version`). Same task, queue, lock and arguments."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    template = _JOB_TEMPLATES.get((task.name, queue))
    if template is None:
        # What procrastinate makes of the task and queue is the same for every job of them:
        # made once (its configure/make_new_job cost 3 % of a registration's CPU per call).
        job = task.configure(queue=queue).make_new_job()
        template = {
            "queue_name": job.queue,
            "task_name": job.task_name,
            "priority": job.priority,
            "lock": job.lock,
            "scheduled_at": None if job.scheduled_at is None else job.scheduled_at.isoformat(),
        }
        _JOB_TEMPLATES[(task.name, queue)] = template
    return {**template, "queueing_lock": queueing_lock, "args": task_kwargs}


_JOB_TEMPLATES: dict[tuple[str, str], dict[str, Any]] = {}


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
        # Fail fast while the database is down (the supervisor restarts the worker) instead of
        # waiting the pool's default 30 s, or backing off for minutes between reconnections.
        timeout=5,
        reconnect_timeout=5,
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


def _new_worker(settings: Settings, queues: list[str] | None, name: str, **kw: Any) -> Worker:
    queue_app.perform_import_paths()  # type: ignore[no-untyped-call]
    return Worker(
        app=queue_app,
        queues=queues or list(QUEUES),
        concurrency=settings.worker_concurrency,
        name=name,
        install_signal_handlers=False,
        fetch_job_polling_interval=settings.worker_polling_interval,
        worker_middleware=[_measure],
        **kw,
    )


async def run_worker(
    settings: Settings, *, queues: list[str] | None = None, name: str = "hackops-worker", **kw: Any
) -> None:
    """Run one worker until it stops or is cancelled (assumes the queue app is open)."""
    await _new_worker(settings, queues, name, **kw).run()  # type: ignore[no-untyped-call]


async def supervise_worker(
    settings: Settings, *, queues: list[str] | None = None, name: str = "hackops-worker", **kw: Any
) -> None:
    """Keep a worker running until cancelled: the in-process one and `hackops worker` alike.

    Procrastinate stops its worker when the database goes away (the listener or the heartbeat
    fails: "Stop requested … Stopped worker") and, when the database is back by the time it
    has unregistered, returns as if it had been asked to stop. So whatever ended a run, this
    waits until the database answers, opens the queue's pool afresh, hands back to the queue
    the jobs the stopped worker was cut off from, and starts a new worker. Each restart is
    logged; quick successive failures back off up to `RESTART_MAX_DELAY_S`.
    """
    failures = 0
    while True:
        worker = _new_worker(settings, queues, name, **kw)
        started = time.monotonic()
        try:
            await worker.run()  # type: ignore[no-untyped-call]
            reason = "the worker stopped by itself"
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = _describe(exc)
        _raise_if_cancelled()
        failures = 1 if time.monotonic() - started > HEALTHY_RUN_S else failures + 1
        pause = min(RESTART_FIRST_DELAY_S * 2 ** (failures - 1), RESTART_MAX_DELAY_S)
        log.warning("worker_stopped", reason=reason, restart_in_s=pause, failures=failures)
        await asyncio.sleep(pause)
        await _recover(settings, worker.worker_id)
        log.warning("worker_restarting", after_failures=failures)


def _describe(exc: BaseException) -> str:
    """The error and its cause (procrastinate's ConnectorException says only "Database error")."""
    cause = exc.__cause__
    text = f"{type(exc).__name__}: {str(exc).strip()}"
    if cause is not None:
        text += f" ({type(cause).__name__}: {str(cause).strip()})"
    return text[:500]


def _raise_if_cancelled() -> None:
    """Honour a cancellation that what this task awaited swallowed: procrastinate's worker, cut
    off from the database while it stops, raises the database's error instead of the
    cancellation (the app's shutdown then waited for the database for ever)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def _recover(settings: Settings, stopped_worker_id: int | None) -> None:
    """Wait for the database, re-open the queue's pool and release the stopped worker's jobs."""
    delay = RESTART_FIRST_DELAY_S
    while True:
        try:
            probe = await psycopg.AsyncConnection.connect(
                settings.libpq_url, connect_timeout=5, application_name="hackops-queue-probe"
            )
            async with probe:
                await probe.execute("SELECT 1")
            # A fresh pool: the old one may still back off between reconnection attempts.
            await queue_app.connector.close_async()
            await queue_app.connector.open_async()
            if stopped_worker_id is not None:
                await _release_jobs(stopped_worker_id)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            _raise_if_cancelled()
            log.warning("worker_waiting_for_database", reason=_describe(exc), retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, PROBE_MAX_DELAY_S)


async def _release_jobs(worker_id: int) -> None:
    """Hand back to the queue the jobs a stopped worker of this process was running.

    A run ends only after its jobs have ended, so a job still `doing` under its id lost its
    outcome with the database (jobs are idempotent: running it again is safe). Then the
    worker's row goes, so readiness counts only live workers.
    """
    manager = queue_app.job_manager
    for job in await manager.list_jobs_async(status="doing", worker_id=worker_id):
        try:
            await manager.retry_job(job)
        except Exception as exc:  # taken over meanwhile by another worker's stalled-job sweep
            log.warning("job_not_released", job_id=job.id, reason=_describe(exc))
            continue
        log.warning("job_released", job_id=job.id, task=job.task_name)
    await manager.unregister_worker(worker_id)
