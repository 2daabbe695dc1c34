"""How many statements a task create sends: the board check, the assignee's lock and the board
lock in one; the task, its position and its audit row in another. The statements that find out
who is asking and load the event (the request's authorization, before the route) are counted
apart: they are the same for every event route and not this module's to cut."""

from __future__ import annotations

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.actor import Actor
from hackops.models import AuditEntry, Task
from hackops.tasks import service
from hackops.tenancy import set_actor
from tests.helpers import AUTHORIZATION_AT_MOST, count_queries
from tests.helpers import split_at as split
from tests.tasks.world import build_world


async def test_a_team_task_create_is_two_statements(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    w = await build_world(session)
    await client.post(w.base, headers=w.auth("alice"), json={"title": "warm"})  # token's first use
    for body in ({"title": "Plain"}, {"title": "Assigned", "assignee_id": str(w.bob.id)}):
        with count_queries(connection) as log:
            created = await client.post(w.base, headers=w.auth("alice"), json=body)
        assert created.status_code == 201, created.text
        authorization, write = split(log, "pg_advisory_xact_lock")
        assert len(write) == 2, write
        assert len(authorization) <= AUTHORIZATION_AT_MOST, authorization
    tasks = (await client.get(w.base, headers=w.auth("bob"))).json()["items"]
    assert [(t["title"], t["position"]) for t in tasks] == [
        ("warm", 1024),
        ("Plain", 2048),
        ("Assigned", 3072),
    ]
    assert tasks[2]["assignee_id"] == str(w.bob.id)
    audited = list(
        await session.execute(
            select(AuditEntry.resource_id, AuditEntry.org_id, AuditEntry.details).where(
                AuditEntry.action == "task.created"
            )
        )
    )
    assert sorted(audited, key=lambda a: a.details["title"]) == sorted(
        [(t["id"], w.org.id, {"team_id": str(w.team.id), "title": t["title"]}) for t in tasks],
        key=lambda a: a[2]["title"],
    )


async def test_refusals_send_nothing_after_the_first_statement(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    w = await build_world(session)
    await client.post(w.base, headers=w.auth("alice"), json={"title": "warm"})
    await client.post(w.base, headers=w.auth("carol"), json={"title": "warm"})
    for who, body, status, code in (
        ("alice", {"title": "x", "assignee_id": str(w.carol.id)}, 422, "assignee_not_member"),
        ("carol", {"title": "x"}, 404, "team_not_found"),
    ):
        with count_queries(connection) as log:
            refused = await client.post(w.base, headers=w.auth(who), json=body)
        assert (refused.status_code, refused.json()["error"]["code"]) == (status, code)
        _, write = split(log, "pg_advisory_xact_lock")
        assert len(write) == 1, write


async def test_create_task_on_a_loaded_board_is_two_statements(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    """The pages' way in (the board already loaded): the same two statements, team or own."""
    w = await build_world(session)
    await set_actor(session, w.alice.id)  # personal rows are their owner's (row-level security)
    team_board = await service.load_team_board(session, Actor(w.alice), w.event, w.team.id)
    own_board = service.personal_board(w.alice.id)
    for board, assignee in ((team_board, w.bob.id), (own_board, w.alice.id)):
        with count_queries(connection) as log:
            first = await service.create_task(
                session, Actor(w.alice), board, title="a", assignee_id=assignee
            )
        assert log.count == 2, log.statements
        second = await service.create_task(session, Actor(w.alice), board, title="b")
        assert (first.position, second.position) == (1024, 2048)
        assert first.assignee_id == assignee
        stored = await session.get_one(Task, second.id, populate_existing=True)
        assert stored.position == 2048
