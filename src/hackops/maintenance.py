"""Periodic upkeep jobs."""

from __future__ import annotations

import structlog

from hackops.idempotency.store import prune_expired
from hackops.jobs import DEFAULT_RETRY, job_transaction, queue_app

log = structlog.get_logger("hackops.maintenance")

SUCCEEDED_JOBS_KEPT_HOURS = 24 * 7
FAILED_JOBS_KEPT_HOURS = 24 * 30


@queue_app.periodic(cron="17 * * * *")
@queue_app.task(name="maintenance.prune_finished_jobs", queue="default", retry=DEFAULT_RETRY)
async def prune_finished_jobs(timestamp: int) -> None:
    """Delete finished jobs past their keeping time: the queue table stays small, fetch stays fast.

    Succeeded jobs are kept a week, failed/cancelled/aborted ones a month (they are evidence).
    Idempotent: a second run deletes nothing more.
    """
    manager = queue_app.job_manager
    await manager.delete_old_jobs(nb_hours=SUCCEEDED_JOBS_KEPT_HOURS)
    await manager.delete_old_jobs(
        nb_hours=FAILED_JOBS_KEPT_HOURS,
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )
    log.info("pruned_finished_jobs", scheduled_for=timestamp)


@queue_app.periodic(cron="23 * * * *")
@queue_app.task(name="maintenance.prune_idempotency_keys", queue="default", retry=DEFAULT_RETRY)
async def prune_idempotency_keys(timestamp: int) -> None:
    """Delete idempotency keys past their 24 h window (until then they are treated as absent).

    Idempotent: a second run deletes nothing more.
    """
    async with job_transaction() as session:
        removed = await prune_expired(session)
    log.info("pruned_idempotency_keys", removed=removed, scheduled_for=timestamp)


#: A worker that has not written its heartbeat for this long is gone (killed, its machine lost):
#: the jobs it was running go back to the queue. Procrastinate's heartbeat is every 10 s.
STALLED_AFTER_SECONDS = 30


@queue_app.periodic(cron="* * * * *")
@queue_app.task(name="maintenance.retry_stalled_jobs", queue="default", retry=DEFAULT_RETRY)
async def retry_stalled_jobs(timestamp: int) -> None:
    """Put back in the queue the jobs of workers that died while running them (a SIGKILL, a lost
    machine: `supervise_worker` releases the jobs of a worker that stopped in its own process,
    this catches the rest). Jobs are idempotent, so running one again is safe. Idempotent: a job
    already put back (or taken over) is skipped."""
    manager = queue_app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS)
    for job in stalled:
        try:
            await manager.retry_job(job)
        except Exception as exc:  # a waiting twin holds its queueing lock, or it moved on
            log.warning("stalled_job_not_retried", job_id=job.id, reason=type(exc).__name__)
        else:
            log.warning("stalled_job_retried", job_id=job.id, task=job.task_name)
