"""Who is told what about each domain event (`fanout.rule`): titles and lines written for the
person reading them, and the page each notification links to."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.events.calendar import event_ics, local_span, location
from hackops.jobs import job_settings
from hackops.mail.parts import Attachment
from hackops.models import Event, OutboxEvent, Registration, RegistrationStatus, User

# The rules of every other event type, one module per domain (they register on import).
from hackops.notifications import rulebook  # noqa: F401
from hackops.notifications.links import event_path
from hackops.notifications.service import Message
from hackops.notifications.telling import RULES, Telling, rule
from hackops.outbox.catalog import Payload, RegistrationApproved, RegistrationCreated
from hackops.registrations.checkin import qr_png
from hackops.registrations.waitlist import waitlist_position

__all__ = ["RULES"]


@rule(RegistrationCreated.type)
async def registration_created(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """The registration's confirmation: for a seat, the check-in code, its QR code and the
    event as a calendar entry; for the waitlist, the place in line and no code (the person may
    not come in yet). Nothing when the registration was cancelled before this ran."""
    assert isinstance(payload, RegistrationCreated)
    return await _confirmation(session, row, payload)


@rule(RegistrationApproved.type)
async def registration_approved(
    session: AsyncSession, row: OutboxEvent, payload: Payload
) -> list[Telling]:
    """An organizer approved the registration: the same confirmation as registering without
    approval (a seat: the code, QR and calendar entry; the waitlist: the place in line), titled
    as the answer to the request. Nothing when it was cancelled before this ran."""
    assert isinstance(payload, RegistrationApproved)
    return await _confirmation(session, row, payload, approved=True)


async def _confirmation(
    session: AsyncSession,
    row: OutboxEvent,
    payload: RegistrationCreated | RegistrationApproved,
    *,
    approved: bool = False,
) -> list[Telling]:
    event = await session.get(Event, row.event_id) if row.event_id is not None else None
    registration = await session.get(Registration, payload.registration_id)
    user = await session.get(User, payload.user_id)
    if event is None or registration is None or user is None:
        return []
    if registration.status == RegistrationStatus.CANCELLED:
        return []
    base_url = job_settings().base_url.rstrip("/")
    context: dict[str, Any] = {
        "name": user.name or user.email,
        "event_name": event.name,
        "event_url": base_url + await event_path(session, event),
        "registration_url": base_url + await event_path(session, event, "/registration"),
        "when": local_span(event),
        "where": location(event),
    }
    if payload.status == "waitlisted":
        context["position"] = await waitlist_position(session, registration)
        return [
            Telling(
                [payload.user_id],
                Message(
                    category="registration",
                    title=(
                        f"Your registration for {event.name} is approved: you are on the waitlist"
                        if approved
                        else f"You are on the waitlist for {event.name}"
                    ),
                    body=(
                        "The event is full for now; we will tell you as soon as a seat frees up."
                        if approved
                        else "We will tell you as soon as a seat frees up."
                    ),
                    link=await event_path(session, event),
                    email_template="registration/waitlisted",
                    email_context=context,
                ),
            )
        ]
    attachments = _confirmation_files(event, registration, base_url, context["event_url"])
    return [
        Telling(
            [payload.user_id],
            Message(
                category="registration",
                title=(
                    f"Your registration for {event.name} is approved"
                    if approved
                    else f"You are registered for {event.name}"
                ),
                body="Your check-in code is on your registration page.",
                link=await event_path(session, event),
                email_template="registration/confirmed",
                email_context={
                    **context,
                    "checkin_code": registration.checkin_code,
                    "qr_cid": attachments[0].content_id,
                    "calendar_file": attachments[1].filename if len(attachments) > 1 else None,
                },
                attachments=attachments,
            ),
        )
    ]


def _confirmation_files(
    event: Event, registration: Registration, base_url: str, event_url: str
) -> tuple[Attachment, ...]:
    """The check-in QR code (an inline image of the HTML part) and, when the event has a
    start, its calendar entry, named for good by the registration (UID)."""
    host = urlsplit(base_url).hostname or "localhost"
    qr = Attachment(
        "checkin-qr.png",
        "image/png",
        qr_png(registration.checkin_code),
        content_id=f"checkin-qr.{registration.id}@{host}",
    )
    ics = event_ics(
        event,
        uid=f"registration-{registration.id}@{host}",
        url=event_url,
        stamp=registration.created_at,
    )
    if ics is None:
        return (qr,)
    return (qr, Attachment(f"{event.slug}.ics", "text/calendar", ics))
