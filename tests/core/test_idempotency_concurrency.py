"""Concurrent retries with one Idempotency-Key, through a live uvicorn server whose requests commit.

Each round seeds a person and a token directly in the live server's database, releases N clients
at once with a barrier, then checks the database: exactly one write, whatever the interleaving.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import httpx2
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from hackops.config import to_sqlalchemy_url
from hackops.models import IdempotencyKey, Task, User
from tests.people import person

pytestmark = pytest.mark.slow

CLIENTS = 16
ROUNDS = 5


@pytest.fixture(scope="module")
async def owner(live_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(to_sqlalchemy_url(live_database_url), pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def http(live_server: str) -> AsyncIterator[httpx2.AsyncClient]:
    limits = httpx2.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx2.AsyncClient(base_url=live_server, limits=limits, timeout=30) as client:
        yield client


async def person_with_token(owner: AsyncEngine) -> tuple[User, str]:
    async with AsyncSession(owner, expire_on_commit=False) as session, session.begin():
        return await person(session)


async def personal_tasks(owner: AsyncEngine, user: User) -> list[str]:
    async with AsyncSession(owner) as session, session.begin():
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        return list(await session.scalars(select(Task.title).where(Task.owner_id == user.id)))


async def release_together(
    http: httpx2.AsyncClient, token: str, key: str, titles: list[str]
) -> list[httpx2.Response]:
    barrier = asyncio.Barrier(len(titles))
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}

    async def one(title: str) -> httpx2.Response:
        await barrier.wait()
        return await http.post("/api/v1/me/tasks", json={"title": title}, headers=headers)

    async with asyncio.timeout(120):
        return list(await asyncio.gather(*(one(t) for t in titles)))


async def test_identical_retries_released_together_write_once(
    owner: AsyncEngine, http: httpx2.AsyncClient
) -> None:
    user, token = await person_with_token(owner)
    for round_ in range(ROUNDS):
        key = f"round-{round_}-{secrets.token_hex(4)}"
        title = f"Task {round_}"
        responses = await release_together(http, token, key, [title] * CLIENTS)

        ran = [
            r for r in responses if r.status_code == 201 and "idempotent-replayed" not in r.headers
        ]
        replayed = [r for r in responses if r.headers.get("idempotent-replayed") == "true"]
        busy = [r for r in responses if r.status_code == 409]
        assert len(ran) == 1, [(r.status_code, r.text) for r in responses]
        assert len(ran) + len(replayed) + len(busy) == CLIENTS
        assert all(r.json() == ran[0].json() and r.status_code == 201 for r in replayed)
        assert {r.json()["error"]["code"] for r in busy} <= {"idempotency_key_in_use"}
        assert await personal_tasks(owner, user) == [f"Task {i}" for i in range(round_ + 1)]

        # Every later retry is a replay of the one write.
        again = await http.post(
            "/api/v1/me/tasks",
            json={"title": title},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
        )
        assert (again.headers["idempotent-replayed"], again.json()) == ("true", ran[0].json())

    async with AsyncSession(owner) as session:
        states = (
            await session.execute(
                select(IdempotencyKey.state, IdempotencyKey.response_status, func.count())
                .where(IdempotencyKey.user_id == user.id)
                .group_by(IdempotencyKey.state, IdempotencyKey.response_status)
            )
        ).all()
    assert [tuple(row) for row in states] == [("completed", 201, ROUNDS)]


async def test_different_requests_racing_for_one_key_write_once(
    owner: AsyncEngine, http: httpx2.AsyncClient
) -> None:
    user, token = await person_with_token(owner)
    for round_ in range(ROUNDS):
        key = f"mixed-{round_}-{secrets.token_hex(4)}"
        titles = [f"Mixed {round_}.{i}" for i in range(CLIENTS)]
        responses = await release_together(http, token, key, titles)

        ran = [r for r in responses if r.status_code == 201]
        refused = {r.json()["error"]["code"] for r in responses if r.status_code != 201}
        assert len(ran) == 1, [(r.status_code, r.text) for r in responses]
        assert refused <= {"idempotency_key_in_use", "idempotency_key_reused"}
        written = [t for t in await personal_tasks(owner, user) if t.startswith(f"Mixed {round_}.")]
        assert written == [ran[0].json()["title"]]
