"""Judging under concurrency, through the real HTTP stack and pool (the teams module's server).

- 20 score posts by one judge for one submission at once → one evaluation, 20 history rows.
- 50 judges, each racing "register and join the team" against "score that team" → no stored
  score by a member, whichever wins.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx2
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from hackops.models import (
    Criterion,
    Evaluation,
    EvaluationHistory,
    Event,
    EventRoleGrant,
    JudgeAssignment,
    Registration,
    Submission,
    Team,
    TeamMember,
)
from tests.factories import create_submitted
from tests.teams.test_concurrency import NOW, Seeder, http, owner, server  # noqa: F401

pytestmark = pytest.mark.slow


async def judged(
    session: AsyncSession, teams: int, judges: int
) -> tuple[str, Event, list[Team], list[Submission], list[tuple[object, str]], Criterion]:
    seed = Seeder(session)
    org, event = await seed.start(team_max=5)
    event.registration_opens_at = NOW - timedelta(days=3)
    captains = await seed.people(event, teams)
    made = [await seed.team(event, c, max_members=5) for c, _ in captains]
    submissions = [await create_submitted(session, t, title="P", submitted_at=NOW) for t in made]
    criterion = Criterion(org_id=org.id, event_id=event.id, name="Overall", max_score=10)
    session.add(criterion)
    await session.flush()
    people = await seed.people(event, judges)
    for user, _ in people:  # judges are not participants: drop the seeded registration
        await session.execute(
            Registration.__table__.delete().where(Registration.user_id == user.id)
        )
        session.add(EventRoleGrant(org_id=org.id, event_id=event.id, user_id=user.id, role="judge"))
    await session.flush()
    return org.slug, event, made, submissions, [(u.id, t) for u, t in people], criterion


async def test_twenty_score_posts_make_one_evaluation(
    owner: AsyncEngine,  # noqa: F811
    http: httpx2.AsyncClient,  # noqa: F811
) -> None:
    for _ in range(5):
        async with AsyncSession(owner, expire_on_commit=False) as session, session.begin():
            slug, event, _, submissions, judges, criterion = await judged(session, 1, 1)
            judge_id, token = judges[0]
            session.add(
                JudgeAssignment(
                    org_id=event.org_id,
                    event_id=event.id,
                    judge_id=judge_id,
                    submission_id=submissions[0].id,
                )
            )
        url = (
            f"/api/v1/organizations/{slug}/events/{event.slug}"
            f"/judging/submissions/{submissions[0].id}/evaluation"
        )
        barrier = asyncio.Barrier(20)

        async def post(
            n: int,
            url: str = url,
            token: str = token,
            barrier: asyncio.Barrier = barrier,
            criterion: Criterion = criterion,
        ) -> httpx2.Response:
            await barrier.wait()
            return await http.put(
                url,
                headers={"Authorization": f"Bearer {token}"},
                json={"scores": {str(criterion.id): n % 11}, "submit": n % 2 == 0},
            )

        responses = await asyncio.gather(*(post(n) for n in range(20)))
        assert sorted(r.status_code for r in responses) == [200] * 20
        async with AsyncSession(owner) as session, session.begin():
            await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
            ids = list(
                await session.scalars(
                    select(Evaluation.id).where(Evaluation.submission_id == submissions[0].id)
                )
            )
            assert len(ids) == 1
            history = await session.scalar(
                select(func.count()).where(EvaluationHistory.evaluation_id == ids[0])
            )
            assert history == 20


async def test_joining_the_team_and_scoring_it_never_leave_a_score_by_a_member(
    owner: AsyncEngine,  # noqa: F811
    http: httpx2.AsyncClient,  # noqa: F811
) -> None:
    async with AsyncSession(owner, expire_on_commit=False) as session, session.begin():
        slug, event, teams, submissions, judges, criterion = await judged(session, 50, 50)
        for (judge_id, _), submission in zip(judges, submissions, strict=True):
            session.add(
                JudgeAssignment(
                    org_id=event.org_id,
                    event_id=event.id,
                    judge_id=judge_id,
                    submission_id=submission.id,
                )
            )
    base = f"/api/v1/organizations/{slug}/events/{event.slug}"
    barrier = asyncio.Barrier(100)

    async def join(token: str, team: Team) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        await barrier.wait()
        registered = await http.post(f"{base}/registrations", headers=auth, json={})
        assert registered.status_code == 201, registered.text
        joined = await http.post(f"{base}/teams/join", headers=auth, json={"code": team.join_code})
        assert joined.status_code == 200, joined.text

    async def score(token: str, submission: Submission) -> int:
        await barrier.wait()
        response = await http.put(
            f"{base}/judging/submissions/{submission.id}/evaluation",
            headers={"Authorization": f"Bearer {token}"},
            json={"scores": {str(criterion.id): 7}, "submit": True},
        )
        assert response.status_code < 500, response.text
        return response.status_code

    tasks = []
    for (_, token), team, submission in zip(judges, teams, submissions, strict=True):
        tasks.append(join(token, team))
        tasks.append(score(token, submission))
    await asyncio.gather(*tasks)
    async with AsyncSession(owner) as session, session.begin():
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        by_members = await session.scalar(
            select(func.count())
            .select_from(Evaluation)
            .join(
                TeamMember,
                (TeamMember.team_id == Evaluation.team_id)
                & (TeamMember.user_id == Evaluation.judge_id),
            )
            .where(Evaluation.event_id == event.id)
        )
        members = await session.scalar(
            select(func.count())
            .select_from(TeamMember)
            .where(TeamMember.event_id == event.id, TeamMember.role == "member")
        )
        assert (by_members, members) == (0, 50)
