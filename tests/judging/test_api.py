"""Judging through the API and the database: criteria, assignment, conflicts (refused on assign,
view and score, also when they appear later), evaluations with history, the ranking."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.constraints import constraint_name
from hackops.models import (
    EvaluationHistory,
    Event,
    EventRoleGrant,
    JudgeAssignment,
    Submission,
    TeamMember,
)
from tests.factories import create_criterion, create_submitted, create_team
from tests.people import person
from tests.teams.helpers import Stage, stage

NOW = datetime.now(UTC)


def code(response: httpx2.Response) -> str:
    return str(response.json()["error"]["code"])


async def judged_event(
    session: AsyncSession, *, teams: int = 4, judges: int = 4
) -> tuple[Stage, list[uuid.UUID], list[str]]:
    """Teams with submitted projects (one captain each) and judges with bearer tokens."""
    names = tuple(f"p{i}" for i in range(teams))
    s = await stage(
        session,
        registered=names,
        registration_opens_at=NOW - timedelta(days=5),
        starts_at=NOW - timedelta(days=2),
        submissions_close_at=NOW - timedelta(hours=1),
    )
    submission_ids = []
    for name in names:
        team = await create_team(session, s.event, s.users[name])
        submission = await create_submitted(
            session, team, title=f"Project {name}", submitted_at=NOW - timedelta(hours=2)
        )
        submission_ids.append(submission.id)
    judge_names = []
    for i in range(judges):
        name = f"judge{i}"
        user, token = await person(session, name=name, email=f"{name}-{uuid.uuid4().hex[:6]}@x.org")
        s.users[name], s.tokens[name] = user, token
        session.add(
            EventRoleGrant(org_id=s.org.id, event_id=s.event.id, user_id=user.id, role="judge")
        )
        judge_names.append(name)
    await session.flush()
    return s, submission_ids, judge_names


async def add_criteria(client: httpx2.AsyncClient, s: Stage) -> list[str]:
    ids = []
    for name, weight in (("Impact", 2.0), ("Execution", 1.0)):
        created = await client.post(
            f"{s.base}/criteria",
            headers=s.auth("olga"),
            json={"name": name, "weight": weight, "max_score": 10},
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids


async def test_assignment_scoring_history_and_ranking(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, submissions, _judges = await judged_event(session)
    criteria = await add_criteria(client, s)
    assigned = await client.post(
        f"{s.base}/judging/assignments", headers=s.auth("olga"), json={"k": 2, "seed": 7}
    )
    assert assigned.status_code == 200, assigned.text
    report = assigned.json()
    assert (report["assigned"], report["load_min"], report["load_max"]) == (8, 2, 2)
    assert report["connected"] is True

    queue = (await client.get(f"{s.base}/judging/queue", headers=s.auth("judge0"))).json()
    assert (queue["done"], queue["total"]) == (0, 2)
    target = queue["items"][0]["submission_id"]
    url = f"{s.base}/judging/submissions/{target}/evaluation"
    partial = await client.put(
        url, headers=s.auth("judge0"), json={"scores": {criteria[0]: 8}, "submit": True}
    )
    assert (partial.status_code, code(partial)) == (409, "invalid_scores")
    draft = await client.put(url, headers=s.auth("judge0"), json={"scores": {criteria[0]: 8}})
    assert draft.json()["status"] == "draft"
    done = await client.put(
        url,
        headers=s.auth("judge0"),
        json={"scores": {criteria[0]: 8, criteria[1]: 5}, "submit": True, "feedback": "Nice"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["raw_score"] == 70.0  # (2*0.8 + 1*0.5) / 3
    history = await session.scalar(
        select(func.count()).where(EvaluationHistory.evaluation_id == uuid.UUID(done.json()["id"]))
    )
    assert history == 2
    queue = (await client.get(f"{s.base}/judging/queue", headers=s.auth("judge0"))).json()
    assert queue["done"] == 1

    locked = await client.patch(
        f"{s.base}/criteria/{criteria[0]}", headers=s.auth("olga"), json={"weight": 5}
    )
    assert (locked.status_code, code(locked)) == (409, "criteria_locked")
    described = await client.patch(
        f"{s.base}/criteria/{criteria[0]}", headers=s.auth("olga"), json={"description": "Why"}
    )
    assert described.status_code == 200

    not_mine = next(
        x for x in submissions if str(x) not in {i["submission_id"] for i in queue["items"]}
    )
    refused = await client.put(
        f"{s.base}/judging/submissions/{not_mine}/evaluation",
        headers=s.auth("judge0"),
        json={"scores": {}},
    )
    assert (refused.status_code, code(refused)) == (404, "assignment_not_found")

    ranking = await client.get(f"{s.base}/judging/ranking", headers=s.auth("olga"))
    assert ranking.status_code == 200
    assert [i["submission_id"] for i in ranking.json()["items"]] == [target]
    for who in ("p0", "judge0", "otto", "anonymous"):
        hidden = await client.get(f"{s.base}/judging/ranking", headers=s.auth(who))
        assert hidden.status_code in (403, 404), who


async def test_conflicted_judges_are_never_assigned_shown_or_stored(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, submissions, _judges = await judged_event(session, teams=4, judges=4)
    criteria = await add_criteria(client, s)
    team_of = dict((await session.execute(select(Submission.id, Submission.team_id))).all())
    # judge0 declares a conflict with the first team; judge1 becomes a member of the second.
    declared = await client.post(
        f"{s.base}/judging/conflicts",
        headers=s.auth("judge0"),
        json={"team_id": str(team_of[submissions[0]]), "reason": "my cousin"},
    )
    assert declared.status_code == 201, declared.text
    from tests.factories import create_registration

    await create_registration(session, s.event, s.users["judge1"])  # a participant now
    await client.post(f"{s.base}/judging/assignments", headers=s.auth("olga"), json={"k": 2})
    pairs = set(
        (
            await session.execute(
                select(JudgeAssignment.judge_id, JudgeAssignment.submission_id).where(
                    JudgeAssignment.state == "assigned"
                )
            )
        ).all()
    )
    assert (s.users["judge0"].id, submissions[0]) not in pairs
    assert all(j != s.users["judge1"].id for j, _ in pairs)
    for sub in submissions:  # view and score: 404 for the conflicted pairs
        for judge in ("judge1",):
            response = await client.put(
                f"{s.base}/judging/submissions/{sub}/evaluation",
                headers=s.auth(judge),
                json={"scores": {criteria[0]: 1}},
            )
            assert response.status_code == 404
    conflicted = await client.get(
        f"{s.base}/judging/submissions/{submissions[0]}/evaluation", headers=s.auth("judge0")
    )
    assert conflicted.status_code == 404

    # A conflict appearing after scoring: the judge joins the team; the score disappears.
    judge, sub = next((j, x) for j, x in sorted(pairs, key=str) if j == s.users["judge2"].id)
    saved = await client.put(
        f"{s.base}/judging/submissions/{sub}/evaluation",
        headers=s.auth("judge2"),
        json={"scores": {criteria[0]: 9, criteria[1]: 9}, "submit": True},
    )
    assert saved.status_code == 200
    await create_registration(session, s.event, s.users["judge2"])
    session.add(
        TeamMember(org_id=s.org.id, event_id=s.event.id, team_id=team_of[sub], user_id=judge)
    )
    await session.flush()
    queue = (await client.get(f"{s.base}/judging/queue", headers=s.auth("judge2"))).json()
    assert str(sub) not in {i["submission_id"] for i in queue["items"]}
    ranking = (await client.get(f"{s.base}/judging/ranking", headers=s.auth("olga"))).json()
    assert ranking["items"] == []


async def test_criterion_names_are_unique_per_event_whatever_the_case(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _, _ = await judged_event(session, teams=1, judges=1)
    impact, execution = await add_criteria(client, s)
    again = await client.post(
        f"{s.base}/criteria", headers=s.auth("olga"), json={"name": "  IMPACT "}
    )
    assert (again.status_code, code(again)) == (409, "criterion_name_taken")
    assert again.json()["error"]["message"] == (
        "This event already has a criterion named “IMPACT”; choose another name."
    )
    assert again.json()["error"]["details"] == {"field": "name"}
    renamed = await client.patch(
        f"{s.base}/criteria/{execution}", headers=s.auth("olga"), json={"name": "impact"}
    )
    assert (renamed.status_code, code(renamed)) == (409, "criterion_name_taken")
    kept = await client.patch(
        f"{s.base}/criteria/{impact}", headers=s.auth("olga"), json={"name": "Impact"}
    )
    assert kept.status_code == 200, kept.text  # its own name is no clash


async def test_the_database_holds_one_criterion_per_name(session: AsyncSession) -> None:
    """Two concurrent adds both pass the service's check; the unique index refuses the second."""
    first = await create_criterion(session, name="Impact")
    event = await session.get_one(Event, first.event_id)
    with pytest.raises(IntegrityError) as refused:
        async with session.begin_nested():
            await create_criterion(session, event, name="impact")
    assert constraint_name(refused.value) == "uq_judging_criteria_event_id_name"
