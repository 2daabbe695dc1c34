"""The processing pipeline of a submitted version: validate files → extract text → fetch links →
similarity, one procrastinate job per step on queue `processing`.

Lifecycle of a step (`pipeline_steps` row, what the team and organizers watch):

    queued ──claim──▶ running ──record──▶ done ──▶ next step enqueued (same transaction)
                         │
                         ├─ transient error, attempts left ─▶ retrying (reason, retry_at) ─▶ claim
                         ├─ transient error, last attempt ──▶ failed (reason) + team and
                         │                                     organizers emailed
                         └─ permanent error (bad hash) ─────▶ failed at once, same emails

- `start_pipeline` creates the four rows and enqueues the first job in the caller's
  transaction; `submit` has the same written by its one statement (`intake.service.prepare_steps`
  gives the ids and the job), so a rolled-back submit leaves neither rows nor jobs.
- A run is three short transactions: the *claim* (running, attempts + 1, started_at; committed
  so the pages show it), the *work* outside any transaction (storage reads, link fetches), then
  the *record*: the effect upserted, the row locked and checked to still be this run's (state
  running, same attempts), marked done, the next step enqueued. A job redelivered after its
  record committed finds the step done and does nothing; a run superseded by a rerun or a
  stalled-job takeover records nothing. So each effect and each next job happen once.
- A step starts only when the steps before it are done: a stale job (e.g. left from before a
  rerun) waits for the chain to enqueue it again instead of running on old inputs.
- Retries: `STEP_RETRY`, 4 attempts 2, 4 and 8 s apart; `retry_at` on the row is computed from
  the same strategy the worker uses. `PermanentStepFailure` is never retried.
- Crash safety: a worker killed mid-step leaves its job in `doing`. The periodic
  `pipeline.retry_stalled_jobs` (every 10 s, on `processing`) hands back to the queue every job
  whose worker has sent no heartbeat for `STALLED_AFTER_SECONDS` (procrastinate workers beat
  every 10 s); the step is claimed again and completes, its effect recorded once.
- Domain events: the record that marks the last step done writes `submission.processed`, the one
  that marks a step failed writes `submission.processing_failed`, each at most once per version
  (`outbox.emit_once`, keyed by the version: a redelivered job records nothing, and an
  organizer's re-run that finishes or fails again adds no second event).
- `rerun_step` (organizers) resets a step and those after it to queued and enqueues it; audited.
  `attempts` is never reset: it is the run token above, so it counts every run of the step.
- A step interrupted by a cancelled worker (a shutdown that does not wait) stays `running` until
  an organizer re-runs it; a killed worker is covered by the sweep.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import structlog
from procrastinate import JobContext, RetryStrategy
from procrastinate.jobs import Job
from procrastinate.retry import RetryDecision
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.audit.service import record as audit
from hackops.config import Settings
from hackops.db import db_now
from hackops.errors import Conflict
from hackops.jobs import enqueue, job_settings, job_transaction, queue_app
from hackops.models import (
    PIPELINE_ORDER,
    PipelineStep,
    PipelineStepName,
    StepState,
    Submission,
    SubmissionVersion,
)
from hackops.outbox import catalog
from hackops.outbox.service import emit_once
from hackops.storage import make_store
from hackops.submissions.pipeline.duplicates import explain_candidate_lookup, similarity_step
from hackops.submissions.pipeline.notify import notify_failure
from hackops.submissions.pipeline.runs import (
    PermanentStepFailure,
    StepEnv,
    StepFailed,
    StepInput,
    StepWork,
)
from hackops.submissions.pipeline.steps import extract_text, fetch_links, validate_files
from hackops.tenancy import set_tenant

__all__ = [
    "QUEUE",
    "STEP_RETRY",
    "STEP_TASKS",
    "NothingToRerun",
    "PermanentStepFailure",
    "StepFailed",
    "explain_candidate_lookup",
    "in_pipeline_order",
    "load_step_input",
    "pipeline_status",
    "rerun_step",
    "retry_stalled_jobs",
    "start_pipeline",
]

log = structlog.get_logger("hackops.pipeline")

QUEUE = "processing"
#: Procrastinate workers update their heartbeat every 10 s (its default, kept by jobs.run_worker).
STALLED_AFTER_SECONDS = 30
STALLED_TASK = "pipeline.retry_stalled_jobs"


class StepRetry(RetryStrategy):
    """Exponential backoff for transient failures; a `PermanentStepFailure` is never retried."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, PermanentStepFailure):
            return None
        decision: RetryDecision | None = super().get_retry_decision(exception=exception, job=job)
        return decision


#: Four attempts: the first, then 2, 4 and 8 s after each failure.
STEP_RETRY = StepRetry(max_attempts=3, exponential_wait=2)

STEP_WORK: dict[str, StepWork] = {
    PipelineStepName.VALIDATE_FILES: validate_files,
    PipelineStepName.EXTRACT_TEXT: extract_text,
    PipelineStepName.FETCH_LINKS: fetch_links,
    PipelineStepName.SIMILARITY: similarity_step,
}


class NothingToRerun(Conflict):
    code = "nothing_to_rerun"
    message = "This submission has no processed version to run again."


class _Superseded(Exception):
    """The step row no longer shows this run: roll back and record nothing."""


# --- the jobs --------------------------------------------------------------------------------


@queue_app.task(name="pipeline.validate_files", queue=QUEUE, retry=STEP_RETRY, pass_context=True)
async def validate_files_job(context: JobContext, step_id: str, org_id: str) -> None:
    await run_step(context, step_id, org_id)


@queue_app.task(name="pipeline.extract_text", queue=QUEUE, retry=STEP_RETRY, pass_context=True)
async def extract_text_job(context: JobContext, step_id: str, org_id: str) -> None:
    await run_step(context, step_id, org_id)


@queue_app.task(name="pipeline.fetch_links", queue=QUEUE, retry=STEP_RETRY, pass_context=True)
async def fetch_links_job(context: JobContext, step_id: str, org_id: str) -> None:
    await run_step(context, step_id, org_id)


@queue_app.task(name="pipeline.similarity", queue=QUEUE, retry=STEP_RETRY, pass_context=True)
async def similarity_job(context: JobContext, step_id: str, org_id: str) -> None:
    await run_step(context, step_id, org_id)


STEP_TASKS: dict[str, Any] = {
    PipelineStepName.VALIDATE_FILES: validate_files_job,
    PipelineStepName.EXTRACT_TEXT: extract_text_job,
    PipelineStepName.FETCH_LINKS: fetch_links_job,
    PipelineStepName.SIMILARITY: similarity_job,
}


async def _enqueue_step(session: AsyncSession, step: PipelineStep) -> None:
    await enqueue(
        session,
        STEP_TASKS[step.step],
        queue=QUEUE,
        step_id=str(step.id),
        org_id=str(step.org_id),
    )


@queue_app.periodic(cron="* * * * * */10", periodic_id="pipeline-stalled-jobs")
@queue_app.task(name=STALLED_TASK, queue=QUEUE, queueing_lock=STALLED_TASK, pass_context=True)
async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
    """Hand back to the queue the jobs of workers that died (no heartbeat), on every queue.

    Every job here is idempotent, so a job that was cut off re-runs safely. This task's own
    finished runs are deleted as it goes: at one run every 10 s they would otherwise be most of
    the job table.
    """
    manager = queue_app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS)
    for job in stalled:
        if job.id == context.job.id:
            continue
        try:
            await manager.retry_job(job)
        except Exception as exc:  # already retried by another worker's run of this task
            log.warning("stalled_job_not_retried", job_id=job.id, error=str(exc))
            continue
        log.warning("stalled_job_retried", job_id=job.id, task=job.task_name)
    await queue_app.connector.execute_query_async(
        "DELETE FROM procrastinate_jobs WHERE task_name = %(task)s"
        " AND status = 'succeeded' AND id < %(id)s",
        task=STALLED_TASK,
        id=context.job.id,
    )


# --- starting, status -------------------------------------------------------------------------


async def start_pipeline(session: AsyncSession, version: SubmissionVersion) -> None:
    """Create the version's four steps (queued) and enqueue the first, in the caller's
    transaction."""
    steps = [
        PipelineStep(
            org_id=version.org_id,
            event_id=version.event_id,
            submission_id=version.submission_id,
            version_id=version.id,
            step=name.value,
            state=StepState.QUEUED,
        )
        for name in PIPELINE_ORDER
    ]
    session.add_all(steps)
    await session.flush()
    await _enqueue_step(session, steps[0])


def in_pipeline_order(steps: list[PipelineStep]) -> list[PipelineStep]:
    position = {name.value: index for index, name in enumerate(PIPELINE_ORDER)}
    return sorted(steps, key=lambda step: position[step.step])


async def pipeline_status(session: AsyncSession, submission_id: uuid.UUID) -> list[PipelineStep]:
    """The steps of the submission's latest version, in pipeline order (empty before a submit)."""
    steps = await session.scalars(
        select(PipelineStep)
        .join(Submission, Submission.latest_version_id == PipelineStep.version_id)
        .where(Submission.id == submission_id, PipelineStep.submission_id == submission_id)
    )
    return in_pipeline_order(list(steps))


async def rerun_step(
    session: AsyncSession, actor: Actor, submission: Submission, step_name: PipelineStepName
) -> PipelineStep:
    """Run `step_name` (and the steps after it) of the latest version again; returns that step.

    The steps are reset to queued and the first of them is enqueued. A step runs on its
    predecessors' results, so when an earlier step is not done the reset starts there. Effects
    are upserts, so re-running changes nothing that is already right; decided flags keep their
    decision.
    """
    if submission.latest_version_id is None:
        raise NothingToRerun
    await set_tenant(session, submission.org_id)
    steps = in_pipeline_order(
        list(
            await session.scalars(
                select(PipelineStep)
                .where(PipelineStep.version_id == submission.latest_version_id)
                .with_for_update()
            )
        )
    )
    if len(steps) != len(PIPELINE_ORDER):
        raise NothingToRerun
    wanted = PIPELINE_ORDER.index(PipelineStepName(step_name))
    first = next((index for index in range(wanted) if steps[index].state != StepState.DONE), wanted)
    now = await db_now(session)
    for step in steps[first:]:
        step.state = StepState.QUEUED
        step.reason = ""
        step.retry_at = None
        step.started_at = None
        step.finished_at = None
        step.result = {}
        step.updated_at = now
    await session.flush()
    await _enqueue_step(session, steps[first])
    await audit(
        session,
        actor,
        "submission.pipeline_rerun",
        resource_type="submission",
        resource_id=submission.id,
        org_id=submission.org_id,
        details={
            "version_id": str(submission.latest_version_id),
            "step": steps[wanted].step,
            "from_step": steps[first].step,
        },
    )
    return steps[wanted]


# --- running a step ---------------------------------------------------------------------------

_stores: dict[str, Any] = {}


def job_store(settings: Settings) -> Any:
    """The object store of this worker process (one per storage configuration)."""
    key = settings.storage_url or str(settings.data_dir)
    store = _stores.get(key)
    if store is None:
        store = _stores[key] = make_store(settings)
    return store


async def run_step(context: JobContext, step_id: str, org_id: str) -> None:
    """Claim, work, record (see the module notes). Failures are recorded, then re-raised so
    procrastinate schedules the retry (or marks the job failed)."""
    claimed = await _claim(uuid.UUID(step_id), uuid.UUID(org_id))
    if claimed is None:
        return
    settings = job_settings()
    env = StepEnv(settings=settings, store=job_store(settings))
    try:
        record = await STEP_WORK[claimed.step](env, claimed)
        async with job_transaction() as session:
            await set_tenant(session, claimed.org_id)
            result = await record(session)
            step = await _own_step(session, claimed)
            if step is None:
                raise _Superseded
            now = await db_now(session)
            step.state = StepState.DONE
            step.reason = ""
            step.retry_at = None
            step.finished_at = now
            step.updated_at = now
            step.result = result
            await _enqueue_next(session, step)
            if step.step == PIPELINE_ORDER[-1]:
                await _tell_processed(session, claimed)
    except _Superseded:
        log.info("pipeline_step_superseded", step_id=step_id, step=claimed.step)
        return
    except Exception as exc:
        await _record_failure(context.job, claimed, exc)
        raise
    log.info("pipeline_step_done", step_id=step_id, step=claimed.step, version=claimed.version_id)


async def _claim(step_id: uuid.UUID, org_id: uuid.UUID) -> StepInput | None:
    """Mark the step running (attempts + 1) and read what it works on; None when there is
    nothing to do: already done or failed, gone, or an earlier step not done yet."""
    async with job_transaction() as session:
        await set_tenant(session, org_id)
        step = await session.scalar(
            select(PipelineStep).where(PipelineStep.id == step_id).with_for_update()
        )
        if step is None or step.state in (StepState.DONE, StepState.FAILED):
            return None
        position = PIPELINE_ORDER.index(PipelineStepName(step.step))
        earlier = [name.value for name in PIPELINE_ORDER[:position]]
        if earlier:
            pending = await session.scalar(
                select(PipelineStep.id).where(
                    PipelineStep.version_id == step.version_id,
                    PipelineStep.step.in_(earlier),
                    PipelineStep.state != StepState.DONE,
                )
            )
            if pending is not None:
                log.info("pipeline_step_waits", step_id=str(step_id), step=step.step)
                return None
        loaded = await load_step_input(session, step)
        if loaded is None:
            return None
        now = await db_now(session)
        step.state = StepState.RUNNING
        step.attempts += 1
        step.started_at = now
        step.finished_at = None
        step.retry_at = None
        step.updated_at = now
        return replace(loaded, token=step.attempts)


async def load_step_input(session: AsyncSession, step: PipelineStep) -> StepInput | None:
    """What `step` works on (its version, files, team), with the step's attempts as the token."""
    version = await session.get(SubmissionVersion, step.version_id)
    team_id = await session.scalar(
        select(Submission.team_id).where(Submission.id == step.submission_id)
    )
    if version is None or team_id is None:
        return None
    return StepInput(
        step_id=step.id,
        step=step.step,
        token=step.attempts,
        org_id=step.org_id,
        event_id=step.event_id,
        submission_id=step.submission_id,
        team_id=team_id,
        version_id=version.id,
        version_number=version.number,
        snapshot=dict(version.snapshot),
        files=[dict(entry) for entry in version.files],
    )


async def _own_step(session: AsyncSession, claimed: StepInput) -> PipelineStep | None:
    """The step row, locked, if it still shows this run."""
    step = await session.scalar(
        select(PipelineStep).where(PipelineStep.id == claimed.step_id).with_for_update()
    )
    if step is None or step.state != StepState.RUNNING or step.attempts != claimed.token:
        return None
    return step


async def _enqueue_next(session: AsyncSession, step: PipelineStep) -> None:
    position = PIPELINE_ORDER.index(PipelineStepName(step.step))
    if position + 1 == len(PIPELINE_ORDER):
        return
    following = await session.scalar(
        select(PipelineStep).where(
            PipelineStep.version_id == step.version_id,
            PipelineStep.step == PIPELINE_ORDER[position + 1].value,
        )
    )
    if following is not None:
        await _enqueue_step(session, following)


async def _tell_processed(session: AsyncSession, claimed: StepInput) -> None:
    """`submission.processed`, once per version (a re-run that finishes again adds none)."""
    await emit_once(
        session,
        None,
        catalog.SubmissionProcessed(
            submission_id=claimed.submission_id,
            team_id=claimed.team_id,
            version_id=claimed.version_id,
            version_number=claimed.version_number,
        ),
        key=str(claimed.version_id),
        org_id=claimed.org_id,
        event_id=claimed.event_id,
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, StepFailed):
        return exc.reason
    return f"An internal error stopped this step ({type(exc).__name__})."


async def _record_failure(job: Job, claimed: StepInput, exc: BaseException) -> None:
    """Show the failure on the step row: retrying (with when) or failed (and tell people)."""
    decision = STEP_RETRY.get_retry_decision(exception=exc, job=job)
    reason = _reason(exc)
    if not isinstance(exc, StepFailed):
        log.error(
            "pipeline_step_error", step=claimed.step, step_id=str(claimed.step_id), exc_info=exc
        )
    try:
        async with job_transaction() as session:
            await set_tenant(session, claimed.org_id)
            step = await _own_step(session, claimed)
            if step is None:
                return
            now = await db_now(session)
            step.reason = reason
            step.updated_at = now
            if decision is not None:
                step.state = StepState.RETRYING
                step.retry_at = decision.retry_at
                log.warning(
                    "pipeline_step_retrying",
                    step=claimed.step,
                    reason=reason,
                    retry_at=str(decision.retry_at),
                )
                return
            step.state = StepState.FAILED
            step.retry_at = None
            step.finished_at = now
            await notify_failure(session, claimed, reason)
            await emit_once(
                session,
                None,
                catalog.SubmissionProcessingFailed(
                    submission_id=claimed.submission_id,
                    team_id=claimed.team_id,
                    version_id=claimed.version_id,
                    version_number=claimed.version_number,
                    step=PipelineStepName(claimed.step).value,
                ),
                key=str(claimed.version_id),
                org_id=claimed.org_id,
                event_id=claimed.event_id,
            )
            log.warning("pipeline_step_failed", step=claimed.step, reason=reason)
    except Exception:
        # The job's own exception matters more; the next attempt or the stalled-job sweep
        # will get another chance to record the state.
        log.exception("pipeline_failure_not_recorded", step_id=str(claimed.step_id))
