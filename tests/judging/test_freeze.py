"""Publishing the results closes judging, and nothing a judge does afterwards moves a ranking:
the services refuse (409 `judging_closed`, "scores are final") and so does the database
(migration 0022: evaluations and pairwise judgments of a published event are not written, even
by a statement behind the app or a score that raced the publication); a judge who registers
afterwards keeps the scores the results were made of."""

from __future__ import annotations

import re

import httpx2
import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.constraints import constraint_name
from hackops.events.deps import load_event_access
from hackops.judging.scoring import service as scoring
from hackops.judging.service import ResultsFinal
from hackops.models import Evaluation, Event, Submission
from tests.factories import create_pairwise_entry, create_registration
from tests.judging.test_api import code
from tests.judging.test_windows import evaluations_of, scored
from tests.web.test_org_pages import as_tenant


async def refused_by_the_database(session: AsyncSession, statement: object) -> str | None:
    """The constraint the database names when it refuses `statement` (None: it was written)."""
    try:
        async with session.begin_nested():
            await session.execute(statement)  # type: ignore[call-overload]
    except IntegrityError as exc:
        return constraint_name(exc)
    return None


async def test_publishing_closes_judging_and_the_database_refuses_every_judgment(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, url, _ = await scored(client, session)
    ranking_url = f"{s.base}/judging/ranking"
    before = (await client.get(ranking_url, headers=s.auth("olga"))).json()
    published = await client.post(f"{s.base}/publish-results", headers=s.auth("olga"))
    assert published.status_code == 200, published.text
    event = await session.get_one(Event, s.event.id, populate_existing=True)
    # The window was to close in an hour: it closed when the results were published.
    assert event.results_published_at is not None
    assert event.judging_closes_at == event.results_published_at

    edit = await client.put(
        url, headers=s.auth("judge0"), json={"scores": {}, "private_comment": "changed my mind"}
    )
    assert (edit.status_code, code(edit)) == (409, "judging_closed")
    assert re.fullmatch(
        r"Results are published \(.+\); scores are final\.", edit.json()["error"]["message"]
    )

    await as_tenant(session, s.org.id)
    mine = Evaluation.judge_id == s.users["judge0"].id
    assert await refused_by_the_database(
        session, update(Evaluation).where(mine).values(raw_score=1.0)
    ) == ("ck_evaluations_results_frozen")
    assert await refused_by_the_database(session, delete(Evaluation).where(mine)) == (
        "ck_evaluations_results_frozen"
    )
    with pytest.raises(IntegrityError, match="judging is final"):
        async with session.begin_nested():
            await create_pairwise_entry(session, event)

    # Registering afterwards withdraws the judge's assignments but keeps the published scores.
    await create_registration(session, event, s.users["judge0"])
    assert await evaluations_of(session, s) == 1
    after = (await client.get(ranking_url, headers=s.auth("olga"))).json()
    assert after == before


async def test_a_score_racing_the_publication_is_refused_by_the_database(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """The judge's request read the event before the results were published (its check
    passed); the database sees the publication and refuses the write: 409, nothing stored."""
    s, url, _ = await scored(client, session)
    target = url.split("/submissions/")[1].split("/")[0]
    judge = await load_event_access(session, Actor(s.users["judge0"]), s.org.slug, s.event.slug)
    assert judge.event.results_published_at is None
    await session.execute(
        text("UPDATE events SET results_published_at = app_now() WHERE id = :id"),
        {"id": s.event.id},
    )
    assert judge.event.results_published_at is None  # what the racing request had read
    submission = await session.get_one(Submission, target)
    # The refusal aborts the transaction; a caller that goes on, as a form re-rendering does,
    # calls it in a savepoint.
    with pytest.raises(ResultsFinal) as refused:
        async with session.begin_nested():
            await scoring.evaluate(
                session,
                judge,
                submission.id,
                scores={},
                private_comment="raced",
                feedback="",
                submit=False,
            )
    assert (refused.value.status_code, refused.value.code) == (409, "judging_closed")
    assert refused.value.message == "Results are published; scores are final."
    stored = await session.scalar(select(func.count()).where(Evaluation.private_comment == "raced"))
    assert stored == 0
