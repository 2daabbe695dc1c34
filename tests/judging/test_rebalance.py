"""Re-balancing the assignment when a judge is added or removed (through the roles API and by
accepting an invitation): every submission keeps k non-conflicted active judges, loads stay
within one of each other, started work keeps its pairs, a removed judge's unstarted reviews are
replaced and their submitted evaluations still count."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import Evaluation, EventRoleGrant, JudgeAssignment, JudgeConflict, Submission
from hackops.tenancy import set_tenant
from tests.accounts.helpers import bearer, last_link
from tests.factories import create_registration
from tests.judging.test_api import add_criteria, judged_event
from tests.people import person
from tests.security.audit import Recorder
from tests.teams.helpers import Stage
from tests.web.test_account_pages import follow, submit, text_of, use_session
from tests.web.test_org_pages import as_tenant

#: Roles by email go at once only to confirmed addresses.
CONFIRMED = datetime.now(UTC)


async def run(client: httpx2.AsyncClient, s: Stage, k: int) -> dict[str, object]:
    response = await client.post(
        f"{s.base}/judging/assignments", headers=s.auth("olga"), json={"k": k, "seed": 7}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def plan(session: AsyncSession, s: Stage) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """The active (judge, submission) pairs."""
    await as_tenant(session, s.org.id)
    rows = await session.execute(
        select(JudgeAssignment.judge_id, JudgeAssignment.submission_id).where(
            JudgeAssignment.event_id == s.event.id, JudgeAssignment.state == "assigned"
        )
    )
    return {(j, x) for j, x in rows}


def judges_per_submission(pairs: set[tuple[uuid.UUID, uuid.UUID]]) -> Counter[uuid.UUID]:
    return Counter(x for _, x in pairs)


def loads(pairs: set[tuple[uuid.UUID, uuid.UUID]], judges: list[uuid.UUID]) -> list[int]:
    counted = Counter(j for j, _ in pairs)
    return [counted[j] for j in judges]


async def score(
    client: httpx2.AsyncClient, s: Stage, judge: str, submission: uuid.UUID, criteria: list[str]
) -> None:
    """A submitted evaluation (every criterion scored)."""
    response = await client.put(
        f"{s.base}/judging/submissions/{submission}/evaluation",
        headers=s.auth(judge),
        json={"scores": dict.fromkeys(criteria, 7), "submit": True},
    )
    assert response.status_code == 200, response.text


async def draft(client: httpx2.AsyncClient, s: Stage, judge: str, submission: uuid.UUID) -> None:
    response = await client.put(
        f"{s.base}/judging/submissions/{submission}/evaluation",
        headers=s.auth(judge),
        json={"scores": {}},
    )
    assert response.status_code == 200, response.text


async def grant_id(session: AsyncSession, s: Stage, judge: str) -> uuid.UUID:
    await as_tenant(session, s.org.id)
    found = await session.scalar(
        select(EventRoleGrant.id).where(
            EventRoleGrant.event_id == s.event.id, EventRoleGrant.user_id == s.users[judge].id
        )
    )
    assert found is not None
    return found


def mine(pairs: set[tuple[uuid.UUID, uuid.UUID]], s: Stage, judge: str) -> list[uuid.UUID]:
    return sorted(x for j, x in pairs if j == s.users[judge].id)


async def test_removing_a_judge_replaces_unstarted_reviews_and_keeps_submitted_work(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, submissions, judges = await judged_event(session, teams=6, judges=4)
    criteria = await add_criteria(client, s)
    # judge1 may never see the first team's project: a declared conflict.
    await as_tenant(session, s.org.id)
    team_of = dict((await session.execute(select(Submission.id, Submission.team_id))).all())
    conflicted = await client.post(
        f"{s.base}/judging/conflicts",
        headers=s.auth("judge1"),
        json={"team_id": str(team_of[submissions[0]]), "reason": "my sister"},
    )
    assert conflicted.status_code == 201, conflicted.text
    report = await run(client, s, k=2)
    assert (report["assigned"], report["load_min"], report["load_max"]) == (12, 3, 3)
    before = await plan(session, s)
    gone_judge = s.users["judge0"].id
    scored, drafted, untouched = mine(before, s, "judge0")
    await score(client, s, "judge0", scored, criteria)
    await draft(client, s, "judge0", drafted)
    other_started = mine(before, s, "judge2")[0]
    await draft(client, s, "judge2", other_started)

    r = Recorder(client, connection)
    before_actions = await r.audit_actions()
    revoked = await client.delete(
        f"{s.base}/roles/{await grant_id(session, s, 'judge0')}", headers=s.auth("olga")
    )
    assert revoked.status_code == 204, revoked.text
    assert (await r.audit_actions())[len(before_actions) :] == [
        "event_role.revoked",
        "judging.assigned",
    ]

    after = await plan(session, s)
    remaining = [s.users[j].id for j in judges if j != "judge0"]
    assert all(j != gone_judge for j, _ in after)
    assert judges_per_submission(after) == dict.fromkeys(submissions, 2)
    assert (s.users["judge1"].id, submissions[0]) not in after  # never a conflicted judge
    spread = loads(after, remaining)
    assert sum(spread) == 12
    assert max(spread) - min(spread) <= 1
    assert (s.users["judge2"].id, other_started) in after  # started work keeps its pair
    # Only the removed judge's reviews moved to someone new.
    assert len(after - before) == 3
    assert {x for _, x in after - before} == {scored, drafted, untouched}

    await as_tenant(session, s.org.id)
    reasons = dict(
        (
            await session.execute(
                select(JudgeAssignment.submission_id, JudgeAssignment.reason).where(
                    JudgeAssignment.judge_id == gone_judge, JudgeAssignment.state == "withdrawn"
                )
            )
        ).all()
    )
    assert reasons == {
        scored: "judge removed, evaluation kept",
        drafted: "judge removed",
        untouched: "judge removed",
    }
    # The submitted evaluation stays and counts: it is in the ranking's count for its project.
    kept = await session.scalar(
        select(Evaluation.status).where(
            Evaluation.judge_id == gone_judge, Evaluation.submission_id == scored
        )
    )
    assert kept == "submitted"
    ranking = (await client.get(f"{s.base}/judging/ranking", headers=s.auth("olga"))).json()
    assert {i["submission_id"]: i["evaluations"] for i in ranking["items"]} == {str(scored): 1}
    # The removed judge's queue is gone with the role.
    queue = await client.get(f"{s.base}/judging/queue", headers=s.auth("judge0"))
    assert queue.status_code == 404


async def test_adding_a_judge_rebalances_loads_and_keeps_started_work(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, submissions, judges = await judged_event(session, teams=6, judges=3)
    await add_criteria(client, s)
    await run(client, s, k=2)
    before = await plan(session, s)
    assert loads(before, [s.users[j].id for j in judges]) == [4, 4, 4]
    started = {(s.users[j].id, mine(before, s, j)[0]) for j in ("judge0", "judge1")}
    for name in ("judge0", "judge1"):
        await draft(client, s, name, mine(before, s, name)[0])

    newcomer, token = await person(
        session, name="Nadia", email="nadia@example.org", email_verified_at=CONFIRMED
    )
    s.users["nadia"], s.tokens["nadia"] = newcomer, token
    granted = await client.post(
        f"{s.base}/roles", headers=s.auth("olga"), json={"email": newcomer.email, "role": "judge"}
    )
    assert granted.status_code == 201, granted.text

    after = await plan(session, s)
    everyone = [s.users[j].id for j in (*judges, "nadia")]
    assert judges_per_submission(after) == dict.fromkeys(submissions, 2)
    assert sorted(loads(after, everyone)) == [3, 3, 3, 3]
    assert started <= after  # every started pair is kept
    assert after - before == {(newcomer.id, x) for x in mine(after, s, "nadia")}
    queue = (await client.get(f"{s.base}/judging/queue", headers=s.auth("nadia"))).json()
    assert queue["total"] == 3


async def test_a_judge_accepting_an_invitation_joins_the_run(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, submissions, judges = await judged_event(session, teams=4, judges=2)
    await run(client, s, k=2)
    assert loads(await plan(session, s), [s.users[j].id for j in judges]) == [4, 4]
    invited = await client.post(
        f"{s.base}/roles",
        headers=s.auth("olga"),
        json={"email": "ida@example.org", "role": "judge"},
    )
    assert invited.status_code == 202, invited.text
    assert len(await plan(session, s)) == 8  # nothing moves before the invitation is accepted
    token = await last_link(session, "ida@example.org", "/events/invitations/accept")
    accepted = await client.post(
        "/api/v1/events/invitations/accept",
        json={"org": s.org.slug, "token": token, "name": "Ida"},
    )
    assert accepted.status_code == 200, accepted.text
    ida = uuid.UUID(accepted.json()["user"]["id"])
    after = await plan(session, s)
    assert judges_per_submission(after) == dict.fromkeys(submissions, 2)
    spread = loads(after, [s.users[j].id for j in judges] + [ida])
    assert sum(spread) == 8
    assert max(spread) - min(spread) <= 1
    queue = await client.get(
        f"{s.base}/judging/queue", headers=bearer(accepted.json()["access_token"])
    )
    assert queue.json()["total"] == spread[-1] > 0


async def test_the_roles_page_tells_the_organizer_the_run_was_rebalanced(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """Granting and revoking on the roles page (the path an organizer takes): the re-balance
    the judging domain did in the same transaction is what the flash reports."""
    s, submissions, judges = await judged_event(session, teams=4, judges=2)
    await run(client, s, k=2)
    newcomer, _ = await person(
        session, name="Nadia", email="nadia@example.org", email_verified_at=CONFIRMED
    )
    use_session(client, s.tokens["olga"])
    page = f"/orgs/{s.org.slug}/events/{s.event.slug}/admin/roles"
    granted = await submit(client, page, email=newcomer.email, role="judge")
    assert (
        "Nadia is now judge of this event. We told them by email. The judging assignment is"
        " re-balanced: 8 reviews, 2 to 3 per judge."
    ) in text_of(await follow(client, granted))
    after = await plan(session, s)
    assert judges_per_submission(after) == dict.fromkeys(submissions, 2)
    assert sorted(loads(after, [s.users[j].id for j in judges] + [newcomer.id])) == [2, 3, 3]

    await as_tenant(session, s.org.id)
    grant = await session.scalar(
        select(EventRoleGrant.id).where(
            EventRoleGrant.event_id == s.event.id, EventRoleGrant.user_id == newcomer.id
        )
    )
    revoked = await submit(client, page, f"{page}/{grant}/revoke")
    assert (
        "The role is revoked. The judging assignment is re-balanced: 8 reviews, 4 to 4 per judge."
    ) in text_of(await follow(client, revoked))
    assert loads(await plan(session, s), [s.users[j].id for j in judges]) == [4, 4]


async def test_k_is_the_organizers_choice_even_after_a_shortfall(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """k = 3 with two judges leaves every project one judge short; a third judge fills it."""
    s, submissions, _ = await judged_event(session, teams=3, judges=2)
    report = await run(client, s, k=3)
    assert report["shortfalls"] == {str(x): 1 for x in submissions}
    newcomer, _ = await person(session, email="third@example.org", email_verified_at=CONFIRMED)
    granted = await client.post(
        f"{s.base}/roles", headers=s.auth("olga"), json={"email": newcomer.email, "role": "judge"}
    )
    assert granted.status_code == 201, granted.text
    assert judges_per_submission(await plan(session, s)) == dict.fromkeys(submissions, 3)


async def test_a_conflicted_newcomer_gets_nothing_they_may_not_see(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, submissions, judges = await judged_event(session, teams=4, judges=2)
    await run(client, s, k=1)
    # A registered participant is conflicted with every project of the event.
    participant, _ = await person(
        session, email="participant@example.org", email_verified_at=CONFIRMED
    )
    await create_registration(session, s.event, participant)
    granted = await client.post(
        f"{s.base}/roles",
        headers=s.auth("olga"),
        json={"email": participant.email, "role": "judge"},
    )
    assert granted.status_code == 201, granted.text
    after = await plan(session, s)
    assert all(j != participant.id for j, _ in after)
    assert judges_per_submission(after) == dict.fromkeys(submissions, 1)
    assert sorted(loads(after, [s.users[j].id for j in judges])) == [2, 2]
    # And a declared conflict of a newcomer is respected too.
    other, _ = await person(session, email="declared@example.org", email_verified_at=CONFIRMED)
    await set_tenant(session, s.org.id)
    team = await session.scalar(select(Submission.team_id).where(Submission.id == submissions[0]))
    assert team is not None
    session.add(
        JudgeConflict(
            org_id=s.org.id, event_id=s.event.id, judge_id=other.id, team_id=team, source="judge"
        )
    )
    await session.flush()
    await client.post(
        f"{s.base}/roles", headers=s.auth("olga"), json={"email": other.email, "role": "judge"}
    )
    after = await plan(session, s)
    assert (other.id, submissions[0]) not in after
    assert sorted(loads(after, [s.users[j].id for j in judges] + [other.id])) == [1, 1, 2]
    assert judges_per_submission(after) == dict.fromkeys(submissions, 1)


async def test_without_an_assignment_run_nothing_is_assigned(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, _, _ = await judged_event(session, teams=2, judges=1)
    newcomer, _ = await person(session, email="early@example.org", email_verified_at=CONFIRMED)
    r = Recorder(client, connection)
    before = await r.audit_actions()
    granted = await client.post(
        f"{s.base}/roles", headers=s.auth("olga"), json={"email": newcomer.email, "role": "judge"}
    )
    assert granted.status_code == 201
    revoked = await client.delete(f"{s.base}/roles/{granted.json()['id']}", headers=s.auth("olga"))
    assert revoked.status_code == 204
    assert (await r.audit_actions())[len(before) :] == ["event_role.granted", "event_role.revoked"]
    assert await plan(session, s) == set()


async def test_mentors_and_organizers_do_not_touch_the_assignment(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, _, _ = await judged_event(session, teams=3, judges=2)
    await run(client, s, k=2)
    before = await plan(session, s)
    helper, _ = await person(session, email="mentor@example.org", email_verified_at=CONFIRMED)
    r = Recorder(client, connection)
    actions = await r.audit_actions()
    granted = await client.post(
        f"{s.base}/roles", headers=s.auth("olga"), json={"email": helper.email, "role": "mentor"}
    )
    assert granted.status_code == 201
    await client.delete(f"{s.base}/roles/{granted.json()['id']}", headers=s.auth("olga"))
    assert (await r.audit_actions())[len(actions) :] == ["event_role.granted", "event_role.revoked"]
    assert await plan(session, s) == before
