"""The FIFO waitlist: free seats go to the waitlisted people in `queue_seq` order, in the same
transaction as whatever freed them (a cancellation, a removal, a larger or no capacity), each
promotion audited, mailed (job) and written to the outbox (`registration.promoted`).

An organizer may also promote one person out of order (`promote_one`): with no free seat (the
usual case, by the invariant below) only by raising the capacity by one for them, in the same
transaction under the same lock, so the counters and the capacity CHECK stay exact.

Invariant: a waitlisted person exists only while the event is full. The events domain sends
`events.hooks.CapacityChanged` when it changes the capacity; `capacity_changed` (connected in
`hackops.wiring`) promotes the waitlist.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from hackops.actor import Actor
from hackops.audit.service import record
from hackops.errors import Conflict, NotFound
from hackops.events import hooks as event_hooks
from hackops.events.access import EventAccess
from hackops.jobs import job_settings
from hackops.mail.render import org_brand
from hackops.mail.service import queue_mail
from hackops.models import Event, Organization, Registration, RegistrationStatus, User
from hackops.outbox import catalog
from hackops.outbox.service import emit
from hackops.registrations.seats import free_seats, lock_event

#: The most waitlisted people one list shows (the organizers' page and API).
MAX_SHOWN = 500
STATUS_WORDS = {
    RegistrationStatus.REGISTERED: "already registered",
    RegistrationStatus.CHECKED_IN: "already checked in",
    RegistrationStatus.CANCELLED: "cancelled",
    RegistrationStatus.PENDING: "awaiting approval",
    RegistrationStatus.DECLINED: "declined",
}


class RegistrationMissing(NotFound):
    code = "registration_not_found"
    message = "No such registration."


class NotWaitlisted(Conflict):
    code = "not_waitlisted"
    message = "This person is not on the waitlist: nothing to promote."


class NoFreeSeat(Conflict):
    code = "no_free_seat"
    message = "The event is full: raise the capacity by one to promote this person."


async def promote_waitlisted(
    session: AsyncSession, event: Event, actor: Actor
) -> list[Registration]:
    """Give every free seat to the waitlist, first come first served, and mail each person.

    Runs (`capacity_changed`) in the transaction that raised the capacity (or removed it); it
    takes the event lock itself (harmless if already held). One audit row per promotion."""
    locked, _ = await lock_event(session, event)
    return await promote_locked(session, locked, actor)


async def capacity_changed(
    session: AsyncSession, actor: Actor, changed: event_hooks.CapacityChanged
) -> None:
    """Handler of `events.hooks.capacity_changed`: free seats go to the waitlist."""
    await promote_waitlisted(session, await session.get_one(Event, changed.event_id), actor)


async def promote_locked(session: AsyncSession, event: Event, actor: Actor) -> list[Registration]:
    """Promote under the event lock; `event.registered_count` must be current."""
    seats = free_seats(event)
    if seats == 0:
        return []
    query = (
        select(Registration, User)
        .join(User, User.id == Registration.user_id)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.queue_seq)
        .with_for_update(of=Registration)
    )
    if seats is not None:
        query = query.limit(seats)
    rows = list(await session.execute(query))
    if not rows:
        return []
    promoted: list[Registration] = []
    for registration, user in rows:
        registration.status = RegistrationStatus.REGISTERED
        await session.flush()
        await _promoted(session, event, registration, user, actor)
        promoted.append(registration)
    return promoted


async def waitlist_position(session: AsyncSession, registration: Registration) -> int | None:
    """A waitlisted registration's place in line (1 is next), None for any other status."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    position = await session.scalar(
        select(func.count()).where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.queue_seq <= registration.queue_seq,
        )
    )
    return int(position or 0)


async def _promoted(
    session: AsyncSession,
    event: Event,
    registration: Registration,
    user: User,
    actor: Actor,
    **details: Any,
) -> None:
    """What follows a promotion (the row is already `registered`): the counter as the trigger
    left it, the audit row, the outbox event and the person's mail."""
    event.registered_count += 1  # what the trigger just did in the database
    await record(
        session,
        actor,
        "registration.promoted",
        resource_type="registration",
        resource_id=registration.id,
        org_id=event.org_id,
        details={
            "event": event.slug,
            "user_id": str(user.id),
            "queue_seq": registration.queue_seq,
            **details,
        },
    )
    await emit(
        session,
        actor,
        catalog.RegistrationPromoted(registration_id=registration.id, user_id=user.id),
        org_id=event.org_id,
        event_id=event.id,
    )
    org = await session.get_one(Organization, event.org_id)
    # Promotions follow a cancellation, a capacity change or an organizer's choice, in a request
    # or a job: the links are made absolute with the running app's (or worker's) BASE_URL.
    base_url = job_settings().base_url.rstrip("/")
    await queue_mail(
        session,
        "registration/seat_freed",
        to=user.email,
        subject=f"You have a seat at {event.name}",
        base_url=base_url,
        brand=org_brand(org),
        context={
            "name": user.name or user.email,
            "event_name": event.name,
            "link": f"{base_url}/orgs/{org.slug}/events/{event.slug}/registration",
        },
        user_id=user.id,
    )


async def promote_one(
    session: AsyncSession,
    access: EventAccess,
    registration_id: uuid.UUID,
    *,
    raise_capacity: bool = False,
) -> Registration:
    """An organizer gives a seat to one waitlisted person, out of queue order.

    Under the seat lock: a free seat is taken; with none free (the usual case: a waitlisted
    person exists only while the event is full), `raise_capacity` adds exactly one seat for this
    person, otherwise `no_free_seat` is refused and nothing changes. The registration moves by
    one guarded UPDATE (still waitlisted), so a concurrent cancellation, removal or automatic
    promotion of the same person wins or loses cleanly; the capacity CHECK backs the counter."""
    event, _ = await lock_event(session, access.event)
    found = await session.execute(
        select(Registration, User)
        .join(User, User.id == Registration.user_id)
        .where(Registration.id == registration_id, Registration.event_id == event.id)
        .with_for_update(of=Registration)
        .execution_options(populate_existing=True)
    )
    row = found.first()
    if row is None:
        raise RegistrationMissing
    registration, user = row[0], row[1]
    if registration.status != RegistrationStatus.WAITLISTED:
        label = STATUS_WORDS.get(registration.status, registration.status)
        raise NotWaitlisted(
            f"{user.name or user.email} is not on the waitlist ({label}): nothing to promote.",
            details={"status": registration.status},
        )
    raised_to: int | None = None
    if free_seats(event) == 0:
        if not raise_capacity:
            raise NoFreeSeat(
                f"The event is full ({event.registered_count} of {event.capacity} seats): "
                f"promoting {user.name or user.email} needs one more seat. Raise the capacity "
                "by one to promote them, or free a seat first.",
                details={"capacity": event.capacity, "registered_count": event.registered_count},
            )
        assert event.capacity is not None
        raised_to = event.capacity + 1
        # Before the registration's UPDATE: its trigger counts the seat against the capacity.
        await session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(capacity=raised_to)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(event, "capacity", raised_to)
    registration.status = RegistrationStatus.REGISTERED
    await session.flush()
    extra: dict[str, Any] = {"manual": True}
    if raised_to is not None:
        extra["capacity_raised_to"] = raised_to
    await _promoted(session, event, registration, user, access.actor, **extra)
    return registration


async def waitlist(session: AsyncSession, event: Event) -> list[tuple[int, Registration, User]]:
    """The waitlist in queue order with each person's position (1 = next to get a seat)."""
    rows = await session.execute(
        select(Registration, User)
        .join(User, User.id == Registration.user_id)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.queue_seq)
        .limit(MAX_SHOWN)
    )
    return [(i, r[0], r[1]) for i, r in enumerate(rows, start=1)]
