"""What an authenticated request spends before its real work: ONE statement, the request gate
(`hackops.gate`), which resolves the caller, reads the organization and event the address names
for their loaders, counts the page header's unread badge, and sets the actor and tenant (before:
`GET /api/v1/me` took 2 statements, an event read 8 before its work, an event page 10)."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tests.helpers import count_queries
from tests.people import build_cast

#: What only the gate reads or sets now (`resolve_token`, `set_actor`/`set_tenant`, the badge).
GATED = ("set_config(", "auth_tokens", "FROM notifications")


def split(statements: list[str]) -> tuple[list[str], list[str]]:
    gates = [s for s in statements if "request_gate(" in s]
    return gates, [s for s in statements if "request_gate(" not in s]


async def test_me_is_one_statement(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    cast = await build_cast(session)
    with count_queries(connection) as log:
        response = await client.get("/api/v1/me", headers=cast.auth("participant"))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == cast.id("participant")
    gates, _ = split(log.statements)
    assert len(gates) == 1
    assert log.count == 1, log.statements


async def test_an_event_read_spends_one_statement_before_its_work(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    cast = await build_cast(session)
    for who in ("participant", "judge", "org_organizer", "anonymous"):
        with count_queries(connection) as log:
            response = await client.get(cast.base, headers=cast.auth(who))
        assert response.status_code == 200, (who, response.text)
        gates, work = split(log.statements)
        assert log.statements[:1] == gates, (who, log.statements)
        # The event's own read is one clock read; nothing else authenticates or loads again.
        assert work == ["SELECT app_now()"], (who, log.statements)


async def test_team_and_organization_reads_spend_one_statement_before_their_work(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    cast = await build_cast(session)
    org = f"/api/v1/organizations/{cast.org.slug}"
    # (who, address, statements; before the gate: 11, 12, 5, 6; the gate reads the team and the
    # caller's membership a team route names, migration 0038: 3 -> 2)
    for who, url, count in (
        ("captain", f"{cast.base}/teams/{cast.team.id}", 2),
        ("member", f"{cast.base}/teams/mine", 4),
        ("owner", f"{org}/settings", 1),
        ("owner", f"{org}/members", 2),
    ):
        with count_queries(connection) as log:
            response = await client.get(url, headers=cast.auth(who))
        assert response.status_code == 200, (url, response.text)
        gates, work = split(log.statements)
        assert log.statements[:1] == gates, (url, log.statements)
        assert not [s for s in work if any(part in s for part in GATED)], (url, work)
        assert log.count == count, (url, log.statements)


async def test_a_page_spends_one_statement_on_who_asks_and_the_badge(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    cast = await build_cast(session)
    page = f"/orgs/{cast.org.slug}/events/{cast.event.slug}"
    # (before the gate: 14 and 19 statements; now 6 and 11)
    for who, url in (("participant", page), ("owner", f"{page}/admin")):
        client.cookies.set("hackops_session", cast.tokens[who])
        with count_queries(connection) as log:
            response = await client.get(url)
        client.cookies.clear()
        assert response.status_code == 200, (url, response.text)
        gates, work = split(log.statements)
        assert log.statements[:1] == gates, (url, log.statements)
        assert not [s for s in work if any(part in s for part in GATED)], (url, work)
