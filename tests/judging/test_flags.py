"""Judges' flags through the API and the database: a judge flags a project of their queue, the
organizers are emailed (outbox, same transaction) and list it with project, team and judge; the
judge reads only their own; unassigned or conflicted projects are 404; everyone else is refused;
one open flag per judge and project; resolve once, withdraw once; bad input is a 422 with a clear
code and leaves nothing behind; each write records its one audit row."""

from __future__ import annotations

import uuid
from typing import Any

import httpx2
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import (
    EventRoleGrant,
    JudgeAssignment,
    JudgingFlag,
    OutboundEmail,
    Submission,
    Team,
)
from tests.helpers import count_queries
from tests.judging.test_api import code, judged_event
from tests.people import person
from tests.security.audit import EVENT, Recorder, owned_by
from tests.teams.helpers import Stage
from tests.web.test_org_pages import as_tenant

FLAGS = EVENT + "/judging/flags"
SUBMISSION_FLAGS = EVENT + "/judging/submissions/{submission_id}/flags"


async def assign(session: AsyncSession, s: Stage, judge: str, *submissions: uuid.UUID) -> None:
    await as_tenant(session, s.org.id)
    for submission_id in submissions:
        session.add(
            JudgeAssignment(
                org_id=s.org.id,
                event_id=s.event.id,
                judge_id=s.users[judge].id,
                submission_id=submission_id,
            )
        )
    await session.flush()


async def flagged_world(session: AsyncSession) -> tuple[Stage, list[uuid.UUID]]:
    """Three projects; judge0 has projects 0 and 1, judge1 has 1 and 2; olga organizes the
    organization, olive only this event (both are emailed), mia mentors."""
    s, submissions, _ = await judged_event(session, teams=3, judges=2)
    for name, role in (("olive", "organizer"), ("mia", "mentor")):
        user, token = await person(session, name=name.title(), email=f"{name}@x.org")
        s.users[name], s.tokens[name] = user, token
        session.add(
            EventRoleGrant(org_id=s.org.id, event_id=s.event.id, user_id=user.id, role=role)
        )
    await session.flush()
    await assign(session, s, "judge0", submissions[0], submissions[1])
    await assign(session, s, "judge1", submissions[1], submissions[2])
    return s, submissions


def flag_url(s: Stage, submission_id: uuid.UUID) -> str:
    return f"{s.base}/judging/submissions/{submission_id}/flags"


async def outbox(session: AsyncSession) -> list[OutboundEmail]:
    return list(
        await session.scalars(
            select(OutboundEmail).order_by(OutboundEmail.to_address, OutboundEmail.created_at)
        )
    )


async def flags_in_db(session: AsyncSession, s: Stage) -> list[JudgingFlag]:
    await as_tenant(session, s.org.id)
    rows = await session.scalars(
        select(JudgingFlag)
        .where(JudgingFlag.event_id == s.event.id)
        .order_by(JudgingFlag.created_at, JudgingFlag.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def flag_audits(connection: AsyncConnection) -> list[str]:
    await connection.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    rows = await connection.execute(
        text("SELECT action FROM audit_log WHERE action LIKE 'judging_flag.%' ORDER BY created_at")
    )
    actions = list(rows.scalars())
    await connection.execute(text("SELECT set_config('hackops.platform_admin', '', true)"))
    return actions


async def test_a_flag_reaches_the_organizers_by_mail_and_in_their_list(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, submissions = await flagged_world(session)
    made = await client.post(
        flag_url(s, submissions[0]),
        headers=s.auth("judge0"),
        json={"reason": "broken", "note": "  The demo link answers 404.  "},
    )
    assert made.status_code == 201, made.text
    flag = made.json()
    assert (flag["submission_id"], flag["reason"], flag["status"]) == (
        str(submissions[0]),
        "broken",
        "open",
    )
    assert flag["note"] == "The demo link answers 404."
    assert (flag["resolved_at"], flag["resolution"]) == (None, "")

    mails = await outbox(session)
    assert sorted(m.to_address for m in mails) == sorted(
        [s.users["olga"].email, s.users["olive"].email]
    )
    assert {m.user_id for m in mails} == {s.users["olga"].id, s.users["olive"].id}
    mail = mails[0]
    assert mail.subject == f"[{s.event.name}] A judge flagged “Project p0” (broken)"
    assert mail.body_text is not None
    assert "judge0, a judge of" in mail.body_text
    assert "The demo link answers 404." in mail.body_text
    flags_page = f"/orgs/{s.org.slug}/events/{s.event.slug}/admin/judging/flags"
    assert f"http://testserver{flags_page}" in mail.body_text
    jobs = await session.scalar(
        text("SELECT count(*) FROM procrastinate_jobs WHERE task_name LIKE '%send_email'")
    )
    assert jobs == 2

    judge1 = await client.post(
        flag_url(s, submissions[1]),
        headers=s.auth("judge1"),
        json={"reason": "code_of_conduct", "note": "Offensive slide 3."},
    )
    assert judge1.status_code == 201, judge1.text

    listed = await client.get(f"{s.base}/judging/flags", headers=s.auth("olga"))
    assert listed.status_code == 200, listed.text
    team_names = dict((await session.execute(select(Submission.id, Team.name).join(Team))).all())
    items = listed.json()
    assert [(i["submission_id"], i["judge_name"], i["reason"]) for i in items] == [
        (str(submissions[1]), "judge1", "code_of_conduct"),
        (str(submissions[0]), "judge0", "broken"),
    ]
    first = items[1]
    assert first["submission_title"] == "Project p0"
    assert first["team_name"] == team_names[submissions[0]]
    assert first["judge_id"] == str(s.users["judge0"].id)
    assert (first["resolved_by"], first["resolved_by_name"]) == (None, None)
    by_event_organizer = await client.get(f"{s.base}/judging/flags", headers=s.auth("olive"))
    assert by_event_organizer.json() == items
    only_open = await client.get(
        f"{s.base}/judging/flags", headers=s.auth("olga"), params={"status": "resolved"}
    )
    assert only_open.json() == []
    of_one = await client.get(
        f"{s.base}/judging/flags",
        headers=s.auth("olga"),
        params={"submission_id": str(submissions[0])},
    )
    assert [i["id"] for i in of_one.json()] == [flag["id"]]

    # A judge sees only their own flags, and only of a project in their queue.
    mine = await client.get(flag_url(s, submissions[1]), headers=s.auth("judge0"))
    assert (mine.status_code, mine.json()) == (200, [])
    theirs = await client.get(flag_url(s, submissions[1]), headers=s.auth("judge1"))
    assert [f["reason"] for f in theirs.json()] == ["code_of_conduct"]
    assert "judge_id" not in theirs.json()[0]
    not_theirs = await client.get(flag_url(s, submissions[0]), headers=s.auth("judge1"))
    assert (not_theirs.status_code, code(not_theirs)) == (404, "assignment_not_found")


async def test_an_organizer_who_judges_is_not_mailed_their_own_flag(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, submissions = await flagged_world(session)
    session.add(
        EventRoleGrant(
            org_id=s.org.id, event_id=s.event.id, user_id=s.users["olive"].id, role="judge"
        )
    )
    await assign(session, s, "olive", submissions[2])
    made = await client.post(
        flag_url(s, submissions[2]), headers=s.auth("olive"), json={"reason": "ineligible"}
    )
    assert made.status_code == 201, made.text
    assert [m.to_address for m in await outbox(session)] == [s.users["olga"].email]


async def test_unassigned_and_conflicted_projects_are_404_and_nothing_is_written(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, submissions = await flagged_world(session)
    body = {"reason": "broken", "note": ""}
    unassigned = await client.post(flag_url(s, submissions[2]), headers=s.auth("judge0"), json=body)
    assert (unassigned.status_code, code(unassigned)) == (404, "assignment_not_found")
    unknown = await client.post(flag_url(s, uuid.uuid4()), headers=s.auth("judge0"), json=body)
    assert (unknown.status_code, code(unknown)) == (404, "assignment_not_found")

    # judge0 declares a conflict with project 0's team: it leaves their queue, flagging it is
    # the same 404 as a project never assigned (the conflict does not show).
    team_id = await session.scalar(
        select(Submission.team_id).where(Submission.id == submissions[0])
    )
    declared = await client.post(
        f"{s.base}/judging/conflicts",
        headers=s.auth("judge0"),
        json={"team_id": str(team_id), "reason": "my sister's team"},
    )
    assert declared.status_code == 201, declared.text
    conflicted = await client.post(flag_url(s, submissions[0]), headers=s.auth("judge0"), json=body)
    assert (conflicted.status_code, code(conflicted)) == (404, "assignment_not_found")
    assert conflicted.json()["error"]["message"] == unassigned.json()["error"]["message"]
    read = await client.get(flag_url(s, submissions[0]), headers=s.auth("judge0"))
    assert (read.status_code, code(read)) == (404, "assignment_not_found")

    assert await flags_in_db(session, s) == []
    assert await outbox(session) == []
    assert await flag_audits(connection) == []


async def test_participants_outsiders_and_other_roles_are_refused_on_every_route(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, submissions = await flagged_world(session)
    made = await client.post(
        flag_url(s, submissions[0]), headers=s.auth("judge0"), json={"reason": "broken"}
    )
    flag_id = made.json()["id"]
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", flag_url(s, submissions[0]), {"reason": "broken"}),
        ("GET", flag_url(s, submissions[0]), None),
        ("POST", f"{s.base}/judging/flags/{flag_id}/withdraw", None),
        ("GET", f"{s.base}/judging/flags", None),
        ("POST", f"{s.base}/judging/flags/{flag_id}/resolve", {"resolution": "Fine."}),
    ]
    # p0's team made project 0; p1 takes part; walt waits; otto is registered nowhere.
    for who in ("p0", "p1", "walt", "otto", "anonymous"):
        for method, url, body in routes:
            response = await client.request(method, url, headers=s.auth(who), json=body)
            assert response.status_code == 404, (who, method, url, response.text)
            assert code(response) == "event_not_found", (who, method, url)
    # Staff who know the event: a mentor is no judge and no organizer.
    mentor = ["not_a_judge"] * 3 + ["not_an_organizer"] * 2
    for (method, url, body), expected in zip(routes, mentor, strict=True):
        response = await client.request(method, url, headers=s.auth("mia"), json=body)
        assert (response.status_code, code(response)) == (403, expected), (method, url)
    # Organizers are not judges; judges are not organizers.
    for method, url, body in routes[:3]:
        response = await client.request(method, url, headers=s.auth("olga"), json=body)
        assert (response.status_code, code(response)) == (403, "not_a_judge"), (method, url)
    for method, url, body in routes[3:]:
        response = await client.request(method, url, headers=s.auth("judge0"), json=body)
        assert (response.status_code, code(response)) == (403, "not_an_organizer"), (method, url)
    # Another judge cannot withdraw judge0's flag, and does not learn it exists.
    other = await client.post(
        f"{s.base}/judging/flags/{flag_id}/withdraw", headers=s.auth("judge1")
    )
    assert (other.status_code, code(other)) == (404, "judging_flag_not_found")

    flags = await flags_in_db(session, s)
    assert [(f.status, f.resolved_by) for f in flags] == [("open", None)]
    assert await flag_audits(connection) == ["judging_flag.created"]


async def test_one_open_flag_per_judge_resolve_once_withdraw_once(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, submissions = await flagged_world(session)
    url = flag_url(s, submissions[1])
    first = await client.post(url, headers=s.auth("judge0"), json={"reason": "broken"})
    assert first.status_code == 201
    again = await client.post(
        url, headers=s.auth("judge0"), json={"reason": "other", "note": "And more."}
    )
    assert (again.status_code, code(again)) == (409, "already_flagged")
    assert again.json()["error"]["details"] == {"flag_id": first.json()["id"]}
    other_judge = await client.post(url, headers=s.auth("judge1"), json={"reason": "broken"})
    assert other_judge.status_code == 201  # one open flag per judge, not per project
    assert len(await outbox(session)) == 4  # two organizers, two flags; none for the refusal

    resolve = f"{s.base}/judging/flags/{first.json()['id']}/resolve"
    resolved = await client.post(
        resolve, headers=s.auth("olga"), json={"resolution": " The team fixed the link. "}
    )
    assert resolved.status_code == 200, resolved.text
    out = resolved.json()
    assert (out["status"], out["resolution"]) == ("resolved", "The team fixed the link.")
    assert (out["resolved_by"], out["resolved_by_name"]) == (str(s.users["olga"].id), "Olga")
    assert out["resolved_at"] is not None
    twice = await client.post(resolve, headers=s.auth("olive"), json={"resolution": "Again"})
    assert (twice.status_code, code(twice)) == (409, "flag_already_resolved")
    stored = {f.id: f for f in await flags_in_db(session, s)}[uuid.UUID(out["id"])]
    assert (stored.status, stored.resolved_by, stored.resolution) == (
        "resolved",
        s.users["olga"].id,
        "The team fixed the link.",
    )
    assert stored.resolved_at is not None
    assert stored.resolved_at >= stored.created_at

    # The judge reads the answer, and may flag the project again.
    mine = (await client.get(url, headers=s.auth("judge0"))).json()
    assert [(f["status"], f["resolution"]) for f in mine] == [
        ("resolved", "The team fixed the link.")
    ]
    renewed = await client.post(
        url, headers=s.auth("judge0"), json={"reason": "ineligible", "note": "Built last year."}
    )
    assert renewed.status_code == 201
    withdraw = f"{s.base}/judging/flags/{renewed.json()['id']}/withdraw"
    withdrawn = await client.post(withdraw, headers=s.auth("judge0"))
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["resolution"]) == (
        "resolved",
        "Withdrawn by the judge.",
    )
    withdrawn_twice = await client.post(withdraw, headers=s.auth("judge0"))
    assert (withdrawn_twice.status_code, code(withdrawn_twice)) == (409, "flag_already_resolved")
    resolving_withdrawn = await client.post(
        f"{s.base}/judging/flags/{renewed.json()['id']}/resolve",
        headers=s.auth("olga"),
        json={"resolution": "ok"},
    )
    assert (resolving_withdrawn.status_code, code(resolving_withdrawn)) == (
        409,
        "flag_already_resolved",
    )
    missing = await client.post(
        f"{s.base}/judging/flags/{uuid.uuid4()}/resolve",
        headers=s.auth("olga"),
        json={"resolution": "ok"},
    )
    assert (missing.status_code, code(missing)) == (404, "judging_flag_not_found")
    listed = (await client.get(f"{s.base}/judging/flags", headers=s.auth("olga"))).json()
    assert [i["status"] for i in listed] == ["open", "resolved", "resolved"]  # open first


@pytest.mark.parametrize(
    ("body", "expected", "field"),
    [
        ({"reason": "spam"}, "validation_error", "body.reason"),
        ({"note": "no reason"}, "validation_error", "body.reason"),
        ({"reason": "code_of_conduct"}, "flag_note_required", None),
        ({"reason": "code_of_conduct", "note": "   "}, "flag_note_required", None),
        ({"reason": "other", "note": ""}, "flag_note_required", None),
        ({"reason": "broken", "note": "x" * 2001}, "validation_error", "body.note"),
        ({"reason": "broken", "judge_id": str(uuid.uuid4())}, "validation_error", "body.judge_id"),
    ],
)
async def test_bad_flags_are_422_with_a_clear_code_and_leave_nothing(
    client: httpx2.AsyncClient,
    session: AsyncSession,
    connection: AsyncConnection,
    body: dict[str, Any],
    expected: str,
    field: str | None,
) -> None:
    s, submissions = await flagged_world(session)
    response = await client.post(flag_url(s, submissions[0]), headers=s.auth("judge0"), json=body)
    assert (response.status_code, code(response)) == (422, expected), response.text
    error = response.json()["error"]
    if field is not None:
        assert field in {d["field"] for d in error["details"]}, error
    else:
        assert "note is required" in error["message"]
    assert await flags_in_db(session, s) == []
    assert await outbox(session) == []
    assert await flag_audits(connection) == []


async def test_bad_resolutions_and_filters_are_422_and_change_nothing(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, submissions = await flagged_world(session)
    made = await client.post(
        flag_url(s, submissions[0]), headers=s.auth("judge0"), json={"reason": "broken"}
    )
    resolve = f"{s.base}/judging/flags/{made.json()['id']}/resolve"
    for body in ({}, {"resolution": ""}, {"resolution": "   "}, {"resolution": "x" * 2001}):
        refused = await client.post(resolve, headers=s.auth("olga"), json=body)
        assert (refused.status_code, code(refused)) == (422, "validation_error"), body
        assert "body.resolution" in {d["field"] for d in refused.json()["error"]["details"]}
    bad_filter = await client.get(
        f"{s.base}/judging/flags", headers=s.auth("olga"), params={"status": "closed"}
    )
    assert (bad_filter.status_code, code(bad_filter)) == (422, "validation_error")
    bad_id = await client.post(
        f"{s.base}/judging/flags/not-a-uuid/resolve", headers=s.auth("olga"), json={}
    )
    assert bad_id.status_code == 422
    assert [(f.status, f.resolution) for f in await flags_in_db(session, s)] == [("open", "")]
    assert await flag_audits(connection) == ["judging_flag.created"]


async def test_every_flag_route_writes_exactly_one_audit_row(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, submissions = await flagged_world(session)
    r = Recorder(client, connection)
    made = await r.call(
        "POST",
        SUBMISSION_FLAGS,
        flag_url(s, submissions[0]),
        expect="judging_flag.created",
        headers=s.auth("judge0"),
        json={"reason": "broken"},
    )
    await r.call(
        "POST",
        FLAGS + "/{flag_id}/resolve",
        f"{s.base}/judging/flags/{made.json()['id']}/resolve",
        expect="judging_flag.resolved",
        headers=s.auth("olga"),
        json={"resolution": "Checked: it runs."},
    )
    again = await r.call(
        "POST",
        SUBMISSION_FLAGS,
        flag_url(s, submissions[0]),
        headers=s.auth("judge0"),
        json={"reason": "other", "note": "Second thoughts."},
    )
    await r.call(
        "POST",
        FLAGS + "/{flag_id}/withdraw",
        f"{s.base}/judging/flags/{again.json()['id']}/withdraw",
        expect="judging_flag.withdrawn",
        headers=s.auth("judge0"),
    )
    assert owned_by((FLAGS, SUBMISSION_FLAGS), excluding=()) - r.covered == set()


@pytest.mark.parametrize("size", [1, 20])
async def test_the_organizers_list_costs_the_same_for_1_or_20_flags(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, size: int
) -> None:
    s, submissions, judges = await judged_event(session, teams=1, judges=size)
    for judge in judges:
        await assign(session, s, judge, submissions[0])
        made = await client.post(
            flag_url(s, submissions[0]), headers=s.auth(judge), json={"reason": "broken"}
        )
        assert made.status_code == 201
    url = f"{s.base}/judging/flags"
    await client.get(url, headers=s.auth("olga"))  # warm caches
    with count_queries(connection) as queries:
        listed = await client.get(url, headers=s.auth("olga"))
    assert len(listed.json()) == size
    # the request gate (token, user, actor; org, tenant, event, my org role, event roles,
    # registration: `hackops.gate`); the list
    assert queries.count == 2, queries.statements
