"""Event list endpoints cost the same number of queries for 1 item as for 20 (no N+1)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.db import db_now
from hackops.models import Award, Event, EventRoleGrant, Organization, Track
from hackops.tenancy import forget_tenant, set_tenant
from tests.events.helpers import Org, load_event, make_event, org_with_staff
from tests.factories import create_event, create_user
from tests.helpers import count_queries


async def same_cost(
    client: httpx2.AsyncClient,
    connection: AsyncConnection,
    url: str,
    headers: dict[str, str],
    add: Callable[[int], Awaitable[None]],
) -> None:
    """Request `url` with one item, add 19 more, request again: same query count, 20 items.

    Each request starts with a fresh tenant context on the shared connection, so `add` sets the
    tenant again (`retenant`)."""
    await add(1)
    with count_queries(connection) as one:
        first = await client.get(url, headers=headers)
    assert first.status_code == 200, first.text
    await add(19)
    with count_queries(connection) as twenty:
        second = await client.get(url, headers=headers)
    body = second.json()
    items = body["items"] if isinstance(body, dict) else body
    assert len(items) == 20, url
    assert twenty.count == one.count, (url, one.statements, twenty.statements)


async def retenant(session: AsyncSession, event: Event) -> None:
    forget_tenant(session)
    await set_tenant(session, event.org_id)


async def setup(client: httpx2.AsyncClient, session: AsyncSession) -> tuple[Org, Event]:
    org = await org_with_staff(session, "acme")
    await make_event(client, org)
    return org, await load_event(session, "hack")


async def test_org_event_list(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    org = await org_with_staff(session, "acme")
    record = await session.scalar(select(Organization).where(Organization.slug == "acme"))
    assert record is not None

    async def add(n: int) -> None:
        forget_tenant(session)
        for _ in range(n):
            await create_event(session, record)

    await same_cost(client, connection, org.events(), org.organizer, add)


async def test_search(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    _org, event = await setup(client, session)
    now = await db_now(session)
    owner_org = await session.get(Organization, event.org_id)
    assert owner_org is not None

    async def add(n: int) -> None:
        await retenant(session, event)
        for _ in range(n):
            await create_event(session, owner_org, name="Searchable thing", published_at=now)

    await same_cost(client, connection, "/api/v1/events?q=searchable", {}, add)


async def test_tracks_awards_and_roles(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    org, event = await setup(client, session)
    counter = iter(range(100))

    async def add_tracks(n: int) -> None:
        await retenant(session, event)
        for _ in range(n):
            session.add(Track(org_id=event.org_id, event_id=event.id, name=f"T{next(counter)}"))
        await session.flush()

    async def add_awards(n: int) -> None:
        await retenant(session, event)
        for _ in range(n):
            session.add(Award(org_id=event.org_id, event_id=event.id, name=f"A{next(counter)}"))
        await session.flush()

    async def add_roles(n: int) -> None:
        await retenant(session, event)
        for _ in range(n):
            user = await create_user(session)
            session.add(
                EventRoleGrant(
                    org_id=event.org_id, event_id=event.id, user_id=user.id, role="judge"
                )
            )
        await session.flush()

    await same_cost(client, connection, org.events("/hack/tracks"), org.organizer, add_tracks)
    await same_cost(client, connection, org.events("/hack/awards"), org.organizer, add_awards)
    await same_cost(client, connection, org.events("/hack/roles"), org.organizer, add_roles)
