"""The judging window, read with the database clock: once judging closes, or once results are
published, judges can neither score, nor edit, nor declare a conflict (which would delete their
evaluations and move the ranking); the API answers 409 `judging_closed` and the judge's pages say
why and offer no form."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import Evaluation, Event, Submission
from tests.helpers import frozen_time
from tests.judging.test_api import NOW, add_criteria, code, judged_event
from tests.teams.helpers import Stage
from tests.web.test_account_pages import text_of, use_session


async def scored(client: httpx2.AsyncClient, session: AsyncSession) -> tuple[Stage, str, str]:
    """judge0's submitted evaluation of the first project in their queue; judging closes in an
    hour. Returns the stage, that project's evaluation URL and its team id."""
    s, _, _ = await judged_event(session, teams=3, judges=3)
    event = await session.get_one(Event, s.event.id)
    event.judging_closes_at = NOW + timedelta(hours=1)
    await session.flush()
    criteria = await add_criteria(client, s)
    assigned = await client.post(
        f"{s.base}/judging/assignments", headers=s.auth("olga"), json={"k": 2, "seed": 3}
    )
    assert assigned.status_code == 200, assigned.text
    queue = (await client.get(f"{s.base}/judging/queue", headers=s.auth("judge0"))).json()
    target = queue["items"][0]["submission_id"]
    url = f"{s.base}/judging/submissions/{target}/evaluation"
    body = {"scores": {criteria[0]: 9, criteria[1]: 9}, "submit": True}
    done = await client.put(url, headers=s.auth("judge0"), json=body)
    assert done.status_code == 200, done.text
    team = await session.scalar(select(Submission.team_id).where(Submission.id == target))
    return s, url, str(team)


async def evaluations_of(session: AsyncSession, s: Stage) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(Evaluation.judge_id == s.users["judge0"].id)
        )
        or 0
    )


async def test_after_judging_closes_judges_change_nothing(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, url, team_id = await scored(client, session)
    async with frozen_time(connection, NOW + timedelta(hours=2)):
        edit = await client.put(
            url, headers=s.auth("judge0"), json={"scores": {}, "private_comment": "late"}
        )
        assert (edit.status_code, code(edit)) == (409, "judging_closed")
        assert edit.json()["error"]["message"].startswith("Judging closed on ")
        assert edit.json()["error"]["details"]["reason"] == "judging_closed"
        conflict = await client.post(
            f"{s.base}/judging/conflicts", headers=s.auth("judge0"), json={"team_id": team_id}
        )
        assert (conflict.status_code, code(conflict)) == (409, "judging_closed")
        assert await evaluations_of(session, s) == 1
        pair = await client.get(f"{s.base}/judging/pairwise", headers=s.auth("judge1"))
        assert (pair.status_code, code(pair)) == (409, "judging_closed")


async def test_published_results_close_judging_without_a_closing_time(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, url, team_id = await scored(client, session)
    event = await session.get_one(Event, s.event.id)
    event.judging_closes_at = None
    event.results_published_at = NOW
    await session.flush()
    async with frozen_time(connection, NOW + timedelta(minutes=5)):
        edit = await client.put(url, headers=s.auth("judge0"), json={"scores": {}})
        assert (edit.status_code, code(edit)) == (409, "judging_closed")
        assert edit.json()["error"]["details"]["reason"] == "results_published"
        assert re.fullmatch(
            r"Results are published \(.+\); scores are final\.", edit.json()["error"]["message"]
        )
        for who, body in (
            ("judge0", {"team_id": team_id}),
            ("olga", {"team_id": team_id, "judge_id": s.id("judge0")}),
        ):
            conflict = await client.post(
                f"{s.base}/judging/conflicts", headers=s.auth(who), json=body
            )
            assert (conflict.status_code, code(conflict)) == (409, "judging_closed"), who
        assert await evaluations_of(session, s) == 1
        pair = await client.get(f"{s.base}/judging/pairwise", headers=s.auth("judge1"))
        assert (pair.status_code, code(pair)) == (409, "judging_closed")


async def test_the_judges_pages_say_judging_closed_and_offer_no_form(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, url, _ = await scored(client, session)
    target = url.split("/submissions/")[1].split("/")[0]
    pages = f"/orgs/{s.org.slug}/events/{s.event.slug}/judging"
    use_session(client, s.tokens["judge0"])
    open_queue = await client.get(pages)
    assert "Declare the conflict" in open_queue.text
    async with frozen_time(connection, NOW + timedelta(hours=2)):
        queue = await client.get(pages)
        assert queue.status_code == 200
        said = text_of(queue)
        assert re.search(r"Judging closed on .+ — scores can no longer be changed\.", said)
        assert "Declare the conflict" not in queue.text
        page = await client.get(f"{pages}/{target}")
        assert page.status_code == 200
        assert "scores can no longer be changed" in text_of(page)
        assert 'name="action" value="submit"' not in page.text
        assert "disabled" in page.text
