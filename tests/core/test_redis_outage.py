"""Redis is optional: killed under a running app, rate limits fall back to the in-process
limiter, the leaderboard to the database path and readiness says `degraded`; when it comes back,
pooled connections are checked and Redis is used again. A `redis-server` of the test's own."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx2
import redis.asyncio
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from hackops.main import create_app
from tests.accounts.helpers import PASSWORD, sign_up
from tests.conftest import make_settings
from tests.helpers import database_on, serving
from tests.judging.test_api import judged_event
from tests.outage import throwaway_redis
from tests.teams.helpers import Stage
from tests.web.test_account_pages import submit

EMAIL = "ada-redis@example.com"


async def one_of_each(http: httpx2.AsyncClient, s: Stage) -> list[int]:
    """Sign-in (API, right and wrong password), the log-in page, the leaderboard."""
    right = await http.post("/api/v1/auth/token", data={"username": EMAIL, "password": PASSWORD})
    wrong = await http.post("/api/v1/auth/token", data={"username": EMAIL, "password": "nope!"})
    page = await submit(http, "/login", email=EMAIL, password=PASSWORD)
    http.cookies.clear()  # signed out again for the next round
    board = await http.get(f"{s.base}/judging/leaderboard", headers=s.auth("olga"))
    return [right.status_code, wrong.status_code, page.status_code, board.status_code]


async def test_redis_down_degrades_and_comes_back(
    session: AsyncSession,
    engine: AsyncEngine,
    connection: AsyncConnection,
    database_url: str,
    storage_dir: Path,
) -> None:
    s, _, _ = await judged_event(session, teams=2, judges=1)
    with throwaway_redis() as server:
        settings = make_settings(database_url, storage_dir, redis_url=server.url)
        app = create_app(settings, database=database_on(engine, connection))
        async with serving(app) as http:
            await sign_up(http, EMAIL)
            assert await one_of_each(http, s) == [200, 401, 303, 200]
            ready = await http.get("/health/ready")
            assert (ready.status_code, ready.json()["status"]) == (200, "ready")

            server.kill()
            seen: Counter[int] = Counter()
            for _ in range(5):
                seen.update(await one_of_each(http, s))
            assert seen == Counter({200: 10, 401: 5, 303: 5}), seen
            down = await http.get("/health/ready")
            assert down.status_code == 200, down.json()
            assert down.json()["status"] == "degraded"
            assert down.json()["failed"] == []
            assert down.json()["degraded"] == ["redis"]
            assert down.json()["checks"]["redis"]["ok"] is False
            # Limits still hold, in this process: wrong passwords from one address run out.
            refused = [
                (
                    await http.post(
                        "/api/v1/auth/token", data={"username": EMAIL, "password": "nope!"}
                    )
                ).status_code
                for _ in range(12)
            ]
            assert refused == [401] * 10 + [429] * 2, refused
            metrics = (await http.get("/metrics")).text
            assert 'hackops_redis_fallbacks_total{part="ratelimit"}' in metrics
            assert 'hackops_redis_fallbacks_total{part="leaderboard"}' in metrics

            server.start()  # empty: no persistence
            for _ in range(100):
                back = await http.get("/health/ready")
                if back.json()["status"] == "ready":
                    break
                await asyncio.sleep(0.1)
            assert back.json()["status"] == "ready", back.json()
            await app.state.limiter.reset()
            probe = redis.asyncio.Redis.from_url(server.url)
            try:
                # Each part tries Redis again within its retry interval, on checked connections.
                for _ in range(60):
                    assert await one_of_each(http, s) == [200, 401, 303, 200]
                    if await probe.keys("LIMITS*") and await probe.keys("hackops:lb:*"):
                        break
                    await asyncio.sleep(0.1)
                assert await probe.keys("hackops:lb:*"), "the leaderboard is cached in Redis again"
                assert await probe.keys("LIMITS*"), "limits are counted in Redis again"
            finally:
                await probe.aclose()


def fallbacks(metrics: str, part: str) -> float:
    line = next(
        line
        for line in metrics.splitlines()
        if line.startswith(f'hackops_redis_fallbacks_total{{part="{part}"}}')
    )
    return float(line.rsplit(" ", 1)[1])


async def test_a_redis_restart_between_requests_costs_nothing(
    session: AsyncSession,
    engine: AsyncEngine,
    connection: AsyncConnection,
    database_url: str,
    storage_dir: Path,
) -> None:
    """Pooled connections from before the restart are checked and replaced: the next requests
    are served by Redis itself, not by a fallback, and certainly not with a 500."""
    s, _, _ = await judged_event(session, teams=2, judges=1)
    with throwaway_redis() as server:
        settings = make_settings(database_url, storage_dir, redis_url=server.url)
        app = create_app(settings, database=database_on(engine, connection))
        async with serving(app) as http:
            await sign_up(http, EMAIL)
            for _ in range(3):  # the pools hold connections now
                assert await one_of_each(http, s) == [200, 401, 303, 200]
            before = (await http.get("/metrics")).text

            server.kill()
            server.start()
            for _ in range(3):
                assert await one_of_each(http, s) == [200, 401, 303, 200]
            after = (await http.get("/metrics")).text
            for part in ("ratelimit", "leaderboard"):
                assert fallbacks(after, part) == fallbacks(before, part), part
            probe = redis.asyncio.Redis.from_url(server.url)
            try:
                assert await probe.keys("LIMITS*")
                assert await probe.keys("hackops:lb:*")
            finally:
                await probe.aclose()
