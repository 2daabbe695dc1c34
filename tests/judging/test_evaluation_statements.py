"""How many statements a judge's save sends: what is judged (the queue and conflict check, the
database clock, the criteria that apply) in one; the upsert with its audit row in another, the
triggers (conflict refusal, history, judging version, change log, freeze) running inside it. No
savepoint: a refusal ends the request. The request's authorization (before the route) is
counted apart, as a ceiling."""

from __future__ import annotations

from datetime import timedelta

import httpx2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import AuditEntry, Evaluation, EvaluationHistory
from tests.helpers import AUTHORIZATION_AT_MOST, count_queries, frozen_time
from tests.helpers import split_at as split
from tests.judging.test_api import NOW, code
from tests.judging.test_windows import scored

#: What the first statement of a save reads, whatever else it says.
FIRST = "JOIN judge_assignments ON judge_assignments.submission_id = submissions.id LEFT OUTER"


async def test_a_save_is_two_statements_insert_or_update(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, _, _ = await scored(client, session)  # judge0 has submitted one; the second is new
    queue = (await client.get(f"{s.base}/judging/queue", headers=s.auth("judge0"))).json()
    target = queue["items"][1]["submission_id"]
    url = f"{s.base}/judging/submissions/{target}/evaluation"
    criteria = (await client.get(f"{s.base}/criteria", headers=s.auth("judge0"))).json()
    full = {c["id"]: 5 for c in criteria}
    saves = (
        {"scores": {criteria[0]["id"]: 4}, "private_comment": "first look"},
        {"scores": full, "feedback": "Nice demo", "submit": True},
    )
    ids = []
    for body in saves:
        with count_queries(connection) as log:
            saved = await client.put(url, headers=s.auth("judge0"), json=body)
        assert saved.status_code == 200, saved.text
        authorization, write = split(log, FIRST)
        assert len(write) == 2, write
        assert "SAVEPOINT" not in " ".join(log.statements)
        assert len(authorization) <= AUTHORIZATION_AT_MOST, authorization
        ids.append(saved.json()["id"])
    assert ids[0] == ids[1]
    answer = saved.json()
    assert (answer["status"], answer["raw_score"], answer["feedback"]) == (
        "submitted",
        50.0,
        "Nice demo",
    )
    assert answer["private_comment"] == ""  # what was not sent is cleared, as before
    stored = await session.get_one(Evaluation, ids[0], populate_existing=True)
    assert stored.submitted_at is not None
    assert stored.scores == dict.fromkeys(full, 5)
    history = await session.scalar(
        select(func.count()).where(EvaluationHistory.evaluation_id == stored.id)
    )
    assert history == 2
    audited = list(
        await session.execute(
            select(AuditEntry.resource_type, AuditEntry.details)
            .where(AuditEntry.action == "evaluation.saved", AuditEntry.resource_id == ids[0])
            .order_by(AuditEntry.created_at, AuditEntry.id)
        )
    )
    assert [(t, d["status"], d["event"]) for t, d in audited] == [
        ("evaluation", "draft", s.event.slug),
        ("evaluation", "submitted", s.event.slug),
    ]


async def test_a_refused_save_stops_after_its_first_statement(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, url, _ = await scored(client, session)
    criteria = (await client.get(f"{s.base}/criteria", headers=s.auth("judge0"))).json()
    with count_queries(connection) as log:
        bad = await client.put(
            url, headers=s.auth("judge0"), json={"scores": {criteria[0]["id"]: 11}}
        )
    assert (bad.status_code, code(bad)) == (409, "invalid_scores")
    assert len(split(log, FIRST)[1]) == 1
    async with frozen_time(connection, NOW + timedelta(hours=2)):
        with count_queries(connection) as log:
            late = await client.put(url, headers=s.auth("judge0"), json={"scores": {}})
    assert (late.status_code, code(late)) == (409, "judging_closed")
    assert len(split(log, FIRST)[1]) == 1
    elsewhere = url.rsplit("/submissions/", 1)[0] + f"/submissions/{s.event.id}/evaluation"
    with count_queries(connection) as log:
        unknown = await client.put(elsewhere, headers=s.auth("judge0"), json={"scores": {}})
    assert (unknown.status_code, code(unknown)) == (404, "assignment_not_found")
    assert len(split(log, FIRST)[1]) == 1
