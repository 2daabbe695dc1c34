"""Redis is optional: killed under a running app, rate limits fall back to the in-process
limiter, the leaderboard to the process's cache and the database path, and readiness says
`degraded`; when it comes back, pooled connections are checked and Redis is used again. A
`redis-server` of the test's own (tests/outage.py), never the shared one."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import redis.asyncio
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from hackops.main import create_app
from tests.accounts.helpers import PASSWORD, sign_up
from tests.conftest import make_settings
from tests.helpers import database_on, serving
from tests.judging.test_api import judged_event
from tests.outage import RedisServer, throwaway_redis
from tests.teams.helpers import Stage
from tests.web.test_account_pages import submit

EMAIL = "ada-redis@example.com"
ALL_FINE = [200, 401, 303, 200]


@dataclass
class World:
    server: RedisServer
    app: Any
    http: httpx2.AsyncClient
    s: Stage

    async def one_of_each(self) -> list[int]:
        """Sign-in (API, right and wrong password), the log-in page, the leaderboard."""
        http = self.http
        right = await http.post(
            "/api/v1/auth/token", data={"username": EMAIL, "password": PASSWORD}
        )
        wrong = await self.wrong_password()
        page = await submit(http, "/login", email=EMAIL, password=PASSWORD)
        http.cookies.clear()  # signed out again for the next round
        board = await http.get(f"{self.s.base}/judging/leaderboard", headers=self.s.auth("olga"))
        return [right.status_code, wrong.status_code, page.status_code, board.status_code]

    async def wrong_password(self) -> httpx2.Response:
        return await self.http.post(
            "/api/v1/auth/token", data={"username": EMAIL, "password": "nope!"}
        )

    async def keys_in_redis(self) -> tuple[list[Any], list[Any]]:
        """(rate limit keys, leaderboard keys) in the server now."""
        probe = redis.asyncio.Redis.from_url(self.server.url)
        try:
            return await probe.keys("LIMITS*"), await probe.keys("hackops:lb:*")
        finally:
            await probe.aclose()


@pytest.fixture
async def world(
    session: AsyncSession,
    engine: AsyncEngine,
    connection: AsyncConnection,
    database_url: str,
    storage_dir: Path,
) -> AsyncIterator[World]:
    s, _, _ = await judged_event(session, teams=2, judges=1)
    with throwaway_redis() as server:
        settings = make_settings(database_url, storage_dir, redis_url=server.url)
        app = create_app(settings, database=database_on(engine, connection))
        async with serving(app) as http:
            await sign_up(http, EMAIL)
            yield World(server, app, http, s)


def fallbacks(metrics: str, part: str) -> float:
    line = next(
        line
        for line in metrics.splitlines()
        if line.startswith(f'hackops_redis_fallbacks_total{{part="{part}"}}')
    )
    return float(line.rsplit(" ", 1)[1])


async def test_redis_down_degrades_and_comes_back(world: World) -> None:
    http = world.http
    assert await world.one_of_each() == ALL_FINE
    ready = await http.get("/health/ready")
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")

    world.server.kill()
    seen: Counter[int] = Counter()
    for _ in range(5):
        seen.update(await world.one_of_each())
    assert seen == Counter({200: 10, 401: 5, 303: 5}), seen
    down = await http.get("/health/ready")
    assert down.status_code == 200, down.json()
    assert down.json()["status"] == "degraded"
    assert down.json()["failed"] == []
    assert down.json()["degraded"] == ["redis"]
    assert down.json()["checks"]["redis"] == {"ok": True, "state": "degraded"}
    # Limits still hold, in this process: wrong passwords from one address run out.
    refused = [(await world.wrong_password()).status_code for _ in range(12)]
    assert refused == [401] * 10 + [429] * 2, refused
    metrics = (await http.get("/metrics")).text
    assert fallbacks(metrics, "ratelimit") > 0
    assert fallbacks(metrics, "leaderboard") > 0

    world.server.start()  # empty: no persistence
    for _ in range(100):
        back = await http.get("/health/ready")
        if back.json()["status"] == "ready":
            break
        await asyncio.sleep(0.1)
    assert back.json()["status"] == "ready", back.json()
    await world.app.state.limiter.reset()
    # Each part tries Redis again within its retry interval, on checked connections.
    for _ in range(60):
        assert await world.one_of_each() == ALL_FINE
        limits, boards = await world.keys_in_redis()
        if limits and boards:
            break
        await asyncio.sleep(0.1)
    assert limits, "limits are counted in Redis again"
    assert boards, "the leaderboard is cached in Redis again"


async def test_a_redis_restart_between_requests_costs_nothing(world: World) -> None:
    """Pooled connections from before the restart are checked and replaced: the next requests
    are served by Redis itself, not by a fallback, and certainly not with a 500."""
    for _ in range(3):  # the pools hold connections now
        assert await world.one_of_each() == ALL_FINE
    before = (await world.http.get("/metrics")).text

    world.server.kill()
    world.server.start()
    for _ in range(3):
        assert await world.one_of_each() == ALL_FINE
    after = (await world.http.get("/metrics")).text
    for part in ("ratelimit", "leaderboard"):
        assert fallbacks(after, part) == fallbacks(before, part), part
    limits, boards = await world.keys_in_redis()
    assert limits
    assert boards
