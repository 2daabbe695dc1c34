"""Team limits under concurrency, through the real HTTP stack and connection pool.

A uvicorn server of its own (this module) on a database of its own; each round seeds fresh
people, tokens, registrations and teams directly in the database, releases all clients at once
with a barrier, then checks the database. Repeated 20 times.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import psycopg
import pytest
import uvicorn
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from hackops import migrate
from hackops.accounts.credentials import new_secret
from hackops.config import to_sqlalchemy_url
from hackops.embedded import ensure_database
from hackops.main import create_app
from hackops.models import (
    AuthToken,
    Event,
    Organization,
    Registration,
    Team,
    TeamMember,
    User,
)
from tests.conftest import APP_ROLE, make_settings

pytestmark = pytest.mark.slow

ROUNDS = 20
NOW = datetime.now(UTC)


@dataclass
class Server:
    base_url: str
    database_url: str  # the owner's (seeding and checks)


@pytest.fixture(scope="module")
def server(server_admin_url: str, storage_dir: Path) -> Iterator[Server]:
    name = f"hackops_teams_{secrets.token_hex(4)}"
    ensure_database(server_admin_url, name)
    url = urlsplit(server_admin_url)._replace(path=f"/{name}").geturl()
    try:
        migrate.upgrade(url, app_role=APP_ROLE)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        # Ten connections for twenty clients: requests also queue at the pool (and the server
        # is shared with the other test databases of the run).
        settings = make_settings(
            url, storage_dir, base_url=base_url, database_pool_size=6, database_max_overflow=4
        )
        app = create_app(settings)
        uv = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
        )
        thread = threading.Thread(target=uv.run, daemon=True)
        thread.start()
        for _ in range(200):
            if uv.started:
                break
            threading.Event().wait(0.05)
        assert uv.started, "server did not start"
        yield Server(base_url, url)
        uv.should_exit = True
        thread.join(timeout=10)
    finally:
        with psycopg.connect(server_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
async def owner(server: Server) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(to_sqlalchemy_url(server.database_url), pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def http(server: Server) -> AsyncIterator[httpx2.AsyncClient]:
    limits = httpx2.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx2.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as client:
        yield client


class Seeder:
    """Fresh rows for one round, written by the owner in one committed transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.org = Organization(slug=f"org-{secrets.token_hex(4)}", name="Concurrency")

    async def start(self, team_max: int) -> tuple[Organization, Event]:
        await self.session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        self.session.add(self.org)
        await self.session.flush()
        event = Event(
            org_id=self.org.id,
            slug="hack",
            name="Hack",
            visibility="public",
            published_at=NOW - timedelta(days=1),
            team_max=team_max,
        )
        self.session.add(event)
        await self.session.flush()
        return self.org, event

    async def people(self, event: Event, n: int) -> list[tuple[User, str]]:
        users = [User(email=f"p-{secrets.token_hex(6)}@example.com", name="P") for _ in range(n)]
        self.session.add_all(users)
        await self.session.flush()
        out = []
        for user in users:
            raw, hashed = new_secret()
            self.session.add(
                AuthToken(
                    user_id=user.id,
                    kind="session",
                    token_hash=hashed,
                    scopes=["read", "write"],
                    expires_at=NOW + timedelta(days=1),
                    last_used_at=NOW + timedelta(days=1),  # no "touch" writes
                )
            )
            self.session.add(
                Registration(
                    org_id=event.org_id,
                    event_id=event.id,
                    user_id=user.id,
                    status="registered",
                    checkin_code=secrets.token_hex(6).upper(),
                )
            )
            out.append((user, raw))
        await self.session.flush()
        return out

    async def team(self, event: Event, captain: User, max_members: int) -> Team:
        team = Team(
            org_id=event.org_id,
            event_id=event.id,
            name=f"Team {secrets.token_hex(3)}",
            captain_id=captain.id,
            join_code=secrets.token_hex(4).upper(),
            max_members=max_members,
        )
        self.session.add(team)
        await self.session.flush()
        self.session.add(
            TeamMember(
                org_id=event.org_id,
                event_id=event.id,
                team_id=team.id,
                user_id=captain.id,
                role="captain",
            )
        )
        await self.session.flush()
        return team


async def release_together(
    http: httpx2.AsyncClient, calls: list[tuple[str, str, dict[str, object]]]
) -> list[httpx2.Response]:
    barrier = asyncio.Barrier(len(calls))

    async def one(url: str, token: str, body: dict[str, object]) -> httpx2.Response:
        await barrier.wait()
        return await http.post(url, headers={"Authorization": f"Bearer {token}"}, json=body)

    return list(await asyncio.gather(*(one(u, t, b) for u, t, b in calls)))


async def test_twenty_people_race_for_the_last_seat(
    owner: AsyncEngine, http: httpx2.AsyncClient
) -> None:
    for _ in range(ROUNDS):
        async with AsyncSession(owner, expire_on_commit=False) as session, session.begin():
            seed = Seeder(session)
            org, event = await seed.start(team_max=2)
            (captain, _), *racers = await seed.people(event, 21)
            team = await seed.team(event, captain, max_members=2)  # one free seat
        url = f"/api/v1/organizations/{org.slug}/events/{event.slug}/teams/join"
        responses = await release_together(
            http, [(url, token, {"code": team.join_code}) for _, token in racers]
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [409] * 19, [r.text for r in responses if r.status_code != 409]
        codes = {r.json()["error"]["code"] for r in responses if r.status_code == 409}
        assert codes == {"team_full"}
        async with AsyncSession(owner) as session, session.begin():
            await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
            count = await session.scalar(select(Team.member_count).where(Team.id == team.id))
            rows = await session.scalar(
                select(func.count()).select_from(TeamMember).where(TeamMember.team_id == team.id)
            )
            assert (count, rows) == (2, 2)


async def test_one_person_joins_ten_teams_at_once(
    owner: AsyncEngine, http: httpx2.AsyncClient
) -> None:
    for _ in range(ROUNDS):
        async with AsyncSession(owner, expire_on_commit=False) as session, session.begin():
            seed = Seeder(session)
            org, event = await seed.start(team_max=5)
            people = await seed.people(event, 11)
            (joiner, token), captains = people[0], people[1:]
            teams = [await seed.team(event, c, max_members=5) for c, _ in captains]
        url = f"/api/v1/organizations/{org.slug}/events/{event.slug}/teams/join"
        responses = await release_together(
            http, [(url, token, {"code": t.join_code}) for t in teams]
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [409] * 9, [r.text for r in responses if r.status_code != 409]
        codes = {r.json()["error"]["code"] for r in responses if r.status_code == 409}
        assert codes == {"already_in_a_team"}
        async with AsyncSession(owner) as session, session.begin():
            await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
            memberships = await session.scalar(
                select(func.count())
                .select_from(TeamMember)
                .where(TeamMember.event_id == event.id, TeamMember.user_id == joiner.id)
            )
            counts = list(
                await session.scalars(select(Team.member_count).where(Team.event_id == event.id))
            )
            assert memberships == 1
            assert sorted(counts) == [1] * 9 + [2]
