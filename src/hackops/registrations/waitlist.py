"""The FIFO waitlist: free seats go to the waitlisted people in `queue_seq` order, in the same
transaction as whatever freed them (a cancellation, a removal, a larger or no capacity), each
promotion audited, mailed (job) and written to the outbox (`registration.promoted`).

Invariant: a waitlisted person exists only while the event is full. The events domain sends
`events.hooks.CapacityChanged` when it changes the capacity; `capacity_changed` (connected in
`hackops.wiring`) promotes the waitlist.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.audit.service import record
from hackops.events import hooks as event_hooks
from hackops.jobs import job_settings
from hackops.mail.render import org_brand
from hackops.mail.service import queue_mail
from hackops.models import Event, Organization, Registration, RegistrationStatus, User
from hackops.outbox import catalog
from hackops.outbox.service import emit
from hackops.registrations.seats import free_seats, lock_event


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
    org = await session.get_one(Organization, event.org_id)
    org_slug, brand = org.slug, org_brand(org)
    # Promotions follow a cancellation or a capacity change, in a request or a job: the links
    # are made absolute with the running app's (or worker's) BASE_URL.
    base_url = job_settings().base_url.rstrip("/")
    promoted: list[Registration] = []
    for registration, user in rows:
        registration.status = RegistrationStatus.REGISTERED
        promoted.append(registration)
        await session.flush()
        event.registered_count += 1
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
            },
        )
        await emit(
            session,
            actor,
            catalog.RegistrationPromoted(registration_id=registration.id, user_id=user.id),
            org_id=event.org_id,
            event_id=event.id,
        )
        await queue_mail(
            session,
            "registration/seat_freed",
            to=user.email,
            subject=f"You have a seat at {event.name}",
            base_url=base_url,
            brand=brand,
            context={
                "name": user.name or user.email,
                "event_name": event.name,
                "link": f"{base_url}/orgs/{org_slug}/events/{event.slug}/registration",
            },
            user_id=user.id,
        )
    return promoted
