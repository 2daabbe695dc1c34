"""The organizers' live leaderboard page through HTTP: the board rendered on the server in the
API's order with the API's numbers (it works without JavaScript), our own script and the stream's
address for the live updates, the link from the judging admin, and 403 / 404 / log-in for
everyone else."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.judging.leaderboard import service as leaderboard
from tests.web.test_account_pages import text_of
from tests.web.test_judging_pages import World, assign, judged, post


@pytest.fixture(autouse=True)
def own_board_cache(app: Any) -> Iterator[None]:
    """The boards these tests read go to a cache of their own, dropped afterwards: the app is
    shared by the whole run, and tests/judging/test_leaderboard.py expects to find only its own
    event's keys in the app's cache."""
    state = app.state
    before = getattr(state, "leaderboard_cache", None)
    state.leaderboard_cache = leaderboard.Cache(
        getattr(state, "redis", None), leaderboard.LocalCache()
    )
    yield
    if before is None:
        del state.leaderboard_cache
    else:
        state.leaderboard_cache = before


def page_of(w: World) -> str:
    return w.admin + "/leaderboard"


def api_of(w: World) -> str:
    return f"/api/v1/organizations/{w.s.org.slug}/events/{w.s.event.slug}/judging/leaderboard"


def board_rows(response: httpx2.Response) -> list[list[str]]:
    """The leaderboard table's cells: rank, project · team, score, raw mean, evaluations."""
    table = re.search(r'<table id="leaderboard">.*?<tbody>(.*?)</tbody>', response.text, re.S)
    assert table, response.text
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    return [[" ".join(html.unescape(re.sub(r"<[^>]+>", "", c)).split()) for c in r] for r in cells]


async def score(client: httpx2.AsyncClient, w: World, judge: str, n: int, *marks: str) -> None:
    w.as_(client, judge)
    done = await post(client, w.score_url(n), **w.scores(*marks), action="submit")
    assert done.status_code == 303, done.text


async def test_organizers_see_the_board_in_order_with_the_live_script(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session, teams=3, judges=2)
    for judge in ("judge0", "judge1"):
        await assign(session, w, judge, 0, 1, 2)

    w.as_(client, "olga")
    empty = await client.get(page_of(w))
    assert empty.status_code == 200
    assert empty.headers["cache-control"] == "no-store"
    assert "No submitted evaluations yet." in empty.text
    assert "0 projects ranked." in text_of(empty)

    # Both judges agree: project 2, then 0, then 1; project 1 has one evaluation only.
    await score(client, w, "judge0", 2, "9", "8")
    await score(client, w, "judge0", 0, "6", "6")
    await score(client, w, "judge0", 1, "3", "4")
    await score(client, w, "judge1", 2, "8", "9")
    await score(client, w, "judge1", 0, "5", "7")

    w.as_(client, "olga")
    page = await client.get(page_of(w))
    assert page.status_code == 200
    board = (await client.get(api_of(w))).json()
    assert [i["title"] for i in board["items"]] == ["Project 2", "Project 0", "Project 1"]
    assert board_rows(page) == [
        [
            str(item["rank"]),
            f"{item['title']} · {item['team_name']}",
            f"{item['score']:.1f}",
            f"{item['raw_mean']:.1f}",
            str(item["evaluations"]),
        ]
        for item in board["items"]
    ]
    rows = board_rows(page)
    assert [r[0] for r in rows] == ["1", "2", "3"]
    assert [r[1] for r in rows] == [
        "Project 2 · Team p2",
        "Project 0 · Team p0",
        "Project 1 · Team p1",
    ]
    assert [r[4] for r in rows] == ["2", "2", "1"]
    # Project 2's raw mean: judge0's (2·9 + 8) / 3 and judge1's (2·8 + 9) / 3, on 0 to 100.
    assert rows[0][3] == "85.0"
    assert "3 projects ranked." in text_of(page)
    assert "No submitted evaluations yet." not in page.text

    assert 'aria-current="page">Judging</a>' in page.text
    assert f'data-stream="{api_of(w)}/stream"' in page.text
    assert re.search(
        r'<script src="[^"]*/static/leaderboard\.js\?v=[^"]+" defer></script>', page.text
    )
    assert "<script>" not in page.text  # the CSP allows no inline script
    assert re.search(r'id="leaderboard-status"[^>]* role="status" aria-live="polite"', page.text)
    assert "script-src 'self'" in page.headers["content-security-policy"]

    admin = await client.get(w.admin)
    assert f'<a href="{page_of(w)}">Live leaderboard</a>' in admin.text
    script = await client.get("/static/leaderboard.js")
    assert script.status_code == 200
    assert "innerHTML" not in script.text


async def test_everyone_else_is_refused(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    w = await judged(session, teams=2, judges=1)
    await assign(session, w, "judge0", 0, 1)
    await score(client, w, "judge0", 0, "7", "7")

    w.as_(client, "judge0")
    judge = await client.get(page_of(w))
    assert judge.status_code == 403
    assert "Project 0" not in judge.text
    for who in ("p0", "otto"):  # a participant, someone registered nowhere
        w.as_(client, who)
        refused = await client.get(page_of(w))
        assert refused.status_code == 404, who
        assert "Project 0" not in refused.text
    client.cookies.clear()
    signed_out = await client.get(page_of(w))
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login?next=")
