"""Reading the outbox in tests: the domain events a test's requests wrote, and whom the fan-out
of one of them told (in the app, by mail), checked to add nothing when it runs again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Notification, OutboundEmail, OutboxEvent
from hackops.outbox.tasks import fan_out
from tests.registrations.helpers import as_admin


async def events(session: AsyncSession, type_: str, event_id: uuid.UUID) -> list[OutboxEvent]:
    """The events of `type_` written for one event (a hackathon), oldest first."""
    await as_admin(session)
    rows = await session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.type == type_, OutboxEvent.event_id == event_id)
        .order_by(OutboxEvent.seq)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def one(session: AsyncSession, type_: str, event_id: uuid.UUID) -> OutboxEvent:
    """The only event of `type_` for the event (fails with what there is otherwise)."""
    rows = await events(session, type_, event_id)
    assert len(rows) == 1, [row.payload for row in rows]
    return rows[0]


def check(
    row: OutboxEvent,
    *,
    org_id: uuid.UUID,
    event_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    payload: dict[str, Any],
) -> None:
    """The row's envelope and its payload, exactly (ids as the JSON holds them: strings)."""
    expected = {
        key: str(value) if isinstance(value, uuid.UUID) else value for key, value in payload.items()
    }
    assert (row.org_id, row.event_id, row.actor_id) == (org_id, event_id, actor_id)
    assert row.payload == expected
    assert row.version == 1
    assert row.dispatched_at is None  # written now; the dispatcher runs in a worker


@dataclass(frozen=True)
class Told:
    """Who the fan-out of one event told, and what."""

    in_app: dict[uuid.UUID, Notification]
    mailed: dict[uuid.UUID, OutboundEmail]

    @property
    def people(self) -> set[uuid.UUID]:
        return set(self.in_app) | set(self.mailed)

    def title(self, user_id: uuid.UUID) -> str:
        return self.in_app[user_id].title


async def _told(session: AsyncSession, row: OutboxEvent) -> Told:
    await as_admin(session)
    notes = await session.scalars(
        select(Notification).where(Notification.outbox_event_id == row.id)
    )
    mails = await session.scalars(
        select(OutboundEmail).where(OutboundEmail.dedupe_key.like(f"{row.id}%"))
    )
    in_app: dict[uuid.UUID, Notification] = {}
    for note in notes:
        assert note.user_id not in in_app, "one notification per person and event"
        in_app[note.user_id] = note
    mailed: dict[uuid.UUID, OutboundEmail] = {}
    for mail in mails:
        assert mail.user_id is not None
        assert mail.user_id not in mailed
        mailed[mail.user_id] = mail
    return Told(in_app, mailed)


async def dispatch(session: AsyncSession, row: OutboxEvent) -> Told:
    """The dispatcher's work for `row`, then again twice (once with its mark undone, as a run
    that could not see it): the later runs add nothing."""
    assert await fan_out(session, row.id) == row.type
    first = await _told(session, row)
    assert await fan_out(session, row.id) is None
    await as_admin(session)
    row.dispatched_at = None
    await session.flush()
    assert await fan_out(session, row.id) == row.type
    again = await _told(session, row)
    assert {k: v.id for k, v in again.in_app.items()} == {k: v.id for k, v in first.in_app.items()}
    assert {k: v.id for k, v in again.mailed.items()} == {k: v.id for k, v in first.mailed.items()}
    return first
