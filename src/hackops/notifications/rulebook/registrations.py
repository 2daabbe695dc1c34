"""Registrations: a seat from the waitlist, a cancellation by the organizers, a check-in and
its undoing, a request awaiting approval and the organizers' "no".

(`registration.created` and `registration.approved` are in `notifications.rules`.)
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
    RegistrationCheckInUndone,
    RegistrationDeclined,
    RegistrationPromoted,
    RegistrationRequested,
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


@rule(RegistrationCheckInUndone.type)
async def registration_check_in_undone(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The person, in the app (where the check-in's welcome went): the desk took it back."""
    assert isinstance(payload, RegistrationCheckInUndone)
    event = await event_of(session, row)
    if event is None or row.actor_id == payload.user_id:
        return []
    message = Message(
        category="registration",
        title=f"Your check-in at {event.name} was undone",
        body=(
            "The desk marked you as checked in by mistake and took it back. Your seat is still "
            "yours: show your check-in code at the desk when you arrive."
        ),
        link=await registration_path(session, event),
        channels=IN_APP_ONLY,
    )
    return [Telling([payload.user_id], message)]


@rule(RegistrationRequested.type)
async def registration_requested(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The person who asked: their request arrived and waits for the organizers."""
    assert isinstance(payload, RegistrationRequested)
    event = await event_of(session, row)
    if event is None:
        return []
    message = Message(
        category="registration",
        title=f"Your registration for {event.name} awaits approval",
        body=(
            "The organizers approve each registration for this event. We will tell you when "
            "they have decided; until then you have no seat and no check-in code."
        ),
        link=await registration_path(session, event),
        link_label="My registration",
    )
    return [Telling([payload.user_id], message)]


@rule(RegistrationDeclined.type)
async def registration_declined(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The person whose request the organizers declined."""
    assert isinstance(payload, RegistrationDeclined)
    event = await event_of(session, row)
    if event is None:
        return []
    message = Message(
        category="registration",
        title=f"Your registration for {event.name} was not approved",
        body=(
            "The organizers declined your registration, so you have no seat at this event. "
            "If you think this is a mistake, contact them."
        ),
        link=await event_path(session, event),
        link_label="The event",
    )
    return [Telling([payload.user_id], message)]
