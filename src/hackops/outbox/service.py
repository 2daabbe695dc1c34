"""Write domain events to the outbox in the transaction of the change; the channels they fan
out to.

`emit(session, actor, payload, org_id=…, event_id=…)` adds one `outbox_events` row and enqueues
its dispatch job on the same connection: a rollback drops both, a commit can never lose either
(`jobs.enqueue`). It also notifies `hackops_outbox` (delivered at commit) so the broker relay
wakes at once instead of at its next poll. `emit_once(…, key=…)` writes an event at most once
ever for its type and key (a pipeline version's processed / failed), its id derived from both.
`prepare(payload)` gives the same row and job as values, for a SQL function that writes them
itself in one statement with its change (`submit_version`). Who calls which, and with what:
`docs/events.md`.

A channel is what an event fans out to (people's notifications, the organization's webhooks): an
`async def channel(session, row, payload)` connected once by `hackops.wiring` (the channels are
upper domains; the outbox is below every domain that emits). The dispatcher
(`outbox.tasks.dispatch`) runs every channel in one transaction with the row locked and marks it
dispatched in that same transaction, so a channel's rows exist exactly once per event; each
channel also guards its writes with a unique key, so a second run (a worker killed after the
commit, before the job was marked done) adds nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import jobs
from hackops.actor import Actor
from hackops.models import OutboxEvent, new_id
from hackops.outbox.catalog import Payload
from hackops.outbox.channels import NOTIFY_CHANNEL, dispatch_lock
from hackops.outbox.tasks import dispatch


async def emit(
    session: AsyncSession,
    actor: Actor | None,
    payload: Payload,
    *,
    org_id: uuid.UUID | None,
    event_id: uuid.UUID | None = None,
) -> OutboxEvent:
    """Record that `payload` happened, in the session's transaction, and queue its fan-out."""
    return await _write(session, actor, payload, org_id=org_id, event_id=event_id)


#: The namespace of the ids `emit_once` derives (UUIDv5 of "<type>:<key>").
ONCE_NAMESPACE = uuid.UUID("6f1c1f4e-7d43-5b8e-9a57-0c2b7f0e1d13")


def once_id(type_: str, key: str) -> uuid.UUID:
    """The event id of the one event of `type_` for `key` (`emit_once`)."""
    return uuid.uuid5(ONCE_NAMESPACE, f"{type_}:{key}")


async def emit_once(
    session: AsyncSession,
    actor: Actor | None,
    payload: Payload,
    *,
    key: str,
    org_id: uuid.UUID | None,
    event_id: uuid.UUID | None = None,
) -> OutboxEvent | None:
    """`emit`, at most once ever for (`payload.type`, `key`): the event's id is derived from
    them, so a second call (a step that finishes again after a re-run) finds the first row by
    its primary key and writes nothing (None). Callers serialize on the row the key names (the
    pipeline's step row lock); a race past that is the primary key's violation, never a
    second event."""
    row_id = once_id(payload.type, key)
    if await session.get(OutboxEvent, row_id) is not None:
        return None
    return await _write(session, actor, payload, org_id=org_id, event_id=event_id, row_id=row_id)


@dataclass(frozen=True, slots=True)
class Prepared:
    """An event for a SQL function that writes it in the same statement as its change
    (`submit_version`): the row's values (`row`, JSON: id, type, version, subject_type,
    subject_id, payload), its dispatch job (`jobs.job_row`) and the channel to notify. The
    function writes org, event and actor itself, as `emit` would."""

    id: uuid.UUID
    row: dict[str, Any]
    job: dict[str, Any]
    channel: str = NOTIFY_CHANNEL


def prepare(payload: Payload) -> Prepared:
    """What `emit(…, payload)` would write, prepared for a SQL function to write."""
    row_id = new_id()
    row = {
        "id": str(row_id),
        "type": payload.type,
        "version": payload.version,
        "subject_type": payload.subject,
        "subject_id": None if payload.subject_id() is None else str(payload.subject_id()),
        "payload": payload.model_dump(mode="json"),
    }
    job = jobs.job_row(
        dispatch, queue="notifications", queueing_lock=dispatch_lock(row_id), event_id=str(row_id)
    )
    return Prepared(id=row_id, row=row, job=job)


async def _write(
    session: AsyncSession,
    actor: Actor | None,
    payload: Payload,
    *,
    org_id: uuid.UUID | None,
    event_id: uuid.UUID | None,
    row_id: uuid.UUID | None = None,
) -> OutboxEvent:
    actor_id = actor.user_id if actor is not None else None
    row = OutboxEvent(
        type=payload.type,
        version=payload.version,
        org_id=org_id,
        event_id=event_id,
        actor_id=actor_id if isinstance(actor_id, uuid.UUID) else None,
        subject_type=payload.subject,
        subject_id=payload.subject_id(),
        payload=payload.model_dump(mode="json"),
    )
    if row_id is not None:
        row.id = row_id
    session.add(row)
    await session.flush()
    await jobs.enqueue(
        session,
        dispatch,
        queue="notifications",
        queueing_lock=dispatch_lock(row.id),
        event_id=str(row.id),
    )
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
    return row
