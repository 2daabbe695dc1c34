"""The seat lock and the counters every seat decision reads.

Every transition that takes or frees a seat (registering, cancelling, removing, promoting from
the waitlist, importing) first locks the event row (`SELECT ... FOR UPDATE`, `lock_event`) and
reads `registered_count` under that lock; the trigger on registrations keeps the counter and the
CHECK `registered_count <= capacity` on events backs it, so a logic bug is a constraint error,
never an oversold event. The waitlist's order is `queue_seq`, an identity (`NEXT_QUEUE_SEQ`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ColumnElement, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.codes import readable_code
from hackops.models import Event

CODE_LENGTH = 12


def new_checkin_code() -> str:
    return readable_code(CODE_LENGTH)


async def lock_event(session: AsyncSession, event: Event) -> tuple[Event, datetime]:
    """Lock the event row for this transaction (the seat lock), refresh its counters, and read
    the database clock, in one round trip."""
    row = (
        await session.execute(
            select(Event, func.app_now())
            .where(Event.id == event.id)
            .with_for_update(of=Event)
            .execution_options(populate_existing=True)
        )
    ).one()
    return row[0], row[1]


def free_seats(event: Event) -> int | None:
    """Seats left (None: no capacity limit). Read under `lock_event`."""
    if event.capacity is None:
        return None
    return max(event.capacity - event.registered_count, 0)


NEXT_QUEUE_SEQ: ColumnElement[int] = literal_column(
    "nextval(pg_get_serial_sequence('registrations', 'queue_seq'))", BigInteger
)


async def next_queue_seq(session: AsyncSession) -> int:
    return (await session.execute(select(NEXT_QUEUE_SEQ))).scalar_one()
