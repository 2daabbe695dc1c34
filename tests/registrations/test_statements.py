"""How many statements a registration costs (issue 15), counted on the driver's connection, so
the job procrastinate defers on it counts too.

The route's own work is one statement whatever the outcome (`registrations.write`); the
request's dependencies (the caller, the event, their roles, the caller's registration: the
request gate's one statement) come before it. The one statement writes what the separate
statements wrote: the same audit row, the same outbox row and dispatch job as `outbox.emit`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx2
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.actor import Actor
from hackops.errors import Conflict
from hackops.events.access import load_event_access
from hackops.models import User
from hackops.outbox import catalog
from hackops.outbox.service import emit
from hackops.registrations import service
from hackops.tenancy import set_actor
from tests.accounts.helpers import bearer
from tests.helpers import FRESH_CONTEXT_MARK, frozen_time
from tests.people import person
from tests.registrations.helpers import NOW, Scene, as_admin, scene

#: What the request's dependencies cost before the route's work: one statement, the request gate
#: (`hackops.gate`: token, actor, tenant, organization, event, roles, the caller's registration).
#: Before issue 15 it was 8, and the route's own work 6 (audit, lock, row, outbox, job, notify).
DEPENDENCIES = 1


@contextmanager
def driver_statements(connection: AsyncConnection, raw: Any) -> Iterator[list[str]]:
    """Every statement sent through `raw` (the test's driver connection, which the app's
    requests share), SQLAlchemy's and procrastinate's alike; savepoint bookkeeping and the
    tests' own context resets are not counted."""
    seen: list[str] = []

    class Counting(psycopg.AsyncCursor[Any]):
        async def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            sql = query if isinstance(query, str) else str(query)
            plumbing = sql.startswith(FRESH_CONTEXT_MARK) or sql.lstrip().upper().startswith(
                ("SAVEPOINT", "RELEASE", "ROLLBACK TO")
            )
            if not plumbing:
                seen.append(sql)
            return await super().execute(query, *args, **kwargs)

    previous = raw.cursor_factory
    raw.cursor_factory = Counting
    try:
        yield seen
    finally:
        raw.cursor_factory = previous


async def _raw(connection: AsyncConnection) -> Any:
    return (await connection.get_raw_connection()).driver_connection


async def _register_counted(
    session: AsyncSession, connection: AsyncConnection, s: Scene, user: User
) -> tuple[list[str], Any]:
    """Register `user` by the service, as the route does after its dependencies; the
    statements the service sent and what it returned (or the error it raised)."""
    actor = Actor(user, ip="203.0.113.9", user_agent="statement counter")
    await set_actor(session, user.id)
    access = await load_event_access(session, actor, s.org.slug, s.event.slug)
    raw = await _raw(connection)
    outcome: Any
    with driver_statements(connection, raw) as seen:
        try:
            outcome = await service.register(session, access, answers={})
        except Conflict as refused:
            outcome = refused
    return seen, outcome


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"capacity": 1}, "registered"),
        ({"capacity": None}, "registered"),
        ({"capacity": 0}, "waitlisted"),
        ({"capacity": 0, "waitlist_enabled": False}, "event_full"),
        ({"approval_required": True}, "pending"),
        ({"registration_closes_at": NOW - timedelta(days=1)}, "registration_closed"),
    ],
)
async def test_registering_is_one_statement_whatever_the_outcome(
    session: AsyncSession,
    connection: AsyncConnection,
    values: dict[str, Any],
    expected: str,
) -> None:
    async with frozen_time(connection, NOW):
        s = await scene(session, **values)
        user, _ = await person(session, verified=True)
        seen, outcome = await _register_counted(session, connection, s, user)
    got = outcome.code if isinstance(outcome, Conflict) else outcome.status
    assert got == expected
    assert len(seen) == 1, seen


async def test_registering_again_after_cancelling_is_one_statement(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await scene(session, capacity=3)
    user, token = await person(session, verified=True)
    assert (await client.post(f"{s.base}/registrations", headers=bearer(token), json={})).is_success
    cancel = await client.post(f"{s.base}/registrations/me/cancel", headers=bearer(token))
    assert cancel.json()["status"] == "cancelled"
    seen, again = await _register_counted(session, connection, s, user)
    assert again.status == "registered"
    assert again.cancelled_at is None
    assert len(seen) == 1, seen


async def test_through_the_api_the_write_is_the_last_and_only_writing_statement(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await scene(session, capacity=3)
    _, token = await person(session, verified=True)
    raw = await _raw(connection)
    with driver_statements(connection, raw) as seen:
        response = await client.post(f"{s.base}/registrations", headers=bearer(token), json={})
    assert response.status_code == 201, response.text
    writes = [i for i, sql in enumerate(seen) if "INSERT INTO" in sql]
    assert writes == [len(seen) - 1], seen
    assert len(seen) == DEPENDENCIES + 1, seen


async def test_the_one_statement_writes_what_emit_and_record_write(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await scene(session, capacity=3)
    user, _ = await person(session, verified=True)
    _, registration = await _register_counted(session, connection, s, user)
    await as_admin(session)
    audit = (
        await session.execute(
            text(
                "SELECT org_id, actor_id, action, resource_type, details, host(ip) AS ip,"
                " user_agent FROM audit_log WHERE resource_id = :id"
            ),
            {"id": str(registration.id)},
        )
    ).one()
    assert audit._asdict() == {
        "org_id": s.org.id,
        "actor_id": user.id,
        "action": "registration.created",
        "resource_type": "registration",
        "details": {"event": s.event.slug, "again": False},
        "ip": "203.0.113.9",
        "user_agent": "statement counter",
    }

    # The same event written by `emit`, the separate statements' way: rows and jobs alike.
    payload = catalog.RegistrationCreated(
        registration_id=registration.id, user_id=user.id, status="registered"
    )
    reference = await emit(session, Actor(user), payload, org_id=s.org.id, event_id=s.event.id)
    rows = (
        await session.execute(
            text(
                "SELECT o.id = :reference AS by_emit, o.type, o.version, o.org_id, o.event_id,"
                " o.actor_id, o.subject_type, o.subject_id, o.payload, o.dispatched_at,"
                " o.published_at, j.queue_name, j.task_name, j.priority, j.lock,"
                " j.queueing_lock = 'outbox:' || o.id AS locked, j.args = jsonb_build_object("
                " 'event_id', o.id::text) AS args, j.status::text AS job_status,"
                " j.scheduled_at IS NULL AS now"
                " FROM outbox_events o JOIN procrastinate_jobs j"
                " ON j.args->>'event_id' = o.id::text"
                " WHERE o.subject_id = :registration ORDER BY o.seq"
            ),
            {"reference": reference.id, "registration": registration.id},
        )
    ).all()
    ours, by_emit = (row._asdict() for row in rows)
    assert (ours.pop("by_emit"), by_emit.pop("by_emit")) == (False, True)
    assert ours == by_emit
    assert (ours["locked"], ours["args"], ours["job_status"]) == (True, True, "todo")


async def test_a_refusal_writes_nothing(session: AsyncSession, connection: AsyncConnection) -> None:
    s = await scene(session, capacity=0, waitlist_enabled=False)
    user, _ = await person(session, verified=True)
    _, refused = await _register_counted(session, connection, s, user)
    assert isinstance(refused, service.EventFull)
    await as_admin(session)
    counts = (
        await session.execute(
            text(
                "SELECT (SELECT count(*) FROM registrations WHERE event_id = :e),"
                " (SELECT count(*) FROM audit_log WHERE action = 'registration.created'"
                " AND details->>'event' = :slug),"
                " (SELECT count(*) FROM outbox_events WHERE event_id = :e)"
            ),
            {"e": s.event.id, "slug": s.event.slug},
        )
    ).one()
    assert tuple(counts) == (0, 0, 0)
