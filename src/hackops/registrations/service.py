"""Registrations: register, cancel, remove, promote from the waitlist, check in, list.

Who holds which limit:
- Seats: every transition that takes or frees a seat first locks the event row
  (`SELECT ... FOR UPDATE`, `lock_event`), reads `registered_count` under that lock and decides
  registered vs waitlisted there; the trigger on registrations keeps the counter and the CHECK
  `registered_count <= capacity` on events backs it, so a logic bug is a constraint error, never
  an oversold event.
- One registration per user and event: UNIQUE (event_id, user_id), written with INSERT ... ON
  CONFLICT DO NOTHING under the event lock, so a person's concurrent attempts give one row and
  `already_registered` for the others. Re-registering after a cancellation reuses the row (a
  conditional UPDATE of the cancelled row), with a new place at the end of the queue.
- Cancel and removal: one conditional UPDATE (not yet cancelled) under the event lock.
- FIFO waitlist: `queue_seq` (an identity), promoted in that order by `promote_waitlisted`, which
  runs in the same transaction as whatever freed the seat and mails the promoted people (job).
- Check-in: the registration row is locked (`FOR UPDATE`); checking in twice changes nothing.

Invariant kept by every path here: a waitlisted person exists only while the event is full. The
events domain must call `promote_waitlisted` when it raises the capacity or turns capacity off.

Private events: "invited" means, for now, a member of the organization or someone holding a role
on the event (there is no per-event invitation yet).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    asc,
    desc,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import Conflict, Forbidden, NotFound, Unauthorized
from hackops.events.access import EventAccess
from hackops.events.lifecycle import registration_open
from hackops.events.questions.service import validate_answers
from hackops.mail.service import queue_email
from hackops.models import (
    SEATED,
    Event,
    Organization,
    Registration,
    RegistrationStatus,
    User,
    Visibility,
    new_id,
)
from hackops.teams.release import release_member

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand
CODE_LENGTH = 12


class RegistrationNotFound(NotFound):
    code = "registration_not_found"
    message = "No such registration."


class CheckinCodeNotFound(NotFound):
    code = "checkin_code_not_found"
    message = "No registration of this event has that check-in code."


class RegistrationClosed(Conflict):
    code = "registration_closed"
    message = "Registration for this event is not open."


class EventFull(Conflict):
    code = "event_full"
    message = "The event is full and has no waitlist."


class AlreadyRegistered(Conflict):
    code = "already_registered"
    message = "You are already registered (or on the waitlist) for this event."


class AlreadyCheckedIn(Conflict):
    code = "already_checked_in"
    message = "A checked-in registration cannot be cancelled; ask an organizer."


class NotSeated(Conflict):
    code = "not_seated"
    message = "This person is not registered for a seat (waitlisted or cancelled)."


class EmailDomainNotAllowed(Forbidden):
    code = "email_domain_not_allowed"
    message = "This event is open to verified email addresses of certain domains only."


class InvitationRequired(Forbidden):
    code = "invitation_required"
    message = "This event is invite-only."


class SignInRequired(Unauthorized):
    code = "not_authenticated"
    message = "Sign in first (session cookie or Authorization: Bearer <token>)."


def new_checkin_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    """What a scanner or a person typed: spaces and dashes dropped, upper case."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


# --- locking and seats ---------------------------------------------------------------------


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

    Everything that does not need the seat lock is checked first. Then the event row is locked
    from the seat decision to the commit (the window is read from the database clock under that
    lock), and the row is written with one conditional statement: INSERT ... ON CONFLICT DO
    NOTHING (a concurrent attempt of the same person gets `already_registered`), or, after a
    cancellation, an UPDATE of the cancelled row that puts it at the back of the queue."""
    user = access.actor.user
    if user is None:
        raise SignInRequired
    existing = access.registration
    if existing is not None and existing.status != RegistrationStatus.CANCELLED:
        raise AlreadyRegistered
    cleaned = validate_answers(access.event, answers)
    _check_eligibility(access, user)
    registration_id = existing.id if existing is not None else new_id()
    # Recorded before the seat lock, so the lock is held for fewer round trips; an error later
    # rolls the whole transaction back, this row with it.
    await record(
        session,
        access.actor,
        "registration.created",
        resource_type="registration",
        resource_id=registration_id,
        org_id=access.event.org_id,
        details={"event": access.event.slug, "again": existing is not None},
    )
    event, now = await lock_event(session, access.event)
    if not registration_open(event, now):
        raise RegistrationClosed
    seats = free_seats(event)
    if seats is None or seats > 0:
        status = RegistrationStatus.REGISTERED
    elif event.waitlist_enabled:
        status = RegistrationStatus.WAITLISTED
    else:
        raise EventFull
    registration: Registration | None
    if existing is None:
        registration = await session.scalar(
            pg_insert(Registration)
            .values(
                id=registration_id,
                org_id=event.org_id,
                event_id=event.id,
                user_id=user.id,
                status=status.value,
                answers=cleaned,
                checkin_code=new_checkin_code(),
            )
            .on_conflict_do_nothing(index_elements=["event_id", "user_id"])
            .returning(Registration)
        )
    else:
        registration = await session.scalar(
            update(Registration)
            .where(
                Registration.id == existing.id,
                Registration.status == RegistrationStatus.CANCELLED,
            )
            .values(
                status=status.value,
                answers=cleaned,
                cancelled_at=None,
                source="self",
                queue_seq=NEXT_QUEUE_SEQ,
            )
            .returning(Registration)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    if registration is None:
        raise AlreadyRegistered
    return registration


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
    freeable = [RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED]
    if allow_checked_in:
        freeable.append(RegistrationStatus.CHECKED_IN)
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
    await release_member(session, actor, event, registration.user_id, now=now)
    if previous in SEATED:
        event.registered_count -= 1  # what the trigger just did in the database
        await _promote(session, event, actor)
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
        action="registration.removed",
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


async def promote_waitlisted(
    session: AsyncSession, event: Event, actor: Actor
) -> list[Registration]:
    """Give every free seat to the waitlist, first come first served, and mail each person.

    For the events domain to call in the transaction that raised the capacity (or removed it);
    it takes the event lock itself (harmless if already held). One audit row per promotion."""
    locked, _ = await lock_event(session, event)
    return await _promote(session, locked, actor)


async def _promote(session: AsyncSession, event: Event, actor: Actor) -> list[Registration]:
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
    org_slug = await session.scalar(
        select(Organization.slug).where(Organization.id == event.org_id)
    )
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
        await queue_email(
            session,
            to=user.email,
            subject=f"You have a seat at {event.name}",
            body=(
                f"Hello {user.name or user.email},\n\n"
                f"A seat freed up at {event.name} and it is yours: you are now registered.\n"
                f"Your registration: /orgs/{org_slug}/events/{event.slug}\n\n"
                "If you cannot come any more, please cancel so the next person gets the seat.\n"
            ),
            user_id=user.id,
        )
    return promoted


# --- check-in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckIn:
    registration: Registration
    user: User
    already: bool


async def check_in(session: AsyncSession, access: EventAccess, code: str) -> CheckIn:
    """Check a person in by code. Idempotent: a second scan reports the first check-in."""
    row = (
        await session.execute(
            select(Registration, User)
            .join(User, User.id == Registration.user_id)
            .where(
                Registration.event_id == access.event.id,
                Registration.checkin_code == normalize_code(code),
            )
            .with_for_update(of=Registration)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise CheckinCodeNotFound
    registration, user = row[0], row[1]
    if registration.status == RegistrationStatus.CHECKED_IN:
        return CheckIn(registration, user, already=True)
    if registration.status != RegistrationStatus.REGISTERED:
        raise NotSeated(details={"status": registration.status})
    registration.status = RegistrationStatus.CHECKED_IN
    registration.checked_in_at = await db_now(session)
    registration.checked_in_by_id = access.actor.user.id if access.actor.user else None
    await session.flush()
    await record(
        session,
        access.actor,
        "registration.checked_in",
        resource_type="registration",
        resource_id=registration.id,
        org_id=access.event.org_id,
        details={"event": access.event.slug, "user_id": str(user.id)},
    )
    return CheckIn(registration, user, already=False)


# --- reading -------------------------------------------------------------------------------

SORTS = {
    "created": Registration.created_at,
    "name": User.name,
    "email": User.email,
    "status": Registration.status,
    "queue": Registration.queue_seq,
    "checked_in": Registration.checked_in_at,
}


def organizer_query(
    event: Event,
    *,
    status: str | None = None,
    checked_in: bool | None = None,
    q: str | None = None,
) -> Select[Registration, User]:
    query = (
        select(Registration, User)
        .join(User, User.id == Registration.user_id)
        .where(Registration.event_id == event.id)
    )
    if status is not None:
        query = query.where(Registration.status == status)
    if checked_in is not None:
        query = query.where(
            Registration.checked_in_at.is_not(None)
            if checked_in
            else Registration.checked_in_at.is_(None)
        )
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.name.ilike(pattern), User.email.ilike(pattern)))
    return query


async def list_for_organizer(
    session: AsyncSession,
    event: Event,
    *,
    status: str | None = None,
    checked_in: bool | None = None,
    q: str | None = None,
    sort: str = "created",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[tuple[Registration, User]], int]:
    """One page and the total, in two queries whatever the page size."""
    query = organizer_query(event, status=status, checked_in=checked_in, q=q)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    column = SORTS[sort]
    order = desc(column).nulls_last() if descending else asc(column).nulls_last()
    rows = await session.execute(query.order_by(order, Registration.id).limit(limit).offset(offset))
    return [(r[0], r[1]) for r in rows], int(total or 0)


async def list_mine(session: AsyncSession, user: User) -> list[tuple[Registration, Any, Any]]:
    """The caller's registrations in every organization (RLS: their own rows are readable).

    Events the caller may not read without a tenant (private ones of another organization)
    come back with no event or organization details."""
    rows = await session.execute(
        select(Registration, Event, Organization)
        .outerjoin(Event, Event.id == Registration.event_id)
        .outerjoin(Organization, Organization.id == Registration.org_id)
        .where(Registration.user_id == user.id)
        .order_by(Registration.created_at.desc(), Registration.id)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def timestamp(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""
