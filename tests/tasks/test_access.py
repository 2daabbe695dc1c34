"""Only a team's current members reach its board; everyone else gets 404 on every task route."""

from __future__ import annotations

import re
from typing import Any

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import TeamMember
from tests.helpers import count_queries
from tests.security.audit import TEAM_TASKS
from tests.security.world import example
from tests.tasks.world import add_member, build_world

OUTSIDERS = ("carol", "organizer", "stranger", "anonymous")


def task_routes(app: Any, prefix: str) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.openapi()
    return [
        (method, path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if path.startswith(prefix)
    ]


async def test_every_team_task_route_is_404_to_everyone_but_the_members(
    client: httpx2.AsyncClient, session: AsyncSession, app: Any
) -> None:
    w = await build_world(session)
    created = await client.post(w.base, headers=w.auth("alice"), json={"title": "Ship it"})
    assert created.status_code == 201, created.text
    task = created.json()
    spec = app.openapi()
    components = spec["components"]["schemas"]
    routes = task_routes(app, TEAM_TASKS)
    assert {(m, p.rsplit("/tasks", 1)[1]) for m, p, _ in routes} == {
        ("get", ""),
        ("post", ""),
        ("get", "/{task_id}"),
        ("patch", "/{task_id}"),
        ("delete", "/{task_id}"),
        ("post", "/{task_id}/move"),
    }
    ids = {
        "slug": w.org.slug,
        "event_slug": w.event.slug,
        "team_id": str(w.team.id),
        "task_id": task["id"],
    }
    for who in OUTSIDERS:
        for method, path, op in routes:
            url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            body = example(content["schema"], components) if content else None
            response = await client.request(method.upper(), url, headers=w.auth(who), json=body)
            assert response.status_code == 404, (who, method, url, response.text)
            assert response.json()["error"]["code"] == "team_not_found", response.text
    # The other team's captain cannot reach this task through their own board either.
    other_base = w.base.replace(str(w.team.id), str(w.other_team.id))
    response = await client.get(f"{other_base}/{task['id']}", headers=w.auth("carol"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "task_not_found"
    # And the task is exactly as alice left it.
    after = await client.get(f"{w.base}/{task['id']}", headers=w.auth("bob"))
    assert after.json() == task


async def test_a_removed_member_loses_the_board(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await build_world(session)
    assert (await client.get(w.base, headers=w.auth("bob"))).status_code == 200
    row = await session.scalar(
        select(TeamMember).where(TeamMember.team_id == w.team.id, TeamMember.user_id == w.bob.id)
    )
    assert row is not None
    await session.delete(row)
    await session.flush()
    assert (await client.get(w.base, headers=w.auth("bob"))).status_code == 404
    await add_member(session, w.event, w.team, w.bob)
    assert (await client.get(w.base, headers=w.auth("bob"))).status_code == 200


async def test_my_tasks_are_mine_alone(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    w = await build_world(session)
    mine = await client.post("/api/v1/me/tasks", headers=w.auth("alice"), json={"title": "Mine"})
    assert mine.status_code == 201, mine.text
    task_id = mine.json()["id"]
    assert mine.json()["owner_id"] == str(w.alice.id)
    assert mine.json()["team_id"] is None
    team_task = await client.post(w.base, headers=w.auth("alice"), json={"title": "Team"})
    for who in ("bob", "carol", "organizer", "stranger"):
        listed = await client.get("/api/v1/me/tasks", headers=w.auth(who))
        assert listed.json()["items"] == [], who
        for method, url, body in (
            ("GET", f"/api/v1/me/tasks/{task_id}", None),
            ("PATCH", f"/api/v1/me/tasks/{task_id}", {"title": "x"}),
            ("POST", f"/api/v1/me/tasks/{task_id}/move", {"direction": "up"}),
            ("DELETE", f"/api/v1/me/tasks/{task_id}", None),
        ):
            response = await client.request(method, url, headers=w.auth(who), json=body)
            assert response.status_code == 404, (who, method, response.text)
            assert response.json()["error"]["code"] == "task_not_found"
    # A team task is not reachable through the personal list, even for its author.
    response = await client.get(
        f"/api/v1/me/tasks/{team_task.json()['id']}", headers=w.auth("alice")
    )
    assert response.status_code == 404
    # Signed out: every /me route asks for authentication.
    assert (await client.get("/api/v1/me/tasks")).status_code == 401
    assert (await client.get(f"/api/v1/me/tasks/{task_id}")).status_code == 401
    listed = await client.get("/api/v1/me/tasks", headers=w.auth("alice"))
    assert [t["id"] for t in listed.json()["items"]] == [task_id]


async def test_task_list_query_count_does_not_grow(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    w = await build_world(session)
    # The first use of a token records it (one UPDATE); measure after that.
    await client.get(w.base, headers=w.auth("bob"))
    await client.get("/api/v1/me/tasks", headers=w.auth("alice"))

    async def count() -> int:
        with count_queries(connection) as log:
            response = await client.get(f"{w.base}?limit=200", headers=w.auth("bob"))
        assert response.status_code == 200
        with count_queries(connection) as mine_log:
            mine = await client.get("/api/v1/me/tasks?limit=200", headers=w.auth("alice"))
        assert mine.status_code == 200
        return log.count * 1000 + mine_log.count

    await client.post(w.base, headers=w.auth("alice"), json={"title": "t0", "assignee_id": None})
    await client.post("/api/v1/me/tasks", headers=w.auth("alice"), json={"title": "m0"})
    one = await count()
    for i in range(1, 50):
        await client.post(
            w.base, headers=w.auth("alice"), json={"title": f"t{i}", "assignee_id": str(w.bob.id)}
        )
        await client.post("/api/v1/me/tasks", headers=w.auth("alice"), json={"title": f"m{i}"})
    listed = await client.get(f"{w.base}?limit=200", headers=w.auth("bob"))
    assert listed.json()["total"] == 50
    assert await count() == one
