"""Manual approval: when an event's `approval_required` is on, a new registration is `pending`
and an organizer approves or declines it.

The rule (simplest fair one): a pending registration holds no seat and no place in line, and
gets no check-in code on its page. Approving takes a seat under the seat lock (`seats.py`) if
one is free, else a place at the back of the waitlist (queued from the moment of approval, so a
late approval passes nobody already waiting), else — full with no waitlist — it is refused and
the registration stays pending. Declining frees nothing (there was no seat). Both are one
guarded UPDATE (`status = 'pending'`), so approving twice, or approving what was declined or
cancelled meanwhile, is refused with `not_pending` and writes nothing. Each transition is
audited and written to the outbox (`registration.approved`, `registration.declined`), whose
rules tell the person (`notifications/rulebook/registrations.py`).
"""

from __future__ import annotations

import uuid
from typing import NoReturn

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.audit.service import record
from hackops.errors import Conflict, NotFound
from hackops.events.access import EventAccess
from hackops.models import Registration, RegistrationStatus, User
from hackops.outbox import catalog
from hackops.outbox.service import emit
from hackops.registrations.seats import NEXT_QUEUE_SEQ, free_seats, lock_event

STATUS_WORDS = {
    RegistrationStatus.REGISTERED: "it is already approved and registered",
    RegistrationStatus.WAITLISTED: "it is already approved and on the waitlist",
    RegistrationStatus.CHECKED_IN: "the person is already checked in",
    RegistrationStatus.CANCELLED: "it was cancelled",
    RegistrationStatus.DECLINED: "it was already declined",
}


class RegistrationMissing(NotFound):
    code = "registration_not_found"
    message = "No such registration."


class NotPending(Conflict):
    code = "not_pending"
    message = "This registration is not awaiting approval."


class FullWithoutWaitlist(Conflict):
    code = "event_full"
    message = (
        "The event is full and has no waitlist: raise the capacity or turn the waitlist on to "
        "approve more people."
    )


async def _refuse(
    session: AsyncSession, access: EventAccess, registration_id: uuid.UUID
) -> NoReturn:
    """Why a guarded UPDATE changed nothing: no such registration, or not pending."""
    found = (
        await session.execute(
            select(Registration, User)
            .join(User, User.id == Registration.user_id)
            .where(Registration.id == registration_id, Registration.event_id == access.event.id)
        )
    ).first()
    if found is None:
        raise RegistrationMissing
    registration, user = found[0], found[1]
    why = STATUS_WORDS.get(registration.status, str(registration.status))
    raise NotPending(
        f"The registration of {user.name or user.email} is not awaiting approval: {why}.",
        details={"status": registration.status},
    )


async def approve(
    session: AsyncSession, access: EventAccess, registration_id: uuid.UUID
) -> Registration:
    """Approve a pending registration: a seat if one is free, else the back of the waitlist."""
    event, _ = await lock_event(session, access.event)
    seats = free_seats(event)
    values: dict[str, object]
    if seats is None or seats > 0:
        values = {"status": RegistrationStatus.REGISTERED}
    elif event.waitlist_enabled:
        values = {"status": RegistrationStatus.WAITLISTED, "queue_seq": NEXT_QUEUE_SEQ}
    else:
        # Refused before the row is read: say "not pending" rather than "full" when both hold.
        pending = await session.scalar(
            select(Registration.id).where(
                Registration.id == registration_id,
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.PENDING,
            )
        )
        if pending is None:
            await _refuse(session, access, registration_id)
        raise FullWithoutWaitlist(
            details={"capacity": event.capacity, "registered_count": event.registered_count}
        )
    registration = await session.scalar(
        update(Registration)
        .where(
            Registration.id == registration_id,
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.PENDING,
        )
        .values(**values)
        .returning(Registration)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    if registration is None:
        await _refuse(session, access, registration_id)
    seated = registration.status == RegistrationStatus.REGISTERED
    if seated:
        event.registered_count += 1  # what the trigger just did in the database
    await record(
        session,
        access.actor,
        "registration.approved",
        resource_type="registration",
        resource_id=registration.id,
        org_id=event.org_id,
        details={
            "event": event.slug,
            "user_id": str(registration.user_id),
            "status": str(registration.status),
        },
    )
    await emit(
        session,
        access.actor,
        catalog.RegistrationApproved(
            registration_id=registration.id,
            user_id=registration.user_id,
            status="registered" if seated else "waitlisted",
        ),
        org_id=event.org_id,
        event_id=event.id,
    )
    return registration


async def decline(
    session: AsyncSession, access: EventAccess, registration_id: uuid.UUID
) -> Registration:
    """Decline a pending registration (it held no seat, so nothing is freed)."""
    registration = await session.scalar(
        update(Registration)
        .where(
            Registration.id == registration_id,
            Registration.event_id == access.event.id,
            Registration.status == RegistrationStatus.PENDING,
        )
        .values(status=RegistrationStatus.DECLINED)
        .returning(Registration)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    if registration is None:
        await _refuse(session, access, registration_id)
    await record(
        session,
        access.actor,
        "registration.declined",
        resource_type="registration",
        resource_id=registration.id,
        org_id=access.event.org_id,
        details={"event": access.event.slug, "user_id": str(registration.user_id)},
    )
    await emit(
        session,
        access.actor,
        catalog.RegistrationDeclined(registration_id=registration.id, user_id=registration.user_id),
        org_id=access.event.org_id,
        event_id=access.event.id,
    )
    return registration


async def pending(session: AsyncSession, access: EventAccess) -> list[tuple[Registration, User]]:
    """The requests awaiting a decision, oldest first (at most 500)."""
    rows = await session.execute(
        select(Registration, User)
        .join(User, User.id == Registration.user_id)
        .where(
            Registration.event_id == access.event.id,
            Registration.status == RegistrationStatus.PENDING,
        )
        .order_by(Registration.queue_seq)
        .limit(500)
    )
    return [(r[0], r[1]) for r in rows]
