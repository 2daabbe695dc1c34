"""A registration through the API commits with its write (`db.final_write_session`): the
event's seat lock is free as soon as the statement has run, not when the request's coroutine
next runs. Real commits (`committed_db`), the app's own engine and pool."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from hackops.config import Settings, to_libpq_url
from hackops.db import Database
from hackops.main import create_app
from hackops.registrations import service
from tests.factories import create_event, create_organization
from tests.helpers import serving
from tests.people import person

pytestmark = pytest.mark.slow


async def _event_and_people(database: Database, people: int) -> tuple[str, list[str]]:
    async with database.transaction() as session:
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        org = await create_organization(session, slug=f"final-{secrets.token_hex(3)}")
        event = await create_event(
            session, org, published_at=datetime.now(UTC) - timedelta(days=1), capacity=10
        )
        tokens = [(await person(session, verified=True))[1] for _ in range(people)]
        base = f"/api/v1/organizations/{org.slug}/events/{event.slug}/registrations"
    return base, tokens


async def _seat_lock_free(settings: Settings, base: str) -> bool:
    """Can another transaction take the event row's lock right now (NOWAIT)?"""
    slug = base.split("/events/")[1].split("/")[0]
    async with await psycopg.AsyncConnection.connect(
        to_libpq_url(settings.database_admin_url or "")
    ) as conn:
        try:
            await conn.execute("SELECT 1 FROM events WHERE slug = %s FOR UPDATE NOWAIT", [slug])
        except psycopg.errors.LockNotAvailable:
            return False
        finally:
            await conn.rollback()
    return True


@pytest.mark.parametrize("idempotent", [False, True], ids=["plain", "idempotency key"])
async def test_the_seat_lock_is_free_once_the_write_has_run(
    settings: Settings, committed_db: Database, monkeypatch: pytest.MonkeyPatch, idempotent: bool
) -> None:
    """While the route still runs after its write, the event row is already unlocked (and the
    registration committed); with an Idempotency-Key the response is stored in the same
    transaction, so the commit waits for the route (and the lock with it)."""
    base, (token,) = await _event_and_people(committed_db, 1)
    seen: dict[str, Any] = {}
    real: Callable[..., Awaitable[Any]] = service.register

    async def register_then_look(*args: Any, **kwargs: Any) -> Any:
        registration = await real(*args, **kwargs)
        seen["lock_free"] = await _seat_lock_free(settings, base)
        async with committed_db.transaction() as other:
            await other.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
            seen["visible"] = await other.scalar(
                text("SELECT count(*) FROM registrations WHERE id = :id"), {"id": registration.id}
            )
        return registration

    monkeypatch.setattr(service, "register", register_then_look)
    headers = {"Authorization": f"Bearer {token}"}
    if idempotent:
        headers["Idempotency-Key"] = secrets.token_hex(8)
    app = create_app(settings, database=committed_db)
    async with serving(app) as http:
        response = await http.post(base, json={"answers": {}}, headers=headers)
        assert response.status_code == 201, response.text
        if idempotent:  # the replay still answers the stored response
            again = await http.post(base, json={"answers": {}}, headers=headers)
            assert again.status_code == 201
            assert again.json()["id"] == response.json()["id"]
    assert seen == {"lock_free": not idempotent, "visible": 0 if idempotent else 1}
    async with committed_db.transaction() as session:
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        rows = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM registrations WHERE id = :id),"
                    " (SELECT count(*) FROM audit_log WHERE resource_id = :sid"
                    "   AND action = 'registration.created'),"
                    " (SELECT count(*) FROM outbox_events WHERE subject_id = :id)"
                ),
                {"id": response.json()["id"], "sid": response.json()["id"]},
            )
        ).one()
    assert tuple(rows) == (1, 1, 1)


async def test_many_at_once_fill_the_seats_exactly(
    settings: Settings, committed_db: Database
) -> None:
    """Thirty people for ten seats through the API at once: ten seats, twenty on the waitlist,
    the counter equal to the rows (the commit rides with each write)."""
    base, tokens = await _event_and_people(committed_db, 30)
    app = create_app(settings, database=committed_db)
    async with serving(app) as http:
        answers = await asyncio.gather(
            *(
                http.post(base, json={"answers": {}}, headers={"Authorization": f"Bearer {t}"})
                for t in tokens
            )
        )
    assert [r.status_code for r in answers] == [201] * 30
    statuses = sorted(r.json()["status"] for r in answers)
    assert statuses == ["registered"] * 10 + ["waitlisted"] * 20
    async with committed_db.transaction() as session:
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        slug = base.split("/events/")[1].split("/")[0]
        counted = await session.scalar(
            text("SELECT registered_count FROM events WHERE slug = :s"), {"s": slug}
        )
    assert counted == 10
