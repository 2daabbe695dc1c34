"""Task boards through the API: fields and bounds, filters, sort, pages, moves, assignees."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import Task, TeamMember
from hackops.tasks.service import GAP
from tests.helpers import frozen_time
from tests.tasks.world import World, build_world

ME = "/api/v1/me/tasks"


async def add(client: httpx2.AsyncClient, w: World, url: str, **fields: Any) -> dict[str, Any]:
    response = await client.post(url, headers=w.auth("alice"), json=fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def titles(client: httpx2.AsyncClient, w: World, url: str, query: str = "") -> list[str]:
    response = await client.get(f"{url}?{query}", headers=w.auth("bob" if url != ME else "alice"))
    assert response.status_code == 200, response.text
    return [t["title"] for t in response.json()["items"]]


@pytest.fixture
async def w(session: AsyncSession) -> World:
    return await build_world(session)


@pytest.mark.parametrize("board", ["team", "me"])
async def test_create_get_patch_delete(client: httpx2.AsyncClient, w: World, board: str) -> None:
    url = w.base if board == "team" else ME
    task = await add(client, w, url, title="  Write the pitch  ", description="Two minutes.")
    assert task["title"] == "Write the pitch"
    assert (task["status"], task["priority"], task["position"]) == ("todo", "medium", GAP)
    assert task["assignee_id"] is None
    assert task["created_by_id"] == str(w.alice.id)
    patched = await client.patch(
        f"{url}/{task['id']}",
        headers=w.auth("alice"),
        json={
            "status": "doing",
            "priority": "high",
            "due_date": "2026-12-01",
            "assignee_id": str(w.alice.id),
        },
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["status"], body["priority"], body["due_date"]) == ("doing", "high", "2026-12-01")
    assert body["assignee_id"] == str(w.alice.id)
    cleared = await client.patch(
        f"{url}/{task['id']}", headers=w.auth("alice"), json={"assignee_id": None, "due_date": None}
    )
    assert (cleared.json()["assignee_id"], cleared.json()["due_date"]) == (None, None)
    assert cleared.json()["title"] == "Write the pitch"
    deleted = await client.delete(f"{url}/{task['id']}", headers=w.auth("alice"))
    assert deleted.status_code == 204
    gone = await client.get(f"{url}/{task['id']}", headers=w.auth("alice"))
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "body.title"),
        ({"title": "   "}, "body.title"),
        ({"title": "x" * 201}, "body.title"),
        ({"title": "ok", "description": "d" * 2001}, "body.description"),
        ({"title": "ok", "status": "blocked"}, "body.status"),
        ({"title": "ok", "priority": "urgent"}, "body.priority"),
        ({"title": "ok", "position": 5}, "body.position"),
        ({"title": "ok", "team_id": "00000000-0000-0000-0000-000000000000"}, "body.team_id"),
    ],
)
async def test_bounds_are_422(
    client: httpx2.AsyncClient, w: World, body: dict[str, Any], field: str
) -> None:
    for url in (w.base, ME):
        response = await client.post(url, headers=w.auth("alice"), json=body)
        assert response.status_code == 422, response.text
        assert [d["field"] for d in response.json()["error"]["details"]] == [field]


async def test_bounds_on_patch_and_the_limits_themselves(
    client: httpx2.AsyncClient, w: World
) -> None:
    task = await add(client, w, w.base, title="x" * 200, description="d" * 2000)
    assert len(task["title"]) == 200
    assert len(task["description"]) == 2000
    url = f"{w.base}/{task['id']}"
    for body in ({"title": ""}, {"title": None}, {"description": "d" * 2001}, {"status": None}):
        response = await client.patch(url, headers=w.auth("alice"), json=body)
        assert response.status_code == 422, (body, response.text)
    assert (await client.get(url, headers=w.auth("alice"))).json() == task


async def test_filters_sort_and_pages(
    client: httpx2.AsyncClient, w: World, connection: AsyncConnection
) -> None:
    bob = str(w.bob.id)
    rows: list[dict[str, Any]] = [
        {"title": "banana", "priority": "low", "due_date": "2026-12-03"},
        {"title": "Apple", "priority": "high", "status": "done", "assignee_id": bob},
        {"title": "cherry", "priority": "medium", "due_date": "2026-12-01"},
        {"title": "date", "priority": "high", "status": "doing", "assignee_id": bob},
        {"title": "elder", "priority": "low", "due_date": "2026-12-02"},
    ]
    # One request is one transaction in production: each task gets its own created_at.
    for minute, fields in enumerate(rows):
        async with frozen_time(connection, datetime(2026, 11, 23, 9, minute, tzinfo=UTC)):
            await add(client, w, w.base, **fields)

    assert await titles(client, w, w.base) == ["banana", "Apple", "cherry", "date", "elder"]
    assert await titles(client, w, w.base, "sort=title") == [
        "Apple",
        "banana",
        "cherry",
        "date",
        "elder",
    ]
    assert await titles(client, w, w.base, "sort=title&order=desc") == [
        "elder",
        "date",
        "cherry",
        "banana",
        "Apple",
    ]
    # Equal priorities keep board order; no due date sorts last either way.
    assert await titles(client, w, w.base, "sort=priority&order=desc") == [
        "Apple",
        "date",
        "cherry",
        "banana",
        "elder",
    ]
    assert await titles(client, w, w.base, "sort=due") == [
        "cherry",
        "elder",
        "banana",
        "Apple",
        "date",
    ]
    assert await titles(client, w, w.base, "sort=due&order=desc") == [
        "banana",
        "elder",
        "cherry",
        "Apple",
        "date",
    ]
    assert await titles(client, w, w.base, "sort=created&order=desc") == [
        "elder",
        "date",
        "cherry",
        "Apple",
        "banana",
    ]
    assert await titles(client, w, w.base, "status=todo") == ["banana", "cherry", "elder"]
    assert await titles(client, w, w.base, "priority=high") == ["Apple", "date"]
    assert await titles(client, w, w.base, f"assignee_id={bob}") == ["Apple", "date"]
    assert await titles(client, w, w.base, "unassigned=true") == ["banana", "cherry", "elder"]
    assert await titles(client, w, w.base, f"assignee_id={bob}&status=doing") == ["date"]

    page = await client.get(f"{w.base}?sort=title&limit=2&offset=2", headers=w.auth("bob"))
    assert [t["title"] for t in page.json()["items"]] == ["cherry", "date"]
    assert (page.json()["total"], page.json()["limit"], page.json()["offset"]) == (5, 2, 2)
    last = await client.get(f"{w.base}?sort=title&limit=2&offset=4", headers=w.auth("bob"))
    assert [t["title"] for t in last.json()["items"]] == ["elder"]
    for bad in ("limit=201", "limit=0", "offset=-1", "sort=size", "order=up", "status=x"):
        response = await client.get(f"{w.base}?{bad}", headers=w.auth("bob"))
        assert response.status_code == 422, bad
    assert (await client.get(f"{w.base}?limit=200", headers=w.auth("bob"))).status_code == 200


async def test_move_before_end_up_down_and_renumber(
    client: httpx2.AsyncClient, w: World, session: AsyncSession
) -> None:
    ids = {n: (await add(client, w, w.base, title=n))["id"] for n in "abcd"}
    assert await titles(client, w, w.base) == ["a", "b", "c", "d"]

    async def move(name: str, **body: Any) -> dict[str, Any]:
        response = await client.post(f"{w.base}/{ids[name]}/move", headers=w.auth("bob"), json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    moved = await move("d", before=ids["b"])
    assert moved["position"] == (GAP + 2 * GAP) // 2
    assert await titles(client, w, w.base) == ["a", "d", "b", "c"]
    await move("a", before=None)
    assert await titles(client, w, w.base) == ["d", "b", "c", "a"]
    await move("a", direction="up")
    assert await titles(client, w, w.base) == ["d", "b", "a", "c"]
    await move("d", direction="down")
    assert await titles(client, w, w.base) == ["b", "d", "a", "c"]
    unchanged = await move("b", direction="up")  # already first: nothing changes
    assert await titles(client, w, w.base) == ["b", "d", "a", "c"]
    assert unchanged["id"] == ids["b"]
    await move("b", before=ids["b"])
    assert await titles(client, w, w.base) == ["b", "d", "a", "c"]

    # Up/down moves within the task's status column, over tasks of other columns.
    await client.patch(f"{w.base}/{ids['d']}", headers=w.auth("bob"), json={"status": "done"})
    await move("a", direction="up")  # the todo column is b, a, c
    assert await titles(client, w, w.base) == ["a", "b", "d", "c"]
    await move("b", direction="down")
    assert await titles(client, w, w.base) == ["a", "d", "c", "b"]

    # Close the gap between a and d: the next move between them renumbers the board.
    positions = {t["title"]: t["position"] for t in await items(client, w)}
    await session.execute(
        update(Task).where(Task.id == ids["d"]).values(position=positions["a"] + 1)
    )
    await session.flush()
    await move("b", before=ids["d"])
    listed = await items(client, w)
    assert [t["title"] for t in listed] == ["a", "b", "d", "c"]
    assert [t["position"] for t in listed] == [GAP, 2 * GAP, 3 * GAP, 4 * GAP]

    refused = await client.post(
        f"{w.base}/{ids['a']}/move", headers=w.auth("bob"), json={"before": str(w.team.id)}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "before_not_on_board"
    both = await client.post(
        f"{w.base}/{ids['a']}/move",
        headers=w.auth("bob"),
        json={"before": None, "direction": "up"},
    )
    assert both.status_code == 422


async def items(client: httpx2.AsyncClient, w: World) -> list[dict[str, Any]]:
    response = await client.get(w.base, headers=w.auth("bob"))
    return list(response.json()["items"])


async def test_new_tasks_go_after_the_last_one(client: httpx2.AsyncClient, w: World) -> None:
    first = await add(client, w, ME, title="one")
    second = await add(client, w, ME, title="two")
    moved = await client.post(
        f"{ME}/{second['id']}/move", headers=w.auth("alice"), json={"before": first["id"]}
    )
    assert moved.json()["position"] == GAP - GAP
    third = await add(client, w, ME, title="three")
    assert third["position"] == 2 * GAP
    assert await titles(client, w, ME) == ["two", "one", "three"]


async def test_assignee_must_be_a_current_member(
    client: httpx2.AsyncClient, w: World, session: AsyncSession
) -> None:
    for outsider in (w.carol.id, w.organizer.id, w.team.id):
        response = await client.post(
            w.base, headers=w.auth("alice"), json={"title": "t", "assignee_id": str(outsider)}
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "assignee_not_member"
    task = await add(client, w, w.base, title="t", assignee_id=str(w.bob.id))
    refused = await client.patch(
        f"{w.base}/{task['id']}", headers=w.auth("alice"), json={"assignee_id": str(w.carol.id)}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "assignee_not_member"
    assert (await client.get(f"{w.base}/{task['id']}", headers=w.auth("alice"))).json() == task

    # My own list: only me.
    response = await client.post(
        ME, headers=w.auth("alice"), json={"title": "t", "assignee_id": str(w.bob.id)}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "assignee_not_self"
    mine = await add(client, w, ME, title="t", assignee_id=str(w.alice.id))
    assert mine["assignee_id"] == str(w.alice.id)


async def test_removing_a_member_unassigns_their_tasks(
    client: httpx2.AsyncClient, w: World, session: AsyncSession
) -> None:
    bobs = await add(client, w, w.base, title="bob's", assignee_id=str(w.bob.id))
    alices = await add(client, w, w.base, title="alice's", assignee_id=str(w.alice.id))
    membership = await session.scalar(
        select(TeamMember).where(TeamMember.team_id == w.team.id, TeamMember.user_id == w.bob.id)
    )
    assert membership is not None
    await session.delete(membership)
    await session.flush()
    listed = {t["title"]: t["assignee_id"] for t in await list_as(client, w, "alice")}
    assert listed == {"bob's": None, "alice's": str(w.alice.id)}
    assert bobs["id"] != alices["id"]
    response = await client.patch(
        f"{w.base}/{bobs['id']}", headers=w.auth("alice"), json={"assignee_id": str(w.bob.id)}
    )
    assert response.status_code == 422


async def list_as(client: httpx2.AsyncClient, w: World, who: str) -> list[dict[str, Any]]:
    response = await client.get(w.base, headers=w.auth(who))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])
