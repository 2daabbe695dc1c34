"""The queue with a real worker on the real database: transactional enqueue, once-only, retries."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import pytest
from procrastinate import RetryStrategy
from sqlalchemy import text

from hackops import jobs
from hackops.config import Settings
from hackops.db import Database
from hackops.maintenance import prune_finished_jobs
from tests.factories import create_organization

pytestmark = pytest.mark.slow

runs: Counter[str] = Counter()


@jobs.queue_app.task(name="tests.record", queue="default")
async def record(key: str) -> None:
    runs[key] += 1


@jobs.queue_app.task(
    name="tests.flaky", queue="processing", retry=RetryStrategy(max_attempts=4, exponential_wait=2)
)
async def flaky(key: str) -> None:
    runs[key] += 1
    if runs[key] <= 2:
        raise RuntimeError(f"attempt {runs[key]} fails on purpose")


@jobs.queue_app.task(name="tests.uses_job_edge", queue="notifications")
async def uses_job_edge(slug: str) -> None:
    async with jobs.job_transaction() as session:
        await create_organization(session, slug=slug)


@asynccontextmanager
async def running_worker(settings: Settings, database: Database) -> AsyncIterator[None]:
    previous = jobs.bind_database(database, settings)
    async with jobs.open_queue(settings):
        worker = asyncio.create_task(jobs.run_worker(settings, name="test-worker"))
        try:
            yield
        finally:
            worker.cancel()
            with pytest.raises(asyncio.CancelledError):
                await worker
    jobs.bind_database(*previous)  # the binding from before, not none: others may rely on it


async def wait_until(predicate: Callable[[], Awaitable[bool]], within: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def job_status(database: Database, job_id: int) -> str | None:
    async with database.engine.connect() as conn:
        return (
            await conn.execute(
                text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
            )
        ).scalar_one_or_none()


async def test_rolled_back_job_never_runs_and_committed_job_runs_once(
    settings: Settings, committed_db: Database
) -> None:
    async with committed_db.sessionmaker() as session:
        await jobs.enqueue(session, record, key="rolled-back")
        await session.rollback()
    async with committed_db.transaction() as session:
        committed_id = await jobs.enqueue(session, record, key="committed")

    async with running_worker(settings, committed_db):

        async def done() -> bool:
            return await job_status(committed_db, committed_id) == "succeeded"

        await wait_until(done)
        await asyncio.sleep(0.5)  # time enough for a duplicate run to show up

    assert runs["committed"] == 1
    assert runs["rolled-back"] == 0
    async with committed_db.engine.connect() as conn:
        # Only the committed job reached the table (the periodic upkeep job may be there too).
        kwargs = (
            await conn.execute(
                text("SELECT args FROM procrastinate_jobs WHERE task_name = 'tests.record'")
            )
        ).scalars()
        assert list(kwargs) == [{"key": "committed"}]


async def test_failing_job_is_retried_with_growing_delays(
    settings: Settings, committed_db: Database
) -> None:
    async with committed_db.transaction() as session:
        job_id = await jobs.enqueue(session, flaky, key="flaky")

    async with running_worker(settings, committed_db):

        async def done() -> bool:
            return await job_status(committed_db, job_id) == "succeeded"

        await wait_until(done, within=40)

    assert runs["flaky"] == 3
    async with committed_db.engine.connect() as conn:
        started: list[datetime] = list(
            (
                await conn.execute(
                    text(
                        "SELECT at FROM procrastinate_events"
                        " WHERE job_id = :id AND type = 'started' ORDER BY at"
                    ),
                    {"id": job_id},
                )
            ).scalars()
        )
    assert len(started) == 3
    first_gap = (started[1] - started[0]).total_seconds()
    second_gap = (started[2] - started[1]).total_seconds()
    # RetryStrategy(exponential_wait=2): 2 s after the first failure, 4 s after the second.
    assert first_gap >= 2
    assert second_gap >= 4
    assert second_gap > first_gap


async def test_jobs_open_their_own_transaction(settings: Settings, committed_db: Database) -> None:
    async with committed_db.transaction() as session:
        job_id = await jobs.enqueue(
            session, uses_job_edge, queue="notifications", slug="from-a-job"
        )

    async with running_worker(settings, committed_db):

        async def done() -> bool:
            return await job_status(committed_db, job_id) == "succeeded"

        await wait_until(done)

    async with committed_db.engine.connect() as conn:
        count = (
            await conn.execute(text("SELECT count(*) FROM organizations WHERE slug = 'from-a-job'"))
        ).scalar_one()
    assert count == 1


async def test_prune_job_removes_old_finished_jobs_only(
    settings: Settings, committed_db: Database
) -> None:
    async with committed_db.transaction() as session:
        old_id = await jobs.enqueue(session, record, key="old")
        fresh_id = await jobs.enqueue(session, record, key="fresh")
        waiting_id = await jobs.enqueue(session, record, key="waiting", schedule_in={"hours": 1})
    async with committed_db.engine.begin() as conn:
        await conn.execute(
            text("UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id IN (:old, :fresh)"),
            {"old": old_id, "fresh": fresh_id},
        )
        # The old job's whole history happened eight days ago.
        await conn.execute(
            text("UPDATE procrastinate_events SET at = at - interval '8 days' WHERE job_id = :old"),
            {"old": old_id},
        )
    async with jobs.open_queue(settings):
        await prune_finished_jobs(timestamp=0)
    remaining = {
        job_id
        for job_id in (old_id, fresh_id, waiting_id)
        if await job_status(committed_db, job_id) is not None
    }
    assert remaining == {fresh_id, waiting_id}


async def test_unknown_queue_is_refused(committed_db: Database) -> None:
    async with committed_db.sessionmaker() as session:
        with pytest.raises(ValueError, match="unknown queue"):
            await jobs.enqueue(session, record, queue="nope", key="x")
        await session.rollback()


@jobs.queue_app.task(name="tests.locked", queue="default", lock="one-at-a-time", priority=3)
async def locked(key: str) -> None:
    runs[key] += 1


@pytest.mark.parametrize("task", [record, locked], ids=["plain", "with task defaults"])
def test_job_row_is_what_procrastinate_makes_of_the_task(task: object) -> None:
    """`job_row` builds from a template per task and queue; every job it builds is the one
    procrastinate's own configure/make_new_job would defer, whatever the arguments."""
    for n, lock in enumerate([None, "dispatch:x", None]):
        row = jobs.job_row(task, queue="default", queueing_lock=lock, key=f"k{n}")
        job = task.configure(queue="default", queueing_lock=lock).make_new_job(key=f"k{n}")  # type: ignore[attr-defined]
        assert row == {
            "queue_name": job.queue,
            "task_name": job.task_name,
            "priority": job.priority,
            "lock": job.lock,
            "queueing_lock": job.queueing_lock,
            "args": job.task_kwargs,
            "scheduled_at": None,
        }
    assert jobs.job_row(locked, queue="default", key="x")["lock"] == "one-at-a-time"
