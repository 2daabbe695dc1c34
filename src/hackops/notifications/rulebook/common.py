"""What the rules share: the in-app-only channel set and the event a row is about."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Channel, Event, OutboxEvent

#: For happenings that already have their own plain-text mail (see the package docstring).
IN_APP_ONLY = frozenset({Channel.IN_APP})


async def event_of(session: AsyncSession, row: OutboxEvent) -> Event | None:
    """The event the domain event happened in (None: gone since, nobody to tell)."""
    if row.event_id is None:
        return None
    return await session.get(Event, row.event_id)


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"
