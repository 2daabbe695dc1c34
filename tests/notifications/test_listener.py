"""The sending and listening halves of live push, below the socket: payloads PostgreSQL accepts
for any number of people, and readiness saying when a process's listener is down."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.db import Database
from hackops.notifications.live import Hub, State
from hackops.notifications.push import PAYLOAD_LIMIT, announce, parse, payloads


def test_payloads_stay_under_postgresqls_limit_and_lose_nobody() -> None:
    people = [uuid.uuid4() for _ in range(5000)]
    key = "k" * 200
    chunks = payloads([*people, people[0]], key)  # a repeat is sent once
    assert len(chunks) > 1
    assert all(len(chunk.encode()) < PAYLOAD_LIMIT < 8000 for chunk in chunks)
    seen: list[uuid.UUID] = []
    for chunk in chunks:
        found_key, found = parse(chunk)
        assert found_key == key
        seen += sorted(found)
    assert sorted(seen) == sorted(people)
    assert payloads([], key) == []
    assert parse("not json") == (None, set())
    assert parse(json.dumps({"k": 3, "u": ["zz"]})) == (None, set())


async def test_postgresql_accepts_an_announcement_to_thousands(session: AsyncSession) -> None:
    # pg_notify refuses a payload of 8000 bytes or more: every chunk must pass
    await announce(session, [uuid.uuid4() for _ in range(3000)], key="x" * 200)


async def test_readiness_is_degraded_while_the_listener_cannot_connect(
    client: httpx2.AsyncClient, app: Any, bound_database: Database
) -> None:
    saved = app.state.notification_hub
    hub = Hub(bound_database, "postgresql://nobody@127.0.0.1:1/nothing?connect_timeout=1")
    app.state.notification_hub = hub
    try:
        idle = (await client.get("/health/ready")).json()
        assert idle["checks"]["notifications"] == {"ok": True, "state": "ok"}  # nobody listens

        hub.subscribe(uuid.uuid4())  # the first socket starts the listener
        assert hub.listener is not None
        for _ in range(100):
            if hub.listener.last_error is not None:
                break
            await asyncio.sleep(0.05)
        assert hub.listener.state in (State.DOWN, State.CONNECTING)
        response = await client.get("/health/ready")
        assert response.status_code == 200  # pages fall back to polling: degraded, not down
        body = response.json()
        assert body["degraded"] == ["notifications"]
        assert body["checks"]["notifications"] == {"ok": True, "state": "degraded"}
    finally:
        await hub.close()
        app.state.notification_hub = saved
