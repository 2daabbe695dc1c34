"""Appends and moves on one board from many transactions at once keep positions distinct."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from hackops.actor import Actor
from hackops.db import Database
from hackops.models import Task, Team, User
from hackops.tasks import service
from hackops.tenancy import set_actor, set_tenant
from tests.factories import create_event, create_organization, create_registration, create_team
from tests.factories import create_user as make_user

#: Below the pool's size + overflow (5 + 10 in tests): every writer holds a connection at once.
WRITERS = 12
ROUNDS = 3


async def test_concurrent_adds_and_moves_keep_positions_distinct(committed_db: Database) -> None:
    async with committed_db.transaction() as session:
        org = await create_organization(session)
        event = await create_event(session, org, published_at=datetime.now(UTC))
        user = await make_user(session)
        await create_registration(session, event, user)
        team = await create_team(session, event, user)
        org_id, team_id, user_id = org.id, team.id, user.id

    async def in_transaction(work: str, barrier: asyncio.Barrier, i: int) -> None:
        async with committed_db.transaction() as session:
            await set_tenant(session, org_id)
            await set_actor(session, user_id)
            me = await session.get(User, user_id)
            board_team = await session.get(Team, team_id)
            assert me is not None
            assert board_team is not None
            actor = Actor(me)
            board = service.Board(team=board_team)
            await barrier.wait()
            if work == "add":
                await service.create_task(session, actor, board, title=f"t{i}")
            else:
                tasks = list(await session.scalars(select(Task).where(Task.team_id == team_id)))
                task = tasks[i % len(tasks)]
                before = tasks[(i * 7 + 3) % len(tasks)].id
                await service.move_task(session, actor, board, task, before=before)

    async def positions() -> list[int]:
        async with committed_db.transaction() as session:
            await set_tenant(session, org_id)
            return list(await session.scalars(select(Task.position).where(Task.team_id == team_id)))

    for round_ in range(ROUNDS):
        barrier = asyncio.Barrier(WRITERS)
        async with asyncio.timeout(60):
            await asyncio.gather(*(in_transaction("add", barrier, i) for i in range(WRITERS)))
        found = await positions()
        assert len(found) == WRITERS * (round_ + 1)
        assert len(set(found)) == len(found), sorted(found)
        barrier = asyncio.Barrier(WRITERS)
        async with asyncio.timeout(60):
            await asyncio.gather(*(in_transaction("move", barrier, i) for i in range(WRITERS)))
        found = await positions()
        assert len(found) == WRITERS * (round_ + 1)
        assert len(set(found)) == len(found), sorted(found)
