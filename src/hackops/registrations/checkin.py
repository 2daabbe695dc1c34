"""Check-in at the door: a person's code (typed or scanned from the QR) marks their seat taken.

The registration row is locked (`FOR UPDATE`); checking in twice changes nothing and reports the
first check-in (and writes no second `registration.checked_in` event). Only a registered seat
checks in (not the waitlist, not a cancellation).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import Conflict, NotFound
from hackops.events.access import EventAccess
from hackops.models import Registration, RegistrationStatus, User
from hackops.outbox import catalog
from hackops.outbox.service import emit


class CheckinCodeNotFound(NotFound):
    code = "checkin_code_not_found"
    message = "No registration of this event has that check-in code."


class NotSeated(Conflict):
    code = "not_seated"
    message = "This person is not registered for a seat (waitlisted or cancelled)."


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
    await emit(
        session,
        access.actor,
        catalog.RegistrationCheckedIn(registration_id=registration.id, user_id=user.id),
        org_id=access.event.org_id,
        event_id=access.event.id,
    )
    return CheckIn(registration, user, already=False)
