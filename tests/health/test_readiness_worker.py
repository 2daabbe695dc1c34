"""Readiness tells whether jobs get done: the worker's heartbeat and the jobs waiting for it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hackops import jobs
from hackops.config import Settings
from hackops.db import Database
from hackops.main import create_app
from hackops.maintenance import prune_finished_jobs
from tests.helpers import serving

pytestmark = pytest.mark.slow


async def job_status(database: Database, job_id: int) -> str:
    async with database.engine.connect() as conn:
        return str(
            (
                await conn.execute(
                    text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"),
                    {"id": job_id},
                )
            ).scalar_one()
        )


async def test_readiness_names_the_worker_when_jobs_wait_and_none_is_alive(
    settings: Settings, committed_db: Database, admin_engine: AsyncEngine
) -> None:
    async with committed_db.transaction() as session:
        job_id = await jobs.enqueue(session, prune_finished_jobs, timestamp=0)
    async with admin_engine.begin() as conn:
        # The job has been due for a minute; the only worker beat last 45 s ago.
        await conn.execute(
            text(
                "UPDATE procrastinate_jobs SET scheduled_at = now() - interval '60 s'"
                " WHERE id = :id"
            ),
            {"id": job_id},
        )
        await conn.execute(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat)"
                " VALUES (now() - interval '45 s')"
            )
        )

    async with serving(create_app(settings, database=committed_db)) as http:
        dead = await http.get("/health/ready")
        assert dead.status_code == 503
        assert dead.json()["failed"] == ["worker"]
        assert dead.json()["checks"]["worker"] == {"ok": False, "state": "down"}
        assert dead.json()["checks"]["queue"] == {"ok": True, "state": "ok"}

        # A worker is alive but the job still waits: a backlog, reported, not a failure.
        async with admin_engine.begin() as conn:
            await conn.execute(text("INSERT INTO procrastinate_workers DEFAULT VALUES"))
        slow = await http.get("/health/ready")
        assert slow.status_code == 200
        assert slow.json()["checks"]["worker"] == {"ok": True, "state": "degraded"}

        # A real worker runs the job: everything is ok again.
        jobs.bind_database(committed_db, settings)
        async with jobs.open_queue(settings):
            worker = asyncio.create_task(jobs.run_worker(settings, name="readiness-worker"))
            try:
                for _ in range(200):
                    if await job_status(committed_db, job_id) == "succeeded":
                        break
                    await asyncio.sleep(0.1)
                ready = await http.get("/health/ready")
            finally:
                worker.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await worker
        assert ready.status_code == 200
        assert ready.json()["checks"]["worker"] == {"ok": True, "state": "ok"}


async def test_readiness_is_ready_without_a_worker_while_no_job_waits(
    settings: Settings, committed_db: Database
) -> None:
    async with committed_db.transaction() as session:
        await jobs.enqueue(session, prune_finished_jobs, timestamp=0)  # just deferred
    async with serving(create_app(settings, database=committed_db)) as http:
        response = await http.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["worker"] == {"ok": True, "state": "ok"}
