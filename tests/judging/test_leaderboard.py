"""The live leaderboard: organizers only, served from the cache for the committed version, a new
board as soon as a score changes (the version bump is in the score's transaction)."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.judging.leaderboard import service as leaderboard
from hackops.models import JudgingVersion
from tests.judging.test_api import add_criteria, judged_event


async def test_the_board_follows_every_score_and_is_for_organizers_only(
    client: httpx2.AsyncClient, session: AsyncSession, app: Any
) -> None:
    # A cache of this test's own (the app is shared by the run): only this event's keys in it.
    app.state.leaderboard_cache = leaderboard.Cache(None, leaderboard.LocalCache())
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


async def test_incremental_board_follows_the_full_fit(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """Each score change is applied from the change log (no reload); the board's order and
    scores stay those of a full judge-effect fit, including a score withdrawn to a draft."""
    s, _, _ = await judged_event(session, teams=6, judges=4)
    criteria = await add_criteria(client, s)
    await client.post(f"{s.base}/judging/assignments", headers=s.auth("olga"), json={"k": 3})
    url = f"{s.base}/judging/leaderboard"
    marks = iter([3, 9, 5, 7, 2, 8, 6, 4, 10, 1, 7, 5, 9, 3, 6, 8, 2, 4])
    versions = []
    for n in range(4):
        judge = f"judge{n}"
        queue = (await client.get(f"{s.base}/judging/queue", headers=s.auth(judge))).json()
        for item in queue["items"]:
            mark = next(marks)
            response = await client.put(
                f"{s.base}/judging/submissions/{item['submission_id']}/evaluation",
                headers=s.auth(judge),
                json={"scores": {criteria[0]: mark, criteria[1]: 10 - mark // 2}, "submit": True},
            )
            assert response.status_code == 200, response.text
            board = (await client.get(url, headers=s.auth("olga"))).json()
            versions.append(board["version"])
    # Withdraw one submitted score (back to a draft): it stops counting.
    queue = (await client.get(f"{s.base}/judging/queue", headers=s.auth("judge0"))).json()
    first = queue["items"][0]["submission_id"]
    await client.put(
        f"{s.base}/judging/submissions/{first}/evaluation",
        headers=s.auth("judge0"),
        json={"scores": {criteria[0]: 1}, "submit": False},
    )
    board = (await client.get(url, headers=s.auth("olga"))).json()
    full = (await client.get(f"{s.base}/judging/ranking", headers=s.auth("olga"))).json()
    assert versions == sorted(versions)
    assert len(set(versions)) == len(versions)
    assert board["ranked"] == len(full["items"])
    assert [i["submission_id"] for i in board["items"]] == [
        i["submission_id"] for i in full["items"]
    ]
    for mine, theirs in zip(board["items"], full["items"], strict=True):
        assert mine["evaluations"] == theirs["evaluations"]
        assert abs(mine["raw_mean"] - theirs["raw_mean"]) < 1e-3
        assert abs(mine["score"] - theirs["score"]) < 1.0  # held hyperparameters drift little
    state = leaderboard.REGISTRY.boards[(s.org.id, s.event.id)]
    assert state.version == board["version"]
    assert sum(1 for _, sub in state.scores if str(sub) == first) == 2  # judge0's left


async def test_board_solve_with_kept_hyperparameters_equals_the_full_fit() -> None:
    import random
    import uuid

    import numpy as np

    from hackops.judging.scoring import ranking

    rng = random.Random(7)
    subs = [uuid.uuid4() for _ in range(60)]
    judges = [uuid.uuid4() for _ in range(8)]
    evaluations = [
        ranking.Evaluation(judges[(n * 3 + k) % 8], sub, rng.uniform(20, 90) + 5 * (k - 1))
        for n, sub in enumerate(subs)
        for k in range(3)
    ]
    fit = ranking.judge_effect(evaluations)
    data = ranking._data(evaluations)
    weight = np.array([fit.weights[j] for j in data.judges])
    quality = ranking.solve_judge_effect(data, weight, fit.ridge_offset)
    for i, sub in enumerate(data.submissions):
        assert abs(quality[i] - fit.items[sub].score) < 1e-9


async def test_background_reestimation_brings_the_board_to_the_full_fit(
    client: httpx2.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change too small for an in-line re-estimation is solved with the kept hyperparameters,
    then re-estimated in a worker thread: afterwards the board is the full fit's, and the
    refined board is handed on for the cache (same version, better hyperparameters)."""
    from hackops.judging.leaderboard import live

    monkeypatch.setattr(live, "REFIT_DELAY_SECONDS", 0.0)
    s, _, _ = await judged_event(session, teams=10, judges=4)
    criteria = await add_criteria(client, s)
    await client.post(f"{s.base}/judging/assignments", headers=s.auth("olga"), json={"k": 3})
    marks = iter(range(1000))
    for n in range(4):
        judge = f"judge{n}"
        queue = (await client.get(f"{s.base}/judging/queue", headers=s.auth(judge))).json()
        for item in queue["items"]:
            mark = (next(marks) * 7 + n * 3) % 11
            await client.put(
                f"{s.base}/judging/submissions/{item['submission_id']}/evaluation",
                headers=s.auth(judge),
                json={"scores": {criteria[0]: mark, criteria[1]: 10 - mark}, "submit": True},
            )
    board = live.EventBoard(s.org.id, s.event.id)
    await board.build(session)
    assert len(board.scores) == 30
    handed: list[int] = []

    async def record(state: live.EventBoard) -> None:
        handed.append(state.version)

    board.on_refit = record
    queue = (await client.get(f"{s.base}/judging/queue", headers=s.auth("judge1"))).json()
    changed = queue["items"][0]["submission_id"]
    response = await client.put(
        f"{s.base}/judging/submissions/{changed}/evaluation",
        headers=s.auth("judge1"),
        json={"scores": {criteria[0]: 0, criteria[1]: 0}, "submit": True},
    )
    assert response.status_code == 200, response.text
    version = int(
        await session.scalar(
            select(JudgingVersion.version).where(JudgingVersion.event_id == s.event.id)
        )
        or 0
    )
    await board.advance(session, version)
    assert board.fitted_at < version  # solved with the kept hyperparameters...
    assert board.refit_task is not None
    await board.refit_task  # ...then re-estimated in the background
    assert board.fitted_at == version
    assert handed == [version]
    full = live.EventBoard(s.org.id, s.event.id)
    await full.build(session)
    for mine, theirs in zip(board.rows(100), full.rows(100), strict=True):
        assert mine["submission_id"] == theirs["submission_id"]
        assert abs(mine["score"] - theirs["score"]) < 1e-6


async def test_the_stream_ends_when_access_ends(
    client: httpx2.AsyncClient, session: AsyncSession, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each poll of the SSE stream passes the gate again: once the organizer's role is taken
    away, the next poll sends `closed` and the stream ends (no more scores to that screen)."""
    from hackops.actor import Actor
    from hackops.events.deps import load_event_access
    from hackops.models import Membership

    monkeypatch.setattr(leaderboard, "POLL_SECONDS", 0.0)
    s, _, _ = await judged_event(session, teams=2, judges=1)
    access = await load_event_access(session, Actor(s.users["olga"]), s.org.slug, s.event.slug)
    cache = leaderboard.Cache(None, leaderboard.LocalCache())
    events = leaderboard.stream(app.state.db, access, cache, (s.tokens["olga"], True), polls=20)
    first = await anext(events)
    assert first.startswith(b"event: leaderboard\ndata: ")
    assert json.loads(first.split(b"data: ", 1)[1])["items"] == []
    await session.execute(
        text("SELECT set_config('hackops.org_id', :o, true)"), {"o": str(s.org.id)}
    )
    membership = await session.scalar(
        select(Membership).where(Membership.user_id == s.users["olga"].id)
    )
    assert membership is not None
    await session.delete(membership)
    await session.flush()
    assert await anext(events) == b"event: closed\ndata: {}\n\n"
    with pytest.raises(StopAsyncIteration):
        await anext(events)


async def test_the_board_comes_in_a_few_sizes_only(
    client: httpx2.AsyncClient, session: AsyncSession, app: Any
) -> None:
    """Each size is a cache key: any other `limit` is a 422 naming the sizes, and never a key."""
    app.state.leaderboard_cache = leaderboard.Cache(None, leaderboard.LocalCache())
    s, _, _ = await judged_event(session, teams=2, judges=1)
    url = f"{s.base}/judging/leaderboard"
    for size in leaderboard.SIZES:
        assert (await client.get(url, params={"limit": size}, headers=s.auth("olga"))).is_success
    for odd in (1, 7, 99, 101, 9999, -5, "ten"):
        refused = await client.get(url, params={"limit": odd}, headers=s.auth("olga"))
        assert refused.status_code == 422, odd
        (problem,) = refused.json()["error"]["details"]
        assert problem["message"] == "Limit must be one of 10, 25, 50, 100 or 500.", problem
    keys = list(app.state.leaderboard_cache.local.items)
    assert sorted(int(key.rsplit(":", 1)[1]) for key in keys) == sorted(leaderboard.SIZES)
