"""The public gallery's search table (`gallery_entries`, migration 0034) under row-level security.

It holds only approved projects of public galleries, whatever the tenant set: a draft, a
submitted, rejected, disqualified or withdrawn project, a project of a closed, private or
unpublished event's gallery is never in it, under any tenant. Its rows follow every change in
the transaction of the change, also when an approval races the gallery's opening. The
application's role may only read it. And it is why the search is fast: its GIN indexes serve
`@@` and `@>` (on `submissions` RLS forbids that)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from hackops.db import Database
from hackops.models import Event, GalleryEntry, Organization, Submission
from tests.factories import create_event, create_organization, create_submission, create_team

SHOWN = {"published_at": func.app_now(), "gallery_opened_at": func.app_now()}
HIDDEN_EVENTS = {
    "gallery closed": {"published_at": func.app_now()},
    "private event": {**SHOWN, "visibility": "private"},
    "unpublished event": {"gallery_opened_at": func.app_now()},
}
UNAPPROVED = ("draft", "submitted", "under_review", "rejected", "disqualified")


async def project(session: AsyncSession, event: Event, **values: Any) -> Submission:
    team = await create_team(session, event)
    return await create_submission(session, team, **{"status": "approved", **values})


async def entries(session: AsyncSession, tenant: uuid.UUID | None = None) -> set[uuid.UUID]:
    """The entries the app's role reads with `tenant` set (None: no tenant)."""
    await session.execute(
        text("SELECT set_config('hackops.org_id', :t, true)"), {"t": str(tenant or "")}
    )
    return set(await session.scalars(select(GalleryEntry.submission_id)))


async def test_only_approved_projects_of_public_galleries_whatever_the_tenant(
    session: AsyncSession,
) -> None:
    a, b = await create_organization(session), await create_organization(session)
    public_a = await create_event(session, a, **SHOWN)
    public_b = await create_event(session, b, **SHOWN)
    shown = {(await project(session, public_a)).id, (await project(session, public_b)).id}
    for status in UNAPPROVED:
        await project(session, public_a, status=status)
    for org in (a, b):
        for values in HIDDEN_EVENTS.values():
            await project(session, await create_event(session, org, **values))
    for tenant in (None, a.id, b.id, uuid.uuid4()):
        assert await entries(session, tenant) == shown


async def test_entries_follow_each_change_in_its_transaction(session: AsyncSession) -> None:
    event_ = await create_event(session, **SHOWN)
    team = await create_team(session, event_, name="Sprouts")
    submission = await create_submission(session, team, status="approved", title="Greenhouse")
    other = await project(session, event_)

    async def shown() -> list[tuple[str, str]]:
        rows = await session.execute(
            select(GalleryEntry.title, GalleryEntry.team_name)
            .where(GalleryEntry.event_id == event_.id)
            .order_by(GalleryEntry.title)
        )
        return [(r[0], r[1]) for r in rows]

    async def change(row: Any, **values: Any) -> None:
        for name, value in values.items():
            setattr(row, name, value)
        await session.flush()

    assert ("Greenhouse", "Sprouts") in await shown()
    await change(submission, title="Glasshouse", description="Tomatoes in winter")
    await change(team, name="Roots")
    assert ("Glasshouse", "Roots") in await shown()
    match = func.websearch_to_tsquery("english", "tomatoes")
    found = await session.scalars(
        select(GalleryEntry.submission_id).where(GalleryEntry.search.op("@@")(match))
    )
    assert list(found) == [submission.id]
    for status in UNAPPROVED:  # rejected, withdrawn (reopened: back to draft), ...
        await change(submission, status=status)
        assert await entries(session, event_.org_id) == {other.id}
    await change(submission, status="approved")
    assert await entries(session, event_.org_id) == {submission.id, other.id}
    for field, hidden, public in (
        ("gallery_opened_at", None, func.app_now()),
        ("visibility", "private", "unlisted"),
        ("published_at", None, func.app_now()),
    ):
        await change(event_, **{field: hidden})
        assert await entries(session, event_.org_id) == set()
        await change(event_, **{field: public})
        assert await entries(session, event_.org_id) == {submission.id, other.id}
    await session.delete(other)
    await session.flush()
    assert await entries(session) == {submission.id}


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO gallery_entries SELECT * FROM gallery_entries",
        "UPDATE gallery_entries SET title = 'Forged'",
        "DELETE FROM gallery_entries",
        "SELECT gallery_sync(:event, NULL)",
    ],
    ids=["insert", "update", "delete", "sync"],
)
async def test_the_app_role_only_reads_entries(session: AsyncSession, statement: str) -> None:
    event_ = await create_event(session, **SHOWN)
    await project(session, event_)
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    with pytest.raises(ProgrammingError, match="permission denied"):
        async with session.begin_nested():
            await session.execute(text(statement), {"event": event_.id})


@contextmanager
def gallery_statements(connection: AsyncConnection) -> Iterator[list[tuple[str, Any]]]:
    """The statements (and their parameters) that search the gallery."""
    seen: list[tuple[str, Any]] = []
    sync_conn = connection.sync_connection
    assert sync_conn is not None

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "websearch_to_tsquery" in statement:
            seen.append((statement, parameters))

    event.listen(sync_conn, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(sync_conn, "before_cursor_execute", record)


async def plan(session: AsyncSession, statement: str, **parameters: Any) -> str:
    rows = await session.execute(text("EXPLAIN " + statement), parameters)
    return "\n".join(rows.scalars())


async def test_the_gallery_search_reads_the_entries_whose_gin_indexes_serve_it_under_rls(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    """As the app's role with RLS on and sequential scans off (so a plan shows what is possible,
    not what a table of a few rows prefers): on `gallery_entries` `@@` and `@>` are index
    conditions of their GIN indexes; on `submissions` the tenant's policy comes first and no
    index serves them. The API's anonymous search reads `gallery_entries`, and finds only the
    event's own matches."""
    org: Organization = await create_organization(session)
    showcase = await create_event(session, org, **SHOWN)
    other = await create_event(session, await create_organization(session), **SHOWN)
    for number in range(12):
        title = f"Solar {number}" if number % 4 == 0 else "Bikes"
        await project(session, showcase, title=title, technologies=["rust"])
    await project(session, other, title="Solar elsewhere")
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    search = "search @@ websearch_to_tsquery('english', 'solar')"
    tagged = "technologies @> ARRAY['rust']::varchar[]"
    for condition, index in ((search, "search"), (tagged, "technologies")):
        entries_plan = await plan(
            session, f"SELECT submission_id FROM gallery_entries WHERE {condition}"
        )
        assert f"Bitmap Index Scan on ix_gallery_entries_{index}" in entries_plan, entries_plan
        submissions_plan = await plan(session, f"SELECT id FROM submissions WHERE {condition}")
        assert f"ix_submissions_{index}" not in submissions_plan, submissions_plan

    path = f"/api/v1/organizations/{org.slug}/events/{showcase.slug}/gallery"
    with gallery_statements(connection) as seen:
        found = await client.get(path, params={"q": "solar", "technology": "Rust"})
    titles = [item["title"] for item in found.json()["items"]]
    assert titles == ["Solar 0", "Solar 4", "Solar 8"]
    [(statement, parameters)] = seen
    result = await connection.exec_driver_sql("EXPLAIN " + statement, parameters)
    service_plan = "\n".join(result.scalars())
    assert " on gallery_entries" in service_plan, service_plan
    assert "submissions" not in service_plan, service_plan


async def test_a_closed_gallery_is_a_404_and_has_no_entries(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """A closed gallery stays a 404 to visitors although its projects are approved."""
    org = await create_organization(session)
    closed = await create_event(session, org, published_at=func.app_now())
    await project(session, closed, title="Secret solar")
    path = f"/api/v1/organizations/{org.slug}/events/{closed.slug}/gallery"
    assert (await client.get(path, params={"q": "solar"})).status_code == 404
    assert await session.scalar(select(func.count()).select_from(GalleryEntry)) == 0


SCENE = (
    "INSERT INTO organizations (id, slug, name) VALUES (:org, :slug, :slug)",
    "INSERT INTO users (id, email) VALUES (:user, :slug || '@example.com')",
    "INSERT INTO events (id, org_id, slug, name, published_at)"
    " VALUES (:event, :org, :slug, :slug, now())",
    "INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code)"
    " VALUES (gen_random_uuid(), :org, :event, :user, 'registered', :slug)",
    "INSERT INTO teams (id, org_id, event_id, name, captain_id, join_code, max_members)"
    " VALUES (:team, :org, :event, 'Team', :user, :slug, 5)",
    "INSERT INTO submissions (id, org_id, event_id, team_id, status, title, version_count)"
    " VALUES (:sub, :org, :event, :team, 'submitted', 'Racing', 1)",
)
OPEN_GALLERY = "UPDATE events SET gallery_opened_at = now() WHERE id = :event"
APPROVE = "UPDATE submissions SET status = 'approved' WHERE id = :sub"


@pytest.mark.parametrize("first", ["open the gallery", "approve"])
async def test_an_approval_racing_the_gallerys_opening_is_never_lost(
    committed_db: Database, admin_engine: AsyncEngine, first: str
) -> None:
    """Two transactions, each unaware of the other's uncommitted change: whichever writes first,
    the second waits for its commit (the event row FOR SHARE in `gallery_sync`) and then reads
    it, so the approved project is in the opened gallery."""
    ids = {k: uuid.uuid4() for k in ("org", "user", "event", "team", "sub")}
    ids_and_slug = {**ids, "slug": f"race-{ids['org'].hex[:8]}"}
    async with admin_engine.begin() as conn:
        for statement in SCENE:
            await conn.execute(text(statement), ids_and_slug)
    statements = [OPEN_GALLERY, APPROVE] if first == "open the gallery" else [APPROVE, OPEN_GALLERY]
    tenant = text("SELECT set_config('hackops.org_id', :org, true)")
    async with committed_db.engine.connect() as one, committed_db.engine.connect() as two:
        for conn in (one, two):
            await conn.execute(tenant, {"org": str(ids["org"])})
        await one.execute(text(statements[0]), ids)
        second = asyncio.ensure_future(two.execute(text(statements[1]), ids))
        done, _ = await asyncio.wait({second}, timeout=1)
        assert not done  # it waits for the first transaction
        await one.commit()
        await second
        await two.commit()
        count = await two.scalar(
            text("SELECT count(*) FROM gallery_entries WHERE submission_id = :sub"), ids
        )
    assert count == 1
