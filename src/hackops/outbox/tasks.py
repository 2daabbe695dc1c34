"""The dispatcher: fans each domain event out to every channel, exactly once in effect.

`dispatch(event_id)` runs in one transaction: it locks the event's row, and when the row is not
dispatched yet, runs every connected channel (`outbox.channels`) and sets `dispatched_at`. The
channels' rows (notifications, queued mail, webhook deliveries) commit together with the mark, or
not at all: a worker killed mid fan-out leaves nothing behind, and the job runs again (its retry,
or the sweep). A second run finds the mark and changes nothing; the channels' unique keys hold
the same even when the mark could not be seen (two runs racing on the row wait on its lock).

`sweep_undispatched` (every minute) re-queues the dispatch of events a minute old that are still
not dispatched and have no waiting job: a job given up after its retries, or one whose worker
died while it ran.
"""

from __future__ import annotations

import uuid

import structlog
from procrastinate import RetryStrategy
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.db import db_now
from hackops.jobs import enqueue, job_transaction, queue_app
from hackops.models import OutboxEvent
from hackops.outbox.catalog import parse
from hackops.outbox.channels import channels, dispatch_lock
from hackops.tenancy import set_actor, set_tenant

log = structlog.get_logger("hackops.outbox")

#: 2, 4, 8 … s between attempts, about an hour in all; the sweep takes over after that.
DISPATCH_RETRY = RetryStrategy(max_attempts=12, exponential_wait=2)
#: An event this old and not dispatched, with no waiting job, is queued again by the sweep.
SWEEP_AFTER_SECONDS = 60
SWEEP_BATCH = 500


@queue_app.task(name="outbox.dispatch", queue="notifications", retry=DISPATCH_RETRY)
async def dispatch(event_id: str) -> None:
    """Fan one domain event out to every channel (idempotent: see the module docstring)."""
    async with job_transaction() as session:
        done = await fan_out(session, uuid.UUID(event_id))
    if done is not None:
        log.info("outbox_dispatched", event_id=event_id, type=done)


async def fan_out(session: AsyncSession, event_id: uuid.UUID) -> str | None:
    """The dispatcher's work in the caller's transaction; the event's type when it ran now,
    None when the event was already dispatched (or is gone)."""
    # The dispatcher is the platform acting: it reads and writes across the people an event
    # concerns (their notifications and mail), within the event's organization.
    await set_actor(session, None, platform_admin=True)
    row = await session.scalar(
        select(OutboxEvent).where(OutboxEvent.id == event_id).with_for_update()
    )
    if row is None or row.dispatched_at is not None:
        return None
    await set_tenant(session, row.org_id)
    payload = parse(row.type, row.payload)
    for name, channel in channels():
        await channel(session, row, payload)
        log.debug("outbox_channel_done", channel=name, event_id=str(event_id), type=row.type)
    row.dispatched_at = await db_now(session)
    return row.type


_STRANDED = text(
    """
    SELECT e.id FROM outbox_events e
    WHERE e.dispatched_at IS NULL
      AND e.occurred_at < app_now() - make_interval(secs => :after)
      AND NOT EXISTS (
        SELECT 1 FROM procrastinate_jobs j
        WHERE j.queueing_lock = 'outbox:' || e.id::text AND j.status = 'todo'
      )
    ORDER BY e.seq
    LIMIT :batch
    """
)


@queue_app.periodic(cron="* * * * *")
@queue_app.task(name="outbox.sweep_undispatched", queue="notifications", retry=DISPATCH_RETRY)
async def sweep_undispatched(timestamp: int) -> None:
    """Queue the dispatch of events left behind (idempotent: a waiting job is not doubled)."""
    async with job_transaction() as session:
        await set_actor(session, None, platform_admin=True)
        ids = list(
            await session.scalars(_STRANDED, {"after": SWEEP_AFTER_SECONDS, "batch": SWEEP_BATCH})
        )
        for event_id in ids:
            await enqueue(
                session,
                dispatch,
                queue="notifications",
                queueing_lock=dispatch_lock(event_id),
                event_id=str(event_id),
            )
    if ids:
        log.warning("outbox_sweep_requeued", count=len(ids), scheduled_for=timestamp)
