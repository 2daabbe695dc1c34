"""Periodic jobs of the notification centre: the daily digest and the 90-day retention.

- `send_daily_digests` (every day at 07:00 UTC): people with news held for their digest get one
  mail of the day (`digest.send`: keyed per person and day, items deleted with it), in
  transactions of `digest.BATCH` people. The day is the job's scheduled time, so a retried or
  doubled run of the same day sends nothing twice.
- `prune_old_notifications` (every day at 03:41 UTC): notifications (and digest items never
  mailed) older than `RETENTION_DAYS` are deleted, `PRUNE_BATCH` rows per transaction, by
  `ix_notifications_created_at`. Idempotent: a second run finds nothing more.
Both read across people as the platform (row-level security keeps others' rows from a person).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, text

from hackops.jobs import DEFAULT_RETRY, job_settings, job_transaction, queue_app
from hackops.notifications import digest
from hackops.tenancy import set_actor

log = structlog.get_logger("hackops.notifications")

RETENTION_DAYS = 90
PRUNE_BATCH = 5000


@queue_app.periodic(cron="0 7 * * *")
@queue_app.task(name="notifications.send_daily_digests", queue="notifications", retry=DEFAULT_RETRY)
async def send_daily_digests(timestamp: int) -> None:
    """One digest mail per person and day (see the module's docstring)."""
    scheduled = datetime.fromtimestamp(timestamp, UTC)
    mailed, items = await run_digests(day_of=scheduled)
    log.info("digests_sent", people=mailed, items=items, scheduled_for=timestamp)


async def run_digests(*, day_of: datetime) -> tuple[int, int]:
    """Send the digests of `day_of`'s day, for news held before `day_of`: (people, items)."""
    settings = job_settings()
    after: uuid.UUID | None = None
    mailed = items = 0
    while True:
        async with job_transaction() as session:
            await set_actor(session, None, platform_admin=True)
            people = await digest.people_waiting(session, before=day_of, after=after)
            if not people:
                break
            sent = await digest.send(session, settings, people, day=day_of.date(), before=day_of)
        mailed += len(sent.mailed)
        items += sent.items
        after = people[-1]
    return mailed, items


_PRUNE = {
    table: text(
        f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table}"  # noqa: S608 - fixed names
        " WHERE created_at < app_now() - make_interval(days => :days) LIMIT :batch)"
    )
    for table in ("notifications", "notification_digest_items")
}


@queue_app.periodic(cron="41 3 * * *")
@queue_app.task(name="notifications.prune_old_notifications", queue="default", retry=DEFAULT_RETRY)
async def prune_old_notifications(timestamp: int) -> None:
    """Delete notifications older than RETENTION_DAYS (see the module's docstring)."""
    removed = await prune(days=RETENTION_DAYS)
    log.info("pruned_notifications", removed=removed, scheduled_for=timestamp)


async def prune(*, days: int = RETENTION_DAYS, batch: int = PRUNE_BATCH) -> dict[str, int]:
    """Delete the rows older than `days`, `batch` per transaction; how many, per table."""
    removed: dict[str, int] = {}
    for table, statement in _PRUNE.items():
        removed[table] = 0
        while True:
            async with job_transaction() as session:
                await set_actor(session, None, platform_admin=True)
                result = await session.execute(statement, {"days": days, "batch": batch})
                count = int(cast(CursorResult[Any], result).rowcount or 0)
            removed[table] += count
            if count < batch:
                break
    return removed
