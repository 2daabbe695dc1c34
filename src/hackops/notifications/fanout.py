"""The people channel of the outbox: who is told what about each domain event.

Each event type with people to tell has one rule (`telling.rule(type)`, in `rules.py`): an
async function of (session, row, payload) returning `Telling`s — people and the message for
them. The channel (`people`, connected by `hackops.wiring`) runs the event's rule and
`deliver`s each telling with the event's id as its key, so the fan-out of one event reaches
each person once, however often it runs. Types without a rule tell nobody (they are for
webhooks and the broker only).
"""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import OutboxEvent
from hackops.notifications.rules import RULES
from hackops.notifications.service import deliver
from hackops.outbox.catalog import Payload

log = structlog.get_logger("hackops.notifications")


async def people(session: AsyncSession, row: OutboxEvent, payload: Payload) -> None:
    """The outbox channel: run the event's rule, deliver what it says (idempotent)."""
    found = RULES.get(row.type)
    if found is None:
        return
    tellings = await found(session, row, payload)
    for index, telling in enumerate(tellings):
        key = str(row.id) if index == 0 else f"{row.id}:{index}"
        done = await deliver(
            session,
            org_id=row.org_id,
            user_ids=telling.user_ids,
            message=telling.message,
            dedupe_key=key,
            outbox_event_id=row.id,
        )
        log.debug("notified", type=row.type, in_app=len(done.in_app), email=len(done.email))
