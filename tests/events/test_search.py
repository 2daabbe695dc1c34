"""Public event search: full text ranked, fuzzy name match (pg_trgm or the ILIKE fallback),
filters, pagination; the SQL lifecycle state agrees with the Python one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.db import db_now
from hackops.events.lifecycle import EventState, state_at
from hackops.events.search import escape_like, search_events, state_sql
from hackops.models import Event, Organization
from tests.factories import create_event, create_organization
from tests.helpers import frozen_time

NOW = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)


async def published(session: AsyncSession, org: Organization, **fields: Any) -> Event:
    fields.setdefault("published_at", NOW - timedelta(days=30))
    return await create_event(session, org, **fields)


async def names(client: httpx2.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/api/v1/events", params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


@pytest.fixture
async def catalogue(session: AsyncSession) -> dict[str, Event]:
    acme = await create_organization(session, slug="acme", name="ACME")
    other = await create_organization(session, slug="other", name="Other")
    day = timedelta(days=1)
    events = {
        "robo": await published(
            session,
            acme,
            name="Robotics Cup",
            tagline="Build robots that play football",
            mode="in_person",
            venue="Hall",
            starts_at=NOW + 10 * day,
        ),
        "climate": await published(
            session,
            other,
            name="Climate Hack",
            description="Open data about the climate; robots welcome.",
            starts_at=NOW + 5 * day,
        ),
        "health": await published(
            session, other, name="Health Jam", tagline="Medicine", starts_at=NOW + 20 * day
        ),
        "past": await published(
            session,
            acme,
            name="Robot Retro",
            starts_at=NOW - 20 * day,
            archived_at=NOW - 2 * day,
        ),
        "draft": await create_event(session, acme, name="Robot Draft"),
        "unlisted": await published(session, acme, name="Robot Unlisted", visibility="unlisted"),
        "private": await published(session, other, name="Robot Private", visibility="private"),
    }
    return events


async def test_lists_only_published_public_events(
    client: httpx2.AsyncClient, connection: AsyncConnection, catalogue: dict[str, Event]
) -> None:
    async with frozen_time(connection, NOW):
        assert await names(client) == ["Climate Hack", "Robotics Cup", "Health Jam"]
        assert await names(client, state="archived") == ["Robot Retro"]
        assert await names(client, mode="in_person") == ["Robotics Cup"]
        response = await client.get("/api/v1/events")
    first = response.json()["items"][0]
    assert first["org_slug"] == "other"
    assert first["org_name"] == "Other"
    assert first["state"] == "registration_open"


async def test_full_text_is_ranked(
    client: httpx2.AsyncClient, connection: AsyncConnection, catalogue: dict[str, Event]
) -> None:
    async with frozen_time(connection, NOW):
        # Stemmed: "robot" matches the tagline's "robots" and the description's "robots"; the
        # tagline weighs more than the description.
        assert await names(client, q="robot") == ["Robotics Cup", "Climate Hack"]
        assert await names(client, q="football robots") == ["Robotics Cup"]
        assert await names(client, q="zebra") == []
        assert await names(client, q='"open data"') == ["Climate Hack"]
        assert await names(client, q="medicine") == ["Health Jam"]


async def test_fuzzy_name_match_with_pg_trgm(
    client: httpx2.AsyncClient, app: Any, connection: AsyncConnection, catalogue: dict[str, Event]
) -> None:
    if "pg_trgm" not in app.state.db.extensions:
        pytest.skip("pg_trgm is not installed on this server (the fallback is tested below)")
    async with frozen_time(connection, NOW):
        assert await names(client, q="Helth Jamm") == ["Health Jam"]
        assert await names(client, q="climat hakc") == ["Climate Hack"]


async def test_fuzzy_fallback_without_pg_trgm(
    session: AsyncSession, connection: AsyncConnection, catalogue: dict[str, Event]
) -> None:
    async with frozen_time(connection, NOW):
        hits, _ = await search_events(session, q="botic", trigram=False)
        assert [h.event.name for h in hits] == ["Robotics Cup"]
        hits, _ = await search_events(session, q="LTH J", trigram=False)
        assert [h.event.name for h in hits] == ["Health Jam"]
        # LIKE wildcards in the query are plain characters.
        hits, _ = await search_events(session, q="%", trigram=False)
        assert hits == []
        hits, _ = await search_events(session, q="_", trigram=False)
        assert hits == []
    assert escape_like("50%_a\\b") == "50\\%\\_a\\\\b"


async def test_pagination_has_a_hard_maximum(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    org = await create_organization(session)
    for n in range(7):
        await published(session, org, name=f"Event {n}", starts_at=NOW + timedelta(days=n + 1))
    async with frozen_time(connection, NOW):
        page = (await client.get("/api/v1/events", params={"limit": 3})).json()
        assert [i["name"] for i in page["items"]] == ["Event 0", "Event 1", "Event 2"]
        assert page["next_offset"] == 3
        last = (await client.get("/api/v1/events", params={"limit": 3, "offset": 6})).json()
        assert [i["name"] for i in last["items"]] == ["Event 6"]
        assert last["next_offset"] is None
        too_many = await client.get("/api/v1/events", params={"limit": 51})
        assert too_many.status_code == 422
        bad_state = await client.get("/api/v1/events", params={"state": "nonsense"})
        assert bad_state.status_code == 422


async def test_sql_state_agrees_with_python_state(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    org = await create_organization(session)
    day = timedelta(days=1)
    windows = {
        "registration_opens_at": NOW - 10 * day,
        "registration_closes_at": NOW - 5 * day,
        "starts_at": NOW - 4 * day,
        "submissions_close_at": NOW - 2 * day,
        "grace_minutes": 30,
    }
    events = [
        await create_event(session, org),
        await published(session, org),
        await published(session, org, **windows),
        await published(session, org, registration_opens_at=NOW - day),
        await published(session, org, registration_opens_at=NOW + day),
        await published(session, org, starts_at=NOW - day),
        await published(session, org, results_published_at=NOW - day),
        await published(session, org, archived_at=NOW - day),
    ]
    for moment in (NOW, NOW - 3 * day, NOW - 2 * day + timedelta(minutes=29), NOW - 7 * day):
        async with frozen_time(connection, moment):
            now = await db_now(session)
            rows = await session.execute(
                select(Event.id, state_sql()).where(Event.id.in_([e.id for e in events]))
            )
            in_sql = {row[0]: row[1] for row in rows}
            assert {e.id: state_at(e, now).value for e in events} == in_sql, moment
    async with frozen_time(connection, NOW):
        assert state_at(events[2], NOW) is EventState.JUDGING
