"""A large export is read through a server-side cursor, a batch at a time, never all at once;
its cursor is closed when the table is read or abandoned. (Memory over a whole export is
measured by `bench/exports.py`.)"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.events.access import EventAccess, load_event_access
from hackops.exports import service
from hackops.exports.formats import Format, spool
from hackops.exports.table import Dataset
from hackops.tenancy import set_tenant
from tests.people import build_cast

MANY = 1200


async def many_registrations(session: AsyncSession, n: int) -> EventAccess:
    cast = await build_cast(session)
    await set_tenant(session, cast.org.id)
    await session.execute(
        text(
            "INSERT INTO users (id, email, name)"
            " SELECT gen_random_uuid(), 'bulk' || n || '@stream.example', 'Bulk ' || n"
            " FROM generate_series(1, :n) AS n"
        ),
        {"n": n},
    )
    await session.execute(
        text(
            "INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code,"
            " source) SELECT gen_random_uuid(), :org, :event, u.id, 'registered',"
            " upper(substr(md5(u.id::text), 1, 10)), 'import'"
            " FROM users u WHERE u.email LIKE 'bulk%@stream.example'"
        ),
        {"org": cast.org.id, "event": cast.event.id},
    )
    return await load_event_access(
        session, Actor(cast.users["owner"]), cast.org.slug, cast.event.slug
    )


async def open_cursors(session: AsyncSession) -> list[str]:
    return list((await session.execute(text("SELECT statement FROM pg_cursors"))).scalars())


async def test_rows_come_through_a_cursor_one_batch_at_a_time(session: AsyncSession) -> None:
    access = await many_registrations(session, MANY)
    table = await service.open_table(session, access, Dataset.REGISTRATIONS)
    assert await open_cursors(session) == []  # nothing is read before the first row is asked
    rows = aiter(table.rows)
    first = await anext(rows)
    assert first[0].endswith("@example.com") or first[0].endswith("@stream.example")
    cursors = await open_cursors(session)
    assert len(cursors) == 1
    assert "FROM registrations JOIN users" in cursors[0]
    count = 1 + len([row async for row in rows])
    assert count == MANY + 4  # the cast's four registrations too
    assert await open_cursors(session) == []


async def test_an_abandoned_export_closes_its_cursor(session: AsyncSession) -> None:
    access = await many_registrations(session, 600)
    table = await service.open_table(session, access, Dataset.REGISTRATIONS)
    rows = table.rows
    await anext(rows)
    assert len(await open_cursors(session)) == 1
    await rows.aclose()  # a writer that failed half-way
    assert await open_cursors(session) == []


async def test_the_spool_holds_every_row(session: AsyncSession) -> None:
    access = await many_registrations(session, MANY)
    table = await service.open_table(session, access, Dataset.REGISTRATIONS)
    spooled = await spool(table, Format.CSV)
    try:
        lines = spooled.read().decode("utf-8-sig").splitlines()
    finally:
        spooled.close()
    assert len(lines) == 1 + MANY + 4
    assert await open_cursors(session) == []
