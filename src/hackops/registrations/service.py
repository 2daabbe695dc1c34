"""Registrations: register, cancel, remove (a person's seat or place on the waitlist).

Who holds which limit:
- Seats: the event row lock and counters (`seats.py`): registered vs waitlisted is decided
  under that lock.
- One registration per user and event: UNIQUE (event_id, user_id), written with INSERT ... ON
  CONFLICT DO NOTHING under the event lock, so a person's concurrent attempts give one row and
  `already_registered` for the others. Re-registering after a cancellation reuses the row (a
  conditional UPDATE of the cancelled row), with a new place at the end of the queue.
- Cancel and removal: one conditional UPDATE (not yet cancelled) under the event lock; the freed
  seat goes to the waitlist (`waitlist.py`) in the same transaction. A cancelled or removed
  registration sends `hooks.RegistrationCancelled` first (handled by the teams domain, which
  releases the person's team place).
- Manual approval (`events.approval_required`): a new registration is `pending` and holds no
  seat and no place in line; an organizer's approval (`approval.py`) gives it a seat, or the
  waitlist when full. A `declined` person cannot register again (an organizer's removal makes
  the row cancelled, and then they can).
- Domain events (`hackops.outbox`, `docs/events.md`), each in the transaction of its change:
  `registration.created` (register, seated or waitlisted), `registration.requested` (register,
  pending approval), `registration.cancelled` (cancel and
  remove, `_free`: only when the row changed); promotion and check-in write theirs in
  `waitlist.py` and `checkin.py`. An organizer's CSV import writes none (a bulk action of its
  own, audited once; its people were not asked).

Elsewhere: the waitlist (`waitlist.py`), check-in (`checkin.py`), lists (`listing.py`), CSV
import and export (`csv_io.py`).

Private events: "invited" means, for now, a member of the organization or someone holding a role
on the event (there is no per-event invitation yet).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.audit.service import record
from hackops.errors import Conflict, Forbidden, NotFound, Unauthorized
from hackops.events.access import EventAccess
from hackops.events.questions.service import validate_answers
from hackops.models import (
    SEATED,
    Registration,
    RegistrationStatus,
    User,
    Visibility,
    new_id,
)
from hackops.outbox import catalog
from hackops.outbox.service import emit
from hackops.registrations import hooks
from hackops.registrations.seats import lock_event
from hackops.registrations.waitlist import promote_locked
from hackops.registrations.write import CLOSED, FULL, write

#: The audit action of an organizer's removal (the holder's own: "registration.cancelled").
REMOVED = "registration.removed"


class RegistrationNotFound(NotFound):
    code = "registration_not_found"
    message = "No such registration."


class RegistrationClosed(Conflict):
    code = "registration_closed"
    message = "Registration for this event is not open."


class EventFull(Conflict):
    code = "event_full"
    message = "The event is full and has no waitlist."


class AlreadyRegistered(Conflict):
    code = "already_registered"
    message = "You are already registered (or on the waitlist) for this event."


class RegistrationDeclined(Conflict):
    code = "registration_declined"
    message = (
        "The organizers declined your registration for this event; contact them if you think "
        "this is a mistake."
    )


class AlreadyCheckedIn(Conflict):
    code = "already_checked_in"
    message = "A checked-in registration cannot be cancelled; ask an organizer."


class EmailDomainNotAllowed(Forbidden):
    code = "email_domain_not_allowed"
    message = "This event is open to verified email addresses of certain domains only."


class InvitationRequired(Forbidden):
    code = "invitation_required"
    message = "This event is invite-only."


class SignInRequired(Unauthorized):
    code = "not_authenticated"
    message = "Sign in first (session cookie or Authorization: Bearer <token>)."


def _check_eligibility(access: EventAccess, user: User) -> None:
    event = access.event
    if event.visibility == Visibility.PRIVATE and not (
        access.org_role is not None or access.event_roles or access.actor.is_platform_admin
    ):
        raise InvitationRequired
    domains = {d.strip().lower().lstrip("@") for d in event.allowed_email_domains or []}
    if domains:
        domain = user.email.rpartition("@")[2].lower()
        if not user.email_verified or domain not in domains:
            raise EmailDomainNotAllowed(details={"allowed_domains": sorted(domains)})


async def register(
    session: AsyncSession, access: EventAccess, *, answers: dict[str, Any]
) -> Registration:
    """Register the caller: a seat if one is free, else the waitlist, else `event_full`.

    Everything that does not need the seat lock is checked first. Then one statement
    (`write.py`) locks the event row from the seat decision to the commit (the window is read
    from the database clock under that lock) and writes the row with its audit record and
    domain event: INSERT ... ON CONFLICT DO NOTHING (a concurrent attempt of the same person
    gets `already_registered`), or, after a cancellation, an UPDATE of the cancelled row that
    puts it at the back of the queue."""
    user = access.actor.user
    if user is None:
        raise SignInRequired
    existing = access.registration
    if existing is not None and existing.status == RegistrationStatus.DECLINED:
        raise RegistrationDeclined
    if existing is not None and existing.status != RegistrationStatus.CANCELLED:
        raise AlreadyRegistered
    cleaned = validate_answers(access.event, answers)
    _check_eligibility(access, user)
    registration_id = existing.id if existing is not None else new_id()
    written = await write(
        session,
        access.actor,
        access.event,
        user,
        registration_id=registration_id,
        again=existing is not None,
        answers=cleaned,
    )
    if written is None:
        raise RegistrationNotFound  # the event was deleted meanwhile
    if written.outcome == CLOSED:
        raise RegistrationClosed
    if written.outcome == FULL:
        raise EventFull
    if written.registration is None:
        raise AlreadyRegistered
    return written.registration


async def get_own(session: AsyncSession, access: EventAccess) -> Registration:
    """The caller's registration (loaded by the event dependency)."""
    if access.actor.user is None:
        raise SignInRequired
    if access.registration is None:
        raise RegistrationNotFound
    return access.registration


async def _free(
    session: AsyncSession,
    actor: Actor,
    access: EventAccess,
    registration_id: uuid.UUID,
    *,
    action: str,
    allow_checked_in: bool,
) -> Registration | None:
    """Cancel a registration and hand its seat to the waitlist, under the event lock.

    One conditional UPDATE (status not yet cancelled) decides; None when it already was."""
    event, now = await lock_event(session, access.event)
    freeable = [
        RegistrationStatus.REGISTERED,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.PENDING,
    ]
    if allow_checked_in:  # an organizer's removal: a declined person may then register again
        freeable += [RegistrationStatus.CHECKED_IN, RegistrationStatus.DECLINED]
    old = select(Registration.status).where(Registration.id == registration_id).scalar_subquery()
    row = (
        await session.execute(
            update(Registration)
            .where(
                Registration.id == registration_id,
                Registration.event_id == event.id,
                Registration.status.in_(freeable),
            )
            .values(status=RegistrationStatus.CANCELLED, cancelled_at=now)
            .returning(Registration, old)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).first()
    if row is None:
        return None
    registration: Registration = row[0]
    previous: str = row[1]
    await record(
        session,
        actor,
        action,
        resource_type="registration",
        resource_id=registration.id,
        org_id=event.org_id,
        details={"event": event.slug, "user_id": str(registration.user_id)},
    )
    await emit(
        session,
        actor,
        catalog.RegistrationCancelled(
            registration_id=registration.id,
            user_id=registration.user_id,
            by_organizer=action == REMOVED,
        ),
        org_id=event.org_id,
        event_id=event.id,
    )
    await hooks.registration_cancelled.send(
        session,
        actor,
        hooks.RegistrationCancelled(event_id=event.id, user_id=registration.user_id, at=now),
    )
    if previous in SEATED:
        event.registered_count -= 1  # what the trigger just did in the database
        await promote_locked(session, event, actor)
    return registration


def _checked_in(registration: Registration) -> bool:
    return registration.status == RegistrationStatus.CHECKED_IN


async def cancel(session: AsyncSession, access: EventAccess) -> Registration:
    """The participant cancels; a freed seat goes to the first waitlisted person. Cancelling a
    cancelled registration changes nothing; a checked-in one cannot be cancelled."""
    own = await get_own(session, access)
    if own.status == RegistrationStatus.CHECKED_IN:
        raise AlreadyCheckedIn
    done = await _free(
        session,
        access.actor,
        access,
        own.id,
        action="registration.cancelled",
        allow_checked_in=False,
    )
    if done is None:
        await session.refresh(own)
        if _checked_in(own):  # checked in meanwhile (the status was read before the lock)
            raise AlreadyCheckedIn
        return own
    return done


async def remove(
    session: AsyncSession, access: EventAccess, registration_id: uuid.UUID
) -> Registration:
    """An organizer removes a registration (any state); a freed seat goes to the waitlist."""
    done = await _free(
        session,
        access.actor,
        access,
        registration_id,
        action=REMOVED,
        allow_checked_in=True,
    )
    if done is not None:
        return done
    existing = await session.scalar(
        select(Registration).where(
            Registration.id == registration_id, Registration.event_id == access.event.id
        )
    )
    if existing is None:
        raise RegistrationNotFound
    return existing
