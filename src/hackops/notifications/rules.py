"""Who is told what about each domain event (`fanout.rule`): titles and lines written for the
person reading them, and the page each notification links to."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event, OutboxEvent

# The rules of every other event type, one module per domain (they register on import).
from hackops.notifications import rulebook  # noqa: F401
from hackops.notifications.links import event_path
from hackops.notifications.service import Message
from hackops.notifications.telling import RULES, Telling, rule
from hackops.outbox.catalog import Payload, RegistrationCreated

__all__ = ["RULES"]


@rule(RegistrationCreated.type)
async def registration_created(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    assert isinstance(payload, RegistrationCreated)
    event = await session.get(Event, row.event_id)
    if event is None:
        return []
    if payload.status == "waitlisted":
        title = f"You are on the waitlist for {event.name}"
        body = "We will tell you as soon as a seat frees up."
    else:
        title = f"You are registered for {event.name}"
        body = "Your check-in code is on your registration page."
    return [
        Telling(
            [payload.user_id],
            Message(
                category="registration",
                title=title,
                body=body,
                link=await event_path(session, event),
            ),
        )
    ]
