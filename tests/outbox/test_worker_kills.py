"""Fan-out under fault: `hackops worker` processes SIGKILLed mid fan-out, again and again —
every event is still dispatched to every channel, and each person is told exactly once (one
notification, one queued mail, one notification of the announcement), each event gives the
organization's webhook endpoint one delivery, because a channel's rows commit with the dispatch
mark or not at all."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hackops.actor import SYSTEM
from hackops.db import Database
from hackops.models import AnnouncementStatus
from hackops.outbox.catalog import AnnouncementSent, RegistrationCreated
from hackops.outbox.service import emit
from tests.factories import (
    create_announcement,
    create_event,
    create_organization,
    create_registration,
    create_user,
    create_webhook_endpoint,
)
from tests.submissions.pipeline_helpers import scalar, stop_worker, wait_until, worker_environment

EVENTS = 240
KILLS = 3

WORKER_BOOT = "import sys; from hackops.cli import main; sys.argv = ['hackops', 'worker']; main()"


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", WORKER_BOOT],
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_workers_killed_mid_fan_out_tell_everyone_exactly_once(
    committed_db: Database, admin_engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    async with committed_db.transaction() as session:
        org = await create_organization(session)
        event = await create_event(session, org)
        await create_webhook_endpoint(session, org, url="https://hooks.example.com/in")
        for _ in range(EVENTS):
            user = await create_user(session, email_verified_at=datetime.now(UTC))
            registration = await create_registration(session, event, user=user)
            await emit(
                session,
                SYSTEM,
                RegistrationCreated(
                    registration_id=registration.id, user_id=user.id, status="registered"
                ),
                org_id=org.id,
                event_id=event.id,
            )
        # halfway through the stream, an announcement to everyone registered
        announcement = await create_announcement(
            session,
            event,
            status=AnnouncementStatus.SENT,
            channels=["in_app"],
            sent_at=datetime.now(UTC),
        )
        told = await emit(
            session,
            SYSTEM,
            AnnouncementSent(
                announcement_id=announcement.id, audience="registered", channels=["in_app"]
            ),
            org_id=org.id,
            event_id=event.id,
        )
    dispatched = "SELECT count(*) FROM outbox_events WHERE dispatched_at IS NOT NULL"
    running = (
        "SELECT count(*) FROM procrastinate_jobs"
        " WHERE task_name = 'outbox.dispatch' AND status = 'doing'"
    )
    env = worker_environment(database_url, tmp_path / "files")
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        for kill in range(KILLS):

            async def mid_fan_out(
                progress: int = (kill + 1) * EVENTS // (KILLS + 2),
                process: subprocess.Popen[bytes] = worker,
            ) -> bool:
                return (
                    await scalar(admin_engine, dispatched) >= progress
                    and await scalar(admin_engine, running) > 0
                    and process.poll() is None
                )

            await wait_until(mid_fan_out, within=60)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            worker = start_worker(env, log)

        async def all_dispatched() -> bool:
            return await scalar(admin_engine, dispatched) == EVENTS + 1

        # a job cut off mid-run is 'doing' until the restarted worker releases it, or the
        # minute sweep queues the event again
        await wait_until(all_dispatched, within=150)
        await asyncio.sleep(1)
    finally:
        stop_worker(worker)

    notifications = await scalar(
        admin_engine, "SELECT count(*) FROM notifications WHERE org_id = :org", org=org.id
    )
    people = await scalar(
        admin_engine,
        "SELECT count(DISTINCT user_id) FROM notifications WHERE org_id = :org",
        org=org.id,
    )
    mails = await scalar(
        admin_engine,
        "SELECT count(*) FROM outbound_emails e JOIN outbox_events o"
        " ON e.dedupe_key = o.id::text || ':' || (o.payload ->> 'user_id')"
        " WHERE o.org_id = :org",
        org=org.id,
    )
    announced = [
        await scalar(
            admin_engine,
            f"SELECT {what} FROM notifications WHERE dedupe_key = :key",
            key=str(told.id),
        )
        for what in ("count(*)", "count(DISTINCT user_id)")
    ]
    deliveries = await scalar(
        admin_engine, "SELECT count(*) FROM webhook_deliveries WHERE org_id = :org", org=org.id
    )
    assert (notifications, people, mails) == (2 * EVENTS, EVENTS, EVENTS)
    assert announced == [EVENTS, EVENTS]
    assert deliveries == EVENTS + 1
