"""Registrations: a seat from the waitlist, a cancellation by the organizers, a check-in.

(`registration.created` is in `notifications.rules`.)
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import OutboxEvent
from hackops.notifications.links import event_path, registration_path
from hackops.notifications.rulebook.common import IN_APP_ONLY, event_of
from hackops.notifications.service import Message
from hackops.notifications.telling import Telling, rule
from hackops.outbox.catalog import (
    Payload,
    RegistrationCancelled,
    RegistrationCheckedIn,
    RegistrationPromoted,
)


@rule(RegistrationPromoted.type)
async def registration_promoted(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The promoted person. In-app only: `registrations.waitlist` mails them already."""
    assert isinstance(payload, RegistrationPromoted)
    event = await event_of(session, row)
    if event is None:
        return []
    message = Message(
        category="registration",
        title=f"You have a seat at {event.name}",
        body=(
            "A seat freed up and it is yours: you are now registered. If you cannot come any "
            "more, please cancel so the next person gets the seat."
        ),
        link=await registration_path(session, event),
        channels=IN_APP_ONLY,
    )
    return [Telling([payload.user_id], message)]


@rule(RegistrationCancelled.type)
async def registration_cancelled(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The person, when someone else cancelled it (an organizer's removal); a person who
    cancelled their own registration knows."""
    assert isinstance(payload, RegistrationCancelled)
    event = await event_of(session, row)
    if event is None or row.actor_id == payload.user_id:
        return []
    message = Message(
        category="registration",
        title=f"Your registration for {event.name} was cancelled",
        body=(
            "The organizers removed your registration. If you think this is a mistake, "
            "contact them; you can register again while registration is open."
        ),
        link=await event_path(session, event),
    )
    return [Telling([payload.user_id], message)]


@rule(RegistrationCheckedIn.type)
async def registration_checked_in(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The person checked in (by the desk). In-app only: they are standing at the door, a mail
    would tell them nothing they do not know."""
    assert isinstance(payload, RegistrationCheckedIn)
    event = await event_of(session, row)
    if event is None or row.actor_id == payload.user_id:
        return []
    message = Message(
        category="registration",
        title=f"Welcome to {event.name}: you are checked in",
        body="Your seat is confirmed. Have a good event!",
        link=await event_path(session, event),
        channels=IN_APP_ONLY,
    )
    return [Telling([payload.user_id], message)]
