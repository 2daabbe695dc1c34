"""The plan's limit on active events holds when organizers create events at the same moment
(real commits, sessions released together by a barrier, checked in the database afterwards)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from hackops.actor import SYSTEM
from hackops.db import Database
from hackops.events.service import EventLimitReached, create_event
from hackops.models import Event, Organization
from hackops.tenancy import set_tenant

pytestmark = pytest.mark.slow

CROWD = 5  # within the test pool (5 + overflow)
LIMIT = 2


async def test_concurrent_creations_never_exceed_the_plan(committed_db: Database) -> None:
    async with committed_db.transaction() as session:
        org = Organization(slug="race", name="Race", max_active_events=LIMIT)
        session.add(org)
        await session.flush()
        org_id = org.id

    for attempt in range(3):
        barrier = asyncio.Barrier(CROWD)

        async def one(i: int, attempt: int = attempt, barrier: asyncio.Barrier = barrier) -> str:
            async with committed_db.transaction() as session:
                await set_tenant(session, org_id)
                mine = await session.get_one(Organization, org_id)
                await barrier.wait()
                try:
                    await create_event(
                        session, SYSTEM, mine, {"slug": f"e{attempt}-{i}", "name": "E"}
                    )
                except EventLimitReached:
                    return "refused"
                return "created"

        outcomes = await asyncio.gather(*(one(i) for i in range(CROWD)))
        expected_created = LIMIT if attempt == 0 else 0
        assert sorted(outcomes).count("created") == expected_created, outcomes

    async with committed_db.transaction() as session:
        await set_tenant(session, org_id)
        count = await session.scalar(
            select(func.count()).select_from(Event).where(Event.org_id == org_id)
        )
    assert count == LIMIT
