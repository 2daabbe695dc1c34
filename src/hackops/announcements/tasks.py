"""The jobs of announcements and reminders (queue `notifications`).

- `send_scheduled(announcement_id)`: queued for the announcement's time (procrastinate
  `schedule_at`) when it is scheduled; sends it if it is still scheduled and due.
- `sweep_due` (every minute): the safety net — sends every scheduled announcement whose time
  has passed (a job lost with its worker, a clock running behind). Whichever of the two comes
  first sends it; the other finds it sent (`sending.send_due`, a guarded UPDATE).
- `remind` (every minute): fires the event reminders that fell due (`reminders`), one claim per
  reminder, each event in its own transaction.
Every job acts as the platform (it reads across organizations) and sets each event's tenant
before it writes.
"""

from __future__ import annotations

import uuid

import structlog
from procrastinate import RetryStrategy
from sqlalchemy import select

from hackops.announcements import reminders, sending
from hackops.db import db_now
from hackops.jobs import job_transaction, queue_app
from hackops.models import Announcement, AnnouncementStatus
from hackops.tenancy import set_actor

log = structlog.get_logger("hackops.announcements")

RETRY = RetryStrategy(max_attempts=8, exponential_wait=2)
SWEEP_BATCH = 200


@queue_app.task(name="announcements.send_scheduled", queue="notifications", retry=RETRY)
async def send_scheduled(announcement_id: str) -> None:
    """Send one scheduled announcement at its time (nothing when already sent or cancelled)."""
    async with job_transaction() as session:
        await set_actor(session, None, platform_admin=True)
        await sending.send_due(session, uuid.UUID(announcement_id))


async def due_announcements() -> list[uuid.UUID]:
    async with job_transaction() as session:
        await set_actor(session, None, platform_admin=True)
        now = await db_now(session)
        return list(
            await session.scalars(
                select(Announcement.id)
                .where(
                    Announcement.status == AnnouncementStatus.SCHEDULED,
                    Announcement.send_at <= now,
                )
                .order_by(Announcement.send_at, Announcement.id)
                .limit(SWEEP_BATCH)
            )
        )


async def send_all_due() -> int:
    """Send every scheduled announcement that is due, each in its own transaction."""
    sent = 0
    for announcement_id in await due_announcements():
        async with job_transaction() as session:
            await set_actor(session, None, platform_admin=True)
            sent += await sending.send_due(session, announcement_id)
    return sent


@queue_app.periodic(cron="* * * * *")
@queue_app.task(name="announcements.sweep_due", queue="notifications", retry=RETRY)
async def sweep_due(timestamp: int) -> None:
    """Send the scheduled announcements whose time has passed (idempotent)."""
    sent = await send_all_due()
    if sent:
        log.warning("announcements_swept", count=sent, scheduled_for=timestamp)


async def remind_all_due() -> int:
    """Fire the event reminders due now; how many fired."""
    async with job_transaction() as session:
        await set_actor(session, None, platform_admin=True)
        events = await reminders.candidates(session)
    fired = 0
    for event_id in events:
        async with job_transaction() as session:
            await set_actor(session, None, platform_admin=True)
            fired += len(await reminders.fire_due(session, event_id))
    return fired


@queue_app.periodic(cron="* * * * *")
@queue_app.task(name="announcements.remind", queue="notifications", retry=RETRY)
async def remind(timestamp: int) -> None:
    """Fire the event reminders that fell due (once each, however many workers run this)."""
    await remind_all_due()
