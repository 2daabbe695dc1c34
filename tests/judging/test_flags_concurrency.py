"""Judges' flags under concurrency, through the real HTTP stack and pool (the teams module's
server): ten flag posts by one judge for one project, released together, leave exactly one open
flag, one audit row and one mail per organizer; the others are 409 `already_flagged`. Repeated."""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hackops.models import AuditEntry, JudgeAssignment, JudgingFlag, Membership, OutboundEmail
from tests.judging.test_concurrency import judged
from tests.teams.test_concurrency import NOW, Seeder, http, owner, server  # noqa: F401

pytestmark = pytest.mark.slow

ROUNDS = 5
CLIENTS = 10


async def test_ten_flag_posts_by_one_judge_make_one_open_flag(
    owner: AsyncEngine,  # noqa: F811
    http: httpx2.AsyncClient,  # noqa: F811
) -> None:
    for _ in range(ROUNDS):
        async with AsyncSession(owner, expire_on_commit=False) as session, session.begin():
            slug, event, _, submissions, judges, _ = await judged(session, 1, 1)
            judge_id, token = judges[0]
            session.add(
                JudgeAssignment(
                    org_id=event.org_id,
                    event_id=event.id,
                    judge_id=judge_id,
                    submission_id=submissions[0].id,
                )
            )
            organizer = (await Seeder(session).people(event, 1))[0][0]
            session.add(Membership(org_id=event.org_id, user_id=organizer.id, role="organizer"))
        url = (
            f"/api/v1/organizations/{slug}/events/{event.slug}"
            f"/judging/submissions/{submissions[0].id}/flags"
        )
        barrier = asyncio.Barrier(CLIENTS)

        async def flag(
            n: int, url: str = url, token: str = token, barrier: asyncio.Barrier = barrier
        ) -> httpx2.Response:
            await barrier.wait()
            return await http.post(
                url,
                headers={"Authorization": f"Bearer {token}"},
                json={"reason": "other", "note": f"Attempt {n}"},
            )

        responses = await asyncio.gather(*(flag(n) for n in range(CLIENTS)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * (CLIENTS - 1), [r.text for r in responses]
        assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
            "already_flagged"
        }
        winner = next(r.json() for r in responses if r.status_code == 201)
        async with AsyncSession(owner) as session, session.begin():
            await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
            stored = list(
                await session.execute(
                    select(JudgingFlag.id, JudgingFlag.status, JudgingFlag.note).where(
                        JudgingFlag.submission_id == submissions[0].id
                    )
                )
            )
            assert [(str(i), s, n) for i, s, n in stored] == [
                (winner["id"], "open", winner["note"])
            ]
            audits = await session.scalar(
                select(func.count()).where(
                    AuditEntry.org_id == event.org_id, AuditEntry.action == "judging_flag.created"
                )
            )
            assert audits == 1
            mails = await session.scalar(
                select(func.count()).where(OutboundEmail.user_id == organizer.id)
            )
            assert mails == 1
