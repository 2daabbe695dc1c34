"""Check-in at the door: a person's code (typed or scanned from the QR) marks their seat taken.

The registration row is locked (`FOR UPDATE`); checking in twice changes nothing and reports the
first check-in (and writes no second `registration.checked_in` event). Only a registered seat
checks in (not the waitlist, not a pending or declined request, not a cancellation).

The desk also finds people by name or email (`search`, `desk_lookup`: one box; an exact code
checks in at once, anything else lists who matches), checks in from that list (`check_in_by_id`)
and undoes a mistaken check-in (`undo_check_in`: one guarded UPDATE, audited with the optional
reason, `registration.check_in_undone` in the outbox). The search reads only the event's
registrations (the `(event_id, …)` index bounds it by the event's size; the code is UNIQUE) and
returns at most `SEARCH_LIMIT` rows.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import segno
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import Conflict, NotFound
from hackops.events.access import EventAccess
from hackops.models import SEATED, Event, Registration, RegistrationStatus, User
from hackops.outbox import catalog
from hackops.outbox.service import emit


class CheckinCodeNotFound(NotFound):
    code = "checkin_code_not_found"
    message = "No registration of this event has that check-in code."


class NotSeated(Conflict):
    code = "not_seated"
    message = (
        "This person is not registered for a seat (waitlisted, awaiting approval, declined or "
        "cancelled)."
    )


class RegistrationMissing(NotFound):
    code = "registration_not_found"
    message = "No such registration."


class NotCheckedIn(Conflict):
    code = "not_checked_in"
    message = "This person is not checked in: there is no check-in to undo."


class NoMatch(NotFound):
    code = "no_match"
    message = "Nobody of this event has that check-in code, name or email."


#: The most people one desk search lists.
SEARCH_LIMIT = 20
#: The shortest name or email fragment searched (a code has 4 characters at least).
MIN_SEARCH = 2


def normalize_code(raw: str) -> str:
    """What a scanner or a person typed: spaces and dashes dropped, upper case."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def qr_png(code: str) -> bytes:
    """The check-in code as a QR code image (PNG, for mail: clients show no SVG): a full QR code
    with its 4-module quiet zone, 232 px for a 12-character code (`segno.make` would choose a
    Micro QR for so short a text, which many phone cameras do not read)."""
    buffer = io.BytesIO()
    segno.make_qr(code, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


@dataclass(frozen=True)
class CheckIn:
    registration: Registration
    user: User
    already: bool


def _locked(access: EventAccess) -> Select[Registration, User]:
    return (
        select(Registration, User)
        .join(User, User.id == Registration.user_id)
        .where(Registration.event_id == access.event.id)
        .with_for_update(of=Registration)
        .execution_options(populate_existing=True)
    )


async def check_in(session: AsyncSession, access: EventAccess, code: str) -> CheckIn:
    """Check a person in by code. Idempotent: a second scan reports the first check-in."""
    query = _locked(access).where(Registration.checkin_code == normalize_code(code))
    row = (await session.execute(query)).first()
    if row is None:
        raise CheckinCodeNotFound
    return await _check_in(session, access, row[0], row[1])


async def check_in_by_id(
    session: AsyncSession, access: EventAccess, registration_id: uuid.UUID
) -> CheckIn:
    """Check a person in from the desk's list. Idempotent, as by code."""
    row = (await session.execute(_locked(access).where(Registration.id == registration_id))).first()
    if row is None:
        raise RegistrationMissing
    return await _check_in(session, access, row[0], row[1])


async def _check_in(
    session: AsyncSession, access: EventAccess, registration: Registration, user: User
) -> CheckIn:
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
    await emit(
        session,
        access.actor,
        catalog.RegistrationCheckedIn(registration_id=registration.id, user_id=user.id),
        org_id=access.event.org_id,
        event_id=access.event.id,
    )
    return CheckIn(registration, user, already=False)


async def undo_check_in(
    session: AsyncSession,
    access: EventAccess,
    registration_id: uuid.UUID,
    *,
    reason: str = "",
) -> tuple[Registration, User]:
    """Undo a mistaken check-in: back to registered (the seat is kept; both states hold one).

    One guarded UPDATE (still checked in) decides, so undoing twice refuses the second with
    `not_checked_in` and writes nothing; audited with the time it undid and the reason given."""
    old = (
        select(Registration.checked_in_at)
        .where(Registration.id == registration_id)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            update(Registration)
            .where(
                Registration.id == registration_id,
                Registration.event_id == access.event.id,
                Registration.status == RegistrationStatus.CHECKED_IN,
            )
            .values(status=RegistrationStatus.REGISTERED, checked_in_at=None, checked_in_by_id=None)
            .returning(Registration, old)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).first()
    if row is None:
        found = (
            await session.execute(
                select(Registration, User)
                .join(User, User.id == Registration.user_id)
                .where(
                    Registration.id == registration_id,
                    Registration.event_id == access.event.id,
                )
            )
        ).first()
        if found is None:
            raise RegistrationMissing
        who = found[1].name or found[1].email
        raise NotCheckedIn(
            f"{who} is not checked in: there is no check-in to undo.",
            details={"status": found[0].status},
        )
    registration: Registration = row[0]
    user = await session.get_one(User, registration.user_id)
    details: dict[str, str] = {
        "event": access.event.slug,
        "user_id": str(user.id),
        "was_checked_in_at": row[1].isoformat() if row[1] is not None else "",
    }
    if reason.strip():
        details["reason"] = reason.strip()
    await record(
        session,
        access.actor,
        "registration.check_in_undone",
        resource_type="registration",
        resource_id=registration.id,
        org_id=access.event.org_id,
        details=details,
    )
    await emit(
        session,
        access.actor,
        catalog.RegistrationCheckInUndone(registration_id=registration.id, user_id=user.id),
        org_id=access.event.org_id,
        event_id=access.event.id,
    )
    return registration, user


async def search(session: AsyncSession, event: Event, text: str) -> list[tuple[Registration, User]]:
    """The event's registrations whose check-in code is `text`, or whose name or email contains
    it; the code's holder first, then by name; at most `SEARCH_LIMIT`."""
    text = text.strip()[:200]
    code = normalize_code(text)
    matches = []
    if len(code) >= 4:
        matches.append(Registration.checkin_code == code)
    if len(text) >= MIN_SEARCH:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches += [User.name.ilike(pattern), User.email.ilike(pattern)]
    if not matches:
        return []
    rows = await session.execute(
        select(Registration, User)
        .join(User, User.id == Registration.user_id)
        .where(Registration.event_id == event.id, or_(*matches))
        .order_by(
            (Registration.checkin_code == code).desc(),
            func.lower(User.name),
            User.email,
            Registration.id,
        )
        .limit(SEARCH_LIMIT)
    )
    return [(r[0], r[1]) for r in rows]


async def desk_lookup(
    session: AsyncSession, access: EventAccess, text: str
) -> CheckIn | list[tuple[Registration, User]]:
    """The desk's one box: a check-in code checks its holder in at once (a scanner types the code
    and Enter); anything else lists who matches by name or email. Nobody: `no_match`."""
    code = normalize_code(text)
    if 4 <= len(code) <= 64:
        row = (
            await session.execute(_locked(access).where(Registration.checkin_code == code))
        ).first()
        if row is not None:
            return await _check_in(session, access, row[0], row[1])
    found = await search(session, access.event, text)
    if not found:
        raise NoMatch
    return found


async def counts(session: AsyncSession, event: Event) -> tuple[int, int]:
    """(checked in, holding a seat) for the event, in one query."""
    row = (
        await session.execute(
            select(
                func.count().filter(Registration.status == RegistrationStatus.CHECKED_IN),
                func.count().filter(Registration.status.in_(SEATED)),
            ).where(Registration.event_id == event.id)
        )
    ).one()
    return int(row[0]), int(row[1])
