"""Judging and results write their domain events through the real API: judges handed new work (a
run, a re-run, a re-balance when a judge is granted), flags raised, resolved and withdrawn,
results published — one row per change, none for a refusal — and their fan-out tells the judge,
the organizers or the event's people, never whoever acted."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Team
from tests.factories import create_registration, create_team_member
from tests.judging.test_api import judged_event
from tests.judging.test_flags import flag_url, flagged_world
from tests.outbox.helpers import check, dispatch, events, one
from tests.people import person

CONFIRMED = datetime.now(UTC)


async def test_an_assignment_run_tells_each_judge_handed_new_work_once(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _, judges = await judged_event(session, teams=4, judges=4)
    s.users["judge0"].email_verified_at = CONFIRMED
    await session.flush()
    assignments = f"{s.base}/judging/assignments"
    bad = await client.post(assignments, headers=s.auth("olga"), json={"k": 0})
    assert bad.status_code == 422
    by_judge = await client.post(assignments, headers=s.auth("judge0"), json={"k": 2})
    assert by_judge.status_code in (403, 404)
    assert await events(session, "judging.judge_assigned", s.event.id) == []

    ran = await client.post(assignments, headers=s.auth("olga"), json={"k": 2, "seed": 7})
    assert ran.status_code == 200, ran.text
    again = await client.post(assignments, headers=s.auth("olga"), json={"k": 2, "seed": 7})
    assert again.status_code == 200  # the same plan: nobody has new work, no new event

    rows = await events(session, "judging.judge_assigned", s.event.id)
    names = {str(s.users[j].id): j for j in judges}
    assert sorted((names[r.payload["judge_id"]], r.payload["assigned"]) for r in rows) == [
        (judge, 2) for judge in judges
    ]
    assert all(str(r.subject_id) == r.payload["judge_id"] for r in rows)
    first = next(r for r in rows if r.subject_id == s.users["judge0"].id)
    check(
        first,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.users["olga"].id,
        payload={"judge_id": s.users["judge0"].id, "assigned": 2},
    )
    told = await dispatch(session, first)
    judge0 = s.users["judge0"].id
    assert set(told.in_app) == {judge0}
    assert set(told.mailed) == {judge0}
    assert told.title(judge0) == f"2 new projects to review at {s.event.name}"
    assert told.in_app[judge0].link == f"/orgs/{s.org.slug}/events/{s.event.slug}/judging"


async def test_a_judge_granted_after_the_run_is_told_of_the_work_the_rebalance_hands_them(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _, _ = await judged_event(session, teams=4, judges=2)
    ran = await client.post(
        f"{s.base}/judging/assignments", headers=s.auth("olga"), json={"k": 2, "seed": 7}
    )
    assert ran.status_code == 200, ran.text
    before = len(await events(session, "judging.judge_assigned", s.event.id))
    newcomer, _ = await person(session, verified=True, name="Nadia")
    granted = await client.post(
        f"{s.base}/roles", headers=s.auth("olga"), json={"email": newcomer.email, "role": "judge"}
    )
    assert granted.status_code in (200, 201), granted.text
    rows = (await events(session, "judging.judge_assigned", s.event.id))[before:]
    assert [(r.subject_id, r.actor_id) for r in rows] == [(newcomer.id, s.users["olga"].id)]
    assert rows[0].payload["assigned"] > 0
    told = await dispatch(session, rows[0])
    assert told.people == {newcomer.id}


async def test_a_flag_raised_tells_the_organizers_in_the_app_and_its_resolution_the_judge(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, submissions = await flagged_world(session)
    s.users["judge0"].email_verified_at = CONFIRMED
    await session.flush()
    no_note = await client.post(
        flag_url(s, submissions[0]), headers=s.auth("judge0"), json={"reason": "other"}
    )
    assert no_note.status_code == 422
    not_mine = await client.post(
        flag_url(s, submissions[2]), headers=s.auth("judge0"), json={"reason": "broken"}
    )
    assert not_mine.status_code == 404
    assert await events(session, "judging.flag_raised", s.event.id) == []

    made = await client.post(
        flag_url(s, submissions[0]), headers=s.auth("judge0"), json={"reason": "broken"}
    )
    assert made.status_code == 201, made.text
    twice = await client.post(
        flag_url(s, submissions[0]), headers=s.auth("judge0"), json={"reason": "broken"}
    )
    assert twice.status_code == 409
    flag_id = made.json()["id"]
    raised = await one(session, "judging.flag_raised", s.event.id)
    check(
        raised,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.users["judge0"].id,
        payload={
            "flag_id": flag_id,
            "submission_id": submissions[0],
            "judge_id": s.users["judge0"].id,
            "reason": "broken",
        },
    )
    organizers = {s.users["olga"].id, s.users["olive"].id}
    told = await dispatch(session, raised)
    assert set(told.in_app) == organizers
    assert told.mailed == {}  # the flag's own mail reached them already
    assert told.title(s.users["olga"].id) == "A judge flagged “Project p0” (broken)"
    for other in ("judge0", "judge1", "mia"):
        assert s.users[other].id not in told.people

    resolve = f"{s.base}/judging/flags/{flag_id}/resolve"
    empty = await client.post(resolve, headers=s.auth("olga"), json={"resolution": "  "})
    assert empty.status_code == 422
    by_judge = await client.post(resolve, headers=s.auth("judge0"), json={"resolution": "ok"})
    assert by_judge.status_code in (403, 404)
    done = await client.post(resolve, headers=s.auth("olga"), json={"resolution": "Link fixed."})
    assert done.status_code == 200, done.text
    again = await client.post(resolve, headers=s.auth("olga"), json={"resolution": "Again."})
    assert again.status_code == 409
    resolved = await one(session, "judging.flag_resolved", s.event.id)
    check(
        resolved,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.users["olga"].id,
        payload={
            "flag_id": flag_id,
            "submission_id": submissions[0],
            "judge_id": s.users["judge0"].id,
            "withdrawn": False,
        },
    )
    told = await dispatch(session, resolved)
    judge0 = s.users["judge0"].id
    assert set(told.in_app) == {judge0}
    assert set(told.mailed) == {judge0}
    assert told.in_app[judge0].body == "The organizers' note: Link fixed."
    assert told.in_app[judge0].link == (
        f"/orgs/{s.org.slug}/events/{s.event.slug}/judging/{submissions[0]}"
    )


async def test_a_withdrawn_flag_tells_the_organizers_and_not_the_judge(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, submissions = await flagged_world(session)
    made = await client.post(
        flag_url(s, submissions[1]), headers=s.auth("judge1"), json={"reason": "ineligible"}
    )
    flag_id = made.json()["id"]
    withdraw = f"{s.base}/judging/flags/{flag_id}/withdraw"
    by_other = await client.post(withdraw, headers=s.auth("judge0"))
    assert by_other.status_code == 404
    assert (await client.post(withdraw, headers=s.auth("judge1"))).status_code == 200
    assert (await client.post(withdraw, headers=s.auth("judge1"))).status_code == 409
    row = await one(session, "judging.flag_resolved", s.event.id)
    assert row.payload["withdrawn"] is True
    assert row.actor_id == s.users["judge1"].id
    told = await dispatch(session, row)
    assert set(told.in_app) == {s.users["olga"].id, s.users["olive"].id}
    assert told.mailed == {}


async def test_publishing_results_tells_every_participant_and_judge_once(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _, _ = await judged_event(session, teams=2, judges=1)
    solo, _ = await person(session, verified=True, name="Solo")
    await create_registration(session, s.event, solo)
    member, _ = await person(session, verified=True, name="Member")
    await create_registration(session, s.event, member)
    team_of_p0 = await session.scalar(
        select(Team).where(Team.event_id == s.event.id, Team.captain_id == s.users["p0"].id)
    )
    assert team_of_p0 is not None
    await create_team_member(session, team_of_p0, member)
    for name in ("p0", "judge0"):
        s.users[name].email_verified_at = CONFIRMED
    await session.flush()
    by_judge = await client.post(f"{s.base}/publish-results", headers=s.auth("judge0"))
    assert by_judge.status_code in (403, 404)
    assert await events(session, "results.published", s.event.id) == []
    published = await client.post(f"{s.base}/publish-results", headers=s.auth("olga"))
    assert published.status_code == 200, published.text
    twice = await client.post(f"{s.base}/publish-results", headers=s.auth("olga"))
    assert twice.status_code == 409

    row = await one(session, "results.published", s.event.id)
    check(
        row,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.users["olga"].id,
        payload={"event_id": s.event.id},
    )
    told = await dispatch(session, row)
    team_members = {s.users["p0"].id, s.users["p1"].id, member.id}
    judge0 = s.users["judge0"].id
    assert set(told.in_app) == team_members | {solo.id, judge0}
    # Teams have the results mail with their own place; the others get it by mail here.
    assert set(told.mailed) == {solo.id, judge0}
    assert told.title(solo.id) == f"The results of {s.event.name} are out"
    assert told.in_app[solo.id].link == f"/orgs/{s.org.slug}/events/{s.event.slug}/results"
    for outsider in ("olga", "otto", "walt"):
        assert s.users[outsider].id not in told.people
