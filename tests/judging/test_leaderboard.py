"""The live leaderboard: organizers only, served from the cache for the committed version, a new
board as soon as a score changes (the version bump is in the score's transaction)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.judging import leaderboard
from tests.judging.test_api import add_criteria, judged_event


async def test_the_board_follows_every_score_and_is_for_organizers_only(
    client: httpx2.AsyncClient, session: AsyncSession, app: Any
) -> None:
    s, _, _ = await judged_event(session, teams=3, judges=3)
    criteria = await add_criteria(client, s)
    await client.post(f"{s.base}/judging/assignments", headers=s.auth("olga"), json={"k": 3})
    url = f"{s.base}/judging/leaderboard"
    empty = await client.get(url, headers=s.auth("olga"))
    assert empty.status_code == 200
    assert empty.json()["items"] == []
    version = empty.json()["version"]

    queue = (await client.get(f"{s.base}/judging/queue", headers=s.auth("judge0"))).json()
    first = queue["items"][0]["submission_id"]
    await client.put(
        f"{s.base}/judging/submissions/{first}/evaluation",
        headers=s.auth("judge0"),
        json={"scores": {criteria[0]: 9, criteria[1]: 9}, "submit": True},
    )
    board = (await client.get(url, headers=s.auth("olga"))).json()
    assert board["version"] > version
    assert [i["submission_id"] for i in board["items"]] == [first]
    cached = app.state.leaderboard_cache.local.items
    assert any(key.endswith(f":{board['version']}:100") for key in cached)
    assert all(str(s.org.id) in key and str(s.event.id) in key for key in cached)

    again = (await client.get(url, headers=s.auth("olga"))).json()
    assert again == board  # same committed version: served from the cache
    for who in ("judge0", "p0", "otto", "anonymous"):
        assert (await client.get(url, headers=s.auth(who))).status_code in (403, 404), who
        stream = await client.get(url + "/stream", headers=s.auth(who))
        assert stream.status_code in (403, 404), who


async def test_local_cache_is_bounded() -> None:
    cache = leaderboard.LocalCache(size=2)
    for n in range(5):
        await cache.set(f"k{n}", json.dumps(n).encode(), ex=60)
    assert list(cache.items) == ["k3", "k4"]
    assert await cache.get("k0") is None
