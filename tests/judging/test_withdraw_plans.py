"""The judging withdrawal triggers run with generic plans (migration 0035): planned once per
connection, not at every registration, and still withdrawing a judge who registers after the
plan was made with people who were no judges."""

from __future__ import annotations

import httpx2
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event, JudgeAssignment
from tests.factories import create_registration, create_user
from tests.judging.test_windows import evaluations_of, scored


async def test_both_withdrawal_triggers_keep_one_plan(session: AsyncSession) -> None:
    rows = await session.execute(
        text(
            "SELECT proname, array_to_string(proconfig, ',') FROM pg_proc"
            " WHERE proname IN ('registrations_withdraw_judging', 'team_members_withdraw_judging')"
        )
    )
    configs = dict(rows.tuples().all())
    assert configs == {
        "registrations_withdraw_judging": "plan_cache_mode=force_generic_plan",
        "team_members_withdraw_judging": "plan_cache_mode=force_generic_plan",
    }


async def test_a_judge_registering_after_many_others_is_withdrawn(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _, _ = await scored(client, session)
    event = await session.get_one(Event, s.event.id)
    judge = s.users["judge0"]
    mine = select(func.count()).where(
        JudgeAssignment.judge_id == judge.id, JudgeAssignment.state == "assigned"
    )
    assert await evaluations_of(session, s) == 1
    assert await session.scalar(mine) == 2
    # Eight people who judge nothing register first, on this connection: the statements'
    # plan is made and kept before the judge's turn.
    for _ in range(8):
        await create_registration(session, event, await create_user(session))
    await create_registration(session, event, judge)
    assert await evaluations_of(session, s) == 0
    assert await session.scalar(mine) == 0
    withdrawn = select(JudgeAssignment.reason).where(JudgeAssignment.judge_id == judge.id)
    assert set(await session.scalars(withdrawn)) == {"registered as a participant"}
