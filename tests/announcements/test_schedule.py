"""Scheduled announcements: sent by the job queued for their time or by the minute sweep, at the
database clock's moment in the event's time zone, exactly once however the two race; cancelled
ones never go out."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops import jobs
from hackops.actor import Actor
from hackops.announcements import service, tasks
from hackops.announcements.service import Draft
from hackops.config import Settings
from hackops.db import Database
from hackops.events.access import load_event_access
from hackops.models import Announcement, Audience, AuditEntry, Notification, User
from hackops.ratelimit import Limiter
from tests.announcements.helpers import body, build_crowd, dispatch, jobs_of, outbox, told
from tests.core.test_jobs import running_worker, wait_until
from tests.factories import create_announcement, create_registration
from tests.helpers import frozen_time
from tests.registrations.helpers import as_admin, scene

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
#: 18:30 on the wall clock of Asia/Kolkata (UTC+05:30) that day.
AT_LOCAL = "2026-11-23T18:30:00"
AT = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


async def test_a_scheduled_announcement_goes_out_at_its_local_time(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    crowd = await build_crowd(session)
    async with frozen_time(connection, NOW):
        created = await client.post(
            crowd.base, json=body(deliver="at", send_at=AT_LOCAL), headers=crowd.organizer
        )
    assert created.status_code == 201, created.text
    out = created.json()
    assert (out["status"], out["send_at"], out["send_at_local"]) == (
        "scheduled",
        "2026-11-23T13:00:00Z",
        "2026-11-23 18:30 IST (UTC+05:30)",
    )
    assert await jobs_of(session, "announcements.send_scheduled") == [
        ({"announcement_id": out["id"]}, AT)
    ]
    async with frozen_time(connection, AT - timedelta(seconds=1)):
        await tasks.send_scheduled(out["id"])  # early (a clock ahead): nothing
        assert await tasks.send_all_due() == 0
    assert await outbox(session, "announcement.sent") == []

    async with frozen_time(connection, AT):
        await tasks.send_scheduled(out["id"])
        assert await tasks.send_all_due() == 0  # the job sent it; the sweep finds nothing
    async with frozen_time(connection, AT + timedelta(minutes=1)):
        await tasks.send_scheduled(out["id"])  # a second delivery of the job
        assert await tasks.send_all_due() == 0
    [event] = await outbox(session, "announcement.sent")
    got = (await client.get(f"{crowd.base}/{out['id']}", headers=crowd.organizer)).json()
    assert (got["status"], got["sent_at"]) == ("sent", "2026-11-23T13:00:00Z")
    assert event.actor_id == crowd.scene.organizer.id
    await dispatch(session)
    assert len(await told(session, event.id)) == 9
    await as_admin(session)
    actions = list(
        await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.resource_id == out["id"])
            .order_by(AuditEntry.created_at, AuditEntry.id)
        )
    )
    assert actions == ["announcement.created", "announcement.sent"]


async def test_the_sweep_sends_what_no_job_sent(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    crowd = await build_crowd(session)
    async with frozen_time(connection, NOW):
        created = await client.post(
            crowd.base, json=body(deliver="at", send_at=AT_LOCAL), headers=crowd.organizer
        )
    await session.execute(text("DELETE FROM procrastinate_jobs"))  # the job was lost
    async with frozen_time(connection, AT + timedelta(minutes=3)):
        assert await tasks.send_all_due() == 1
        assert await tasks.send_all_due() == 0
    [event] = await outbox(session, "announcement.sent")
    assert event.payload["announcement_id"] == created.json()["id"]


async def test_a_cancelled_announcement_never_goes_out(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    crowd = await build_crowd(session)
    async with frozen_time(connection, NOW):
        created = await client.post(
            crowd.base, json=body(deliver="at", send_at=AT_LOCAL), headers=crowd.organizer
        )
        one = f"{crowd.base}/{created.json()['id']}"
        cancelled = await client.post(one + "/cancel", headers=crowd.organizer)
        again = await client.post(one + "/cancel", headers=crowd.organizer)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "This announcement is already cancelled."
    async with frozen_time(connection, AT + timedelta(minutes=1)):
        await tasks.send_scheduled(created.json()["id"])
        assert await tasks.send_all_due() == 0
    assert await outbox(session, "announcement.sent") == []
    sent = (await client.post(crowd.base, json=body(), headers=crowd.organizer)).json()
    late = await client.post(f"{crowd.base}/{sent['id']}/cancel", headers=crowd.organizer)
    assert late.status_code == 409
    assert late.json()["error"]["message"] == (
        "This announcement has already been sent; it can no longer be cancelled."
    )


async def test_a_draft_is_scheduled_with_an_offset(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    crowd = await build_crowd(session)
    async with frozen_time(connection, NOW):
        draft = (
            await client.post(crowd.base, json=body(deliver="draft"), headers=crowd.organizer)
        ).json()
        scheduled = await client.post(
            f"{crowd.base}/{draft['id']}/schedule",
            json={"send_at": "2026-11-23T14:00:00+01:00"},
            headers=crowd.organizer,
        )
    assert scheduled.status_code == 200, scheduled.text
    assert scheduled.json()["send_at"] == "2026-11-23T13:00:00Z"
    assert scheduled.json()["send_at_local"] == "2026-11-23 18:30 IST (UTC+05:30)"


async def test_racing_jobs_and_sweeps_send_each_announcement_once(
    committed_db: Database, settings: Settings
) -> None:
    previous = jobs.bind_database(committed_db, settings)
    try:
        async with committed_db.transaction() as session:
            s = await scene(session)
            await create_registration(session, s.event, s.organizer)
            past = datetime.now(UTC) - timedelta(minutes=1)
            ids = [
                (
                    await create_announcement(
                        session, s.event, status="scheduled", send_at=past, queued_at=past
                    )
                ).id
                for _ in range(6)
            ]
        for announcement_id in ids:
            racers: list[Any] = [
                tasks.send_scheduled(str(announcement_id)),
                tasks.send_scheduled(str(announcement_id)),
                tasks.send_all_due(),
                tasks.send_all_due(),
            ]
            await asyncio.gather(*racers)
        async with committed_db.transaction() as session:
            await as_admin(session)
            sent = await session.execute(
                text(
                    "SELECT payload ->> 'announcement_id', count(*) FROM outbox_events"
                    " WHERE type = 'announcement.sent' GROUP BY 1"
                )
            )
            assert {uuid.UUID(a): n for a, n in sent} == dict.fromkeys(ids, 1)
            audited = await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "announcement.sent")
            )
            assert audited == len(ids)
            statuses = set(
                await session.scalars(select(Announcement.status).where(Announcement.id.in_(ids)))
            )
            assert statuses == {"sent"}
    finally:
        jobs.bind_database(*previous)


async def test_a_real_worker_sends_it_at_its_time(
    committed_db: Database, settings: Settings
) -> None:
    async with committed_db.transaction() as session:
        s = await scene(session)
        await create_registration(session, s.event, s.organizer)
        organizer = await session.get_one(User, s.organizer.id)
        access = await load_event_access(session, Actor(organizer), s.org.slug, s.event.slug)
        at = datetime.now(UTC) + timedelta(seconds=2)
        draft = Draft("Lunch", "Lunch is served.", Audience.REGISTERED, None, ["in_app"])
        announcement = await service.create(
            session, access, Limiter(), draft, deliver="at", send_at=at
        )
        announcement_id = announcement.id

    async def told_in_the_app() -> bool:
        async with committed_db.transaction() as session:
            await as_admin(session)
            found = await session.scalar(
                select(Notification.title).where(Notification.user_id == s.organizer.id)
            )
            return found == "Lunch"

    async with running_worker(settings, committed_db):
        await wait_until(told_in_the_app, within=60)
    async with committed_db.transaction() as session:
        await as_admin(session)
        sent = await session.get_one(Announcement, announcement_id)
        assert sent.status == "sent"
        assert sent.sent_at is not None
        assert sent.sent_at >= at
        assert sent.recipient_count == 1
