"""A person's registration in one statement: the seat decision, the row, the audit record and
the domain event with its dispatch job, in one round trip (issue 15, fewer statements per write).

It used to take six after the event's dependency (audit row, event lock, the row, outbox row,
its job, notify), with the seat lock held across four of them and the Python between. Now one
statement of data-modifying CTEs does all of it, and the lock is held for that statement and
the commit (which the API route sends with it, `db.final_write_session`):

- `ev` locks the event row (`FOR UPDATE`, the seat lock every seat transition takes, see
  `seats.py`) and decides under it: `closed` (`lifecycle.registration_open_sql`, the database
  clock `app_now()`), `pending` (approval required), `registered` (a free seat or no capacity),
  `waitlisted`, or `full`. In READ COMMITTED a locking read returns the newest committed row
  version once the lock is granted, so the counters it decides with are those of the last
  committed seat change; the trigger on registrations and the CHECK `registered_count <=
  capacity` still back the count.
- `reg` writes the row only for a seat, a waitlist place or a pending request: INSERT ... ON
  CONFLICT (event_id, user_id) DO NOTHING (UNIQUE keeps one per person; a concurrent attempt
  of the same person writes nothing), or, after a cancellation, a conditional UPDATE of the
  cancelled row to the back of the queue (a concurrent re-registration finds it no longer
  cancelled and writes nothing).
- `audited`, `emitted` and `queued` follow `reg` (nothing is written when it wrote nothing):
  the audit row (`audit.entry_values`), the outbox row chosen for the outcome among the
  prepared ones (`outbox.prepare`), its dispatch job through procrastinate's own
  `procrastinate_defer_jobs_v1`, and `pg_notify` for the broker relay.

The statement reports the outcome and the row; the service turns a refusal into its error.
Row-level security applies as for the separate statements (the request's tenant and actor).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.audit.service import entry_values
from hackops.events.lifecycle import registration_open_sql
from hackops.models import Event, Registration, RegistrationStatus, User
from hackops.outbox import catalog
from hackops.outbox.channels import NOTIFY_CHANNEL
from hackops.outbox.service import Prepared, prepare
from hackops.registrations.seats import new_checkin_code
from hackops.rows import driver_sql, fetch_one, hydrate, width

#: The outcomes that write a row; the others (`closed`, `full`) are refusals.
WRITES = (RegistrationStatus.PENDING, RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
CLOSED, FULL = "closed", "full"
_REG_COLUMNS = [c.name for c in Registration.__table__.columns]

# The f-strings below interpolate this module's constants and the model's column names only.
_DECIDE = f"""
WITH ev AS (
  SELECT e.id, e.org_id,
         CASE
           WHEN NOT {registration_open_sql("e")} THEN '{CLOSED}'
           WHEN e.approval_required THEN 'pending'
           WHEN e.capacity IS NULL OR e.registered_count < e.capacity THEN 'registered'
           WHEN e.waitlist_enabled THEN 'waitlisted'
           ELSE '{FULL}'
         END AS outcome
    FROM events e
   WHERE e.id = :event_id
     FOR UPDATE
), chosen AS (
  SELECT ev.id AS event_id, ev.org_id, ev.outcome, CAST(:emits AS jsonb) -> ev.outcome AS emit
    FROM ev
   WHERE ev.outcome IN ('pending', 'registered', 'waitlisted')
), reg AS ("""  # noqa: S608

_INSERT = """
  INSERT INTO registrations (id, org_id, event_id, user_id, status, answers, checkin_code)
  SELECT :id, c.org_id, c.event_id, :user_id, c.outcome, :answers, :checkin_code
    FROM chosen c
      ON CONFLICT (event_id, user_id) DO NOTHING
  RETURNING registrations.*"""

_AGAIN = """
  UPDATE registrations r
     SET status = c.outcome, answers = :answers, cancelled_at = NULL, source = 'self',
         queue_seq = nextval(pg_get_serial_sequence('registrations', 'queue_seq'))
    FROM chosen c
   WHERE r.id = :id AND r.event_id = c.event_id AND r.status = 'cancelled'
  RETURNING r.*"""

_FOLLOW = f"""
), audited AS (
  INSERT INTO audit_log (id, org_id, actor_id, action, resource_type, resource_id, details, ip,
                         user_agent)
  SELECT a.id, a.org_id, a.actor_id, a.action, a.resource_type, a.resource_id, a.details, a.ip,
         a.user_agent
    FROM reg, jsonb_populate_record(NULL::audit_log, CAST(:audit AS jsonb)) a
), emitted AS (
  INSERT INTO outbox_events (id, type, version, org_id, event_id, actor_id, subject_type,
                             subject_id, payload)
  SELECT o.id, o.type, o.version, c.org_id, c.event_id, reg.user_id, o.subject_type,
         o.subject_id, o.payload
    FROM reg, chosen c, jsonb_populate_record(NULL::outbox_events, c.emit -> 'row') o
), queued AS (
  SELECT procrastinate_defer_jobs_v1(
           ARRAY[jsonb_populate_record(NULL::procrastinate_job_to_defer_v1, c.emit -> 'job')]
         ) AS jobs,
         pg_notify(:channel, '') AS notified
    FROM reg, chosen c
)
SELECT {", ".join(f"reg.{name}" for name in _REG_COLUMNS)}, ev.outcome,
       queued.jobs IS NOT NULL AS queued
  FROM ev LEFT JOIN reg ON true LEFT JOIN queued ON true
"""  # noqa: S608


NEW = driver_sql(_DECIDE + _INSERT + _FOLLOW)
AGAIN = driver_sql(_DECIDE + _AGAIN + _FOLLOW)


@dataclass(frozen=True)
class Written:
    """What the statement decided (`outcome`) and the row it wrote (None: it wrote nothing, a
    refusal or a concurrent attempt of the same person)."""

    outcome: str
    registration: Registration | None


def _emits(registration_id: uuid.UUID, user_id: uuid.UUID) -> dict[str, Prepared]:
    """The domain event of each outcome that writes a row; the statement writes the one it
    decides."""
    created = catalog.RegistrationCreated
    return {
        RegistrationStatus.PENDING: prepare(
            catalog.RegistrationRequested(registration_id=registration_id, user_id=user_id)
        ),
        RegistrationStatus.REGISTERED: prepare(
            created(registration_id=registration_id, user_id=user_id, status="registered")
        ),
        RegistrationStatus.WAITLISTED: prepare(
            created(registration_id=registration_id, user_id=user_id, status="waitlisted")
        ),
    }


async def write(
    session: AsyncSession,
    actor: Actor,
    event: Event,
    user: User,
    *,
    registration_id: uuid.UUID,
    again: bool,
    answers: dict[str, Any],
) -> Written | None:
    """Decide and write in one statement (the module's docstring); None when the event is gone.
    `again`: the person's cancelled registration `registration_id` is reused."""
    audit = entry_values(
        actor,
        "registration.created",
        resource_type="registration",
        resource_id=registration_id,
        org_id=event.org_id,
        details={"event": event.slug, "again": again},
    )
    emits = _emits(registration_id, user.id)
    params = {
        "event_id": event.id,
        "user_id": user.id,
        "id": registration_id,
        "answers": Jsonb(answers),
        "checkin_code": new_checkin_code(),
        "audit": json.dumps(audit, default=str),
        "emits": json.dumps({k: {"row": p.row, "job": p.job} for k, p in emits.items()}),
        "channel": NOTIFY_CHANNEL,
    }
    # On the driver (`hackops.rows`): the row is the registration's columns, then the outcome.
    row = await fetch_one(session, AGAIN if again else NEW, params, final=True)
    if row is None:
        return None
    written = row[0] is not None
    registration = hydrate(session, Registration, row[:_WIDTH], refresh=True) if written else None
    return Written(outcome=row[_WIDTH], registration=registration)


_WIDTH = width(Registration)
