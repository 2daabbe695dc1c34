"""CSV into an event's registrations: the organizer's bulk import. (The export is one of
the organizer exports, `hackops.exports`.)

Import (`email,name[,status]`, header required, UTF-8):
- Every row is validated first; the report lists each bad row with its row number (the header
  is row 1), column and message.
- All or nothing by default: one bad row and nothing is imported. With `partial=True` the good
  rows are imported and the bad ones reported.
- Users missing on the platform are created without a password and unverified (they set one
  through "forgot password"); existing users are matched on the normalized email. The report
  does not say which rows had an account already: an organizer must not learn who is on the
  platform by importing addresses (account enumeration).
- Seats are given in file order under the event lock: `registered` rows get a seat while seats
  last, then the waitlist (or are reported as not seated when the waitlist is off); `waitlisted`
  rows go to the waitlist. People already registered or waitlisted are left as they are;
  cancelled registrations are reused. Windows, questions and domain rules do not apply: the
  organizer decides. One audit row per import, with the counts.
- Users and registrations are written in batches (multi-row INSERT ... ON CONFLICT).
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import InvalidEmail, normalize_email
from hackops.audit.service import record
from hackops.errors import ValidationFailed
from hackops.events.access import EventAccess
from hackops.models import Registration, RegistrationStatus, User, new_id
from hackops.registrations.seats import free_seats, lock_event, new_checkin_code, next_queue_seq

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
BATCH = 1000
IMPORTABLE = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)


class ImportInvalid(ValidationFailed):
    code = "import_invalid"
    message = "Some rows are not valid; nothing was imported. See details.errors."


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    registered: int = 0
    waitlisted: int = 0
    unchanged: int = 0
    not_seated: list[int] = field(default_factory=list)  # row numbers refused: full, no waitlist
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class GoodRow:
    row: int
    email: str
    name: str
    status: RegistrationStatus


def parse(data: bytes) -> tuple[list[GoodRow], list[RowError], int]:
    """Validate every row; returns the good rows, the errors and the number of data rows."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowError(1, "", "The file is not UTF-8 text.")], 0
    reader = csv.reader(io.StringIO(content, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in ("email", "name") if c not in header]
    if missing:
        return (
            [],
            [RowError(1, c, "Missing column (the header needs email,name).") for c in missing],
            0,
        )
    unknown = [c for c in header if c not in ("email", "name", "status")]
    if unknown:
        return [], [RowError(1, c, "Unknown column.") for c in unknown], 0
    index = {name: header.index(name) for name in header}
    good: list[GoodRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    count = 0
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines are not rows
        count += 1
        if count > MAX_IMPORT_ROWS:
            errors.append(RowError(number, "", f"At most {MAX_IMPORT_ROWS} rows per import."))
            break
        if len(cells) != len(header):
            errors.append(RowError(number, "", f"Expected {len(header)} cells, got {len(cells)}."))
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            return cells[index[name]].strip() if name in index else ""

        row_errors: list[RowError] = []
        email = ""
        try:
            email = normalize_email(cell("email"))
        except InvalidEmail:
            row_errors.append(RowError(number, "email", "Not a valid email address."))
        else:
            if email in seen:
                row_errors.append(RowError(number, "email", f"Same person as row {seen[email]}."))
        name = cell("name")
        if not 1 <= len(name) <= 200:
            row_errors.append(RowError(number, "name", "A name of 1 to 200 characters."))
        status = cell("status").lower() or RegistrationStatus.REGISTERED
        if status not in IMPORTABLE:
            row_errors.append(RowError(number, "status", "Either registered or waitlisted."))
        if row_errors:
            errors.extend(row_errors)
            continue
        seen[email] = number
        good.append(GoodRow(number, email, name, RegistrationStatus(status)))
    return good, errors, count


async def import_rows(
    session: AsyncSession, access: EventAccess, data: bytes, *, partial: bool = False
) -> ImportReport:
    """Validate, then (all good, or `partial`) upsert users and register them. See the module."""
    good, errors, count = parse(data)
    report = ImportReport(rows=count, errors=errors)
    if errors and not partial:
        raise ImportInvalid(details={"errors": [e.__dict__ for e in errors], "imported": 0})
    if not good:
        return report
    user_ids = await _upsert_users(session, good)
    event, _ = await lock_event(session, access.event)
    existing: dict[uuid.UUID, Registration] = {}
    ids = list(user_ids.values())
    for start in range(0, len(ids), BATCH):
        for registration in await session.scalars(
            select(Registration).where(
                Registration.event_id == event.id,
                Registration.user_id.in_(ids[start : start + BATCH]),
            )
        ):
            existing[registration.user_id] = registration
    seats = free_seats(event)
    new_rows: list[dict[str, Any]] = []
    for row in good:
        user_id = user_ids[row.email]
        current = existing.get(user_id)
        if current is not None and current.status != RegistrationStatus.CANCELLED:
            report.unchanged += 1
            continue
        status = row.status
        if status == RegistrationStatus.REGISTERED and seats is not None:
            if seats > 0:
                seats -= 1
            elif event.waitlist_enabled:
                status = RegistrationStatus.WAITLISTED
            else:
                report.not_seated.append(row.row)
                continue
        if status == RegistrationStatus.WAITLISTED and not event.waitlist_enabled:
            report.not_seated.append(row.row)
            continue
        if status == RegistrationStatus.REGISTERED:
            report.registered += 1
        else:
            report.waitlisted += 1
        if current is not None:
            current.status = status
            current.cancelled_at = None
            current.source = "import"
            current.queue_seq = await next_queue_seq(session)
            continue
        new_rows.append(
            {
                "id": new_id(),
                "org_id": event.org_id,
                "event_id": event.id,
                "user_id": user_id,
                "status": status,
                "checkin_code": new_checkin_code(),
                "source": "import",
            }
        )
    await session.flush()
    for start in range(0, len(new_rows), BATCH):
        # queue_seq follows the list order: FIFO is the file's order.
        await session.execute(insert(Registration), new_rows[start : start + BATCH])
    await record(
        session,
        access.actor,
        "registration.imported",
        resource_type="event",
        resource_id=event.id,
        org_id=event.org_id,
        details={
            "rows": report.rows,
            "registered": report.registered,
            "waitlisted": report.waitlisted,
            "unchanged": report.unchanged,
            "not_seated": len(report.not_seated),
            "bad_rows": len({e.row for e in report.errors}),
        },
    )
    return report


async def _upsert_users(session: AsyncSession, rows: list[GoodRow]) -> dict[str, uuid.UUID]:
    """Create the missing users (no password, unverified); return every row's user id."""
    ids: dict[str, uuid.UUID] = {}
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        await session.execute(
            pg_insert(User)
            .values([{"id": new_id(), "email": r.email, "name": r.name} for r in batch])
            .on_conflict_do_nothing(index_elements=[User.email])
        )
        found = await session.execute(
            select(User.email, User.id).where(User.email.in_([r.email for r in batch]))
        )
        ids.update({row[0]: row[1] for row in found})
    return ids
