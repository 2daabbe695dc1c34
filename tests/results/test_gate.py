"""The publish gate: before publishing, no page or API route a participant or a visitor can call
(every GET of the route table, ids filled with the event's real ones) carries a score, a rank or
a winner; after publishing, the results appear on the next request."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Award, Evaluation, JudgeAssignment, Submission
from tests.judging.test_api import add_criteria, judged_event

SENTINEL_SCORE = 93.4567  # one evaluation's raw score: must never show before publishing


async def scored_event(client: httpx2.AsyncClient, session: AsyncSession) -> dict[str, Any]:
    s, submissions, _ = await judged_event(session, teams=3, judges=3)
    await add_criteria(client, s)
    award = Award(org_id=s.org.id, event_id=s.event.id, name="Grand prize", prize="A trophy")
    session.add(award)
    await session.flush()
    assigned = await client.post(
        f"{s.base}/judging/assignments", headers=s.auth("olga"), json={"k": 3, "seed": 1}
    )
    assert assigned.status_code == 200, assigned.text
    pairs = (
        await session.execute(select(JudgeAssignment.judge_id, JudgeAssignment.submission_id))
    ).all()
    team_of = dict((await session.execute(select(Submission.id, Submission.team_id))).all())
    for n, (judge_id, submission_id) in enumerate(pairs):
        session.add(
            Evaluation(
                org_id=s.org.id,
                event_id=s.event.id,
                judge_id=judge_id,
                submission_id=submission_id,
                team_id=team_of[submission_id],
                scores={},
                raw_score=SENTINEL_SCORE if n == 0 else 40.0 + n,
                status="submitted",
            )
        )
    await session.flush()
    return {"stage": s, "submissions": submissions, "award": award}


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)


def get_paths(app: Any) -> set[str]:
    """Every GET path of the app, pages included (FastAPI wraps included routers)."""
    paths = set()
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        entries = list(contexts()) if contexts is not None else [route]
        for entry in entries:
            if "GET" in (getattr(entry, "methods", None) or set()):
                paths.add(str(entry.path))
    return paths


async def every_get(
    client: httpx2.AsyncClient, app: Any, ids: dict[str, str], headers: dict[str, str]
) -> list[tuple[str, str]]:
    bodies = []
    for path in sorted(get_paths(app)):
        if path.startswith(("/static", "/docs", "/openapi", "/metrics", "/dev")):
            continue
        url = fill(path, ids)
        response = await client.get(url, headers=headers)
        assert response.status_code < 500, (url, response.status_code)
        bodies.append((url, response.text))
    return bodies


async def test_nothing_reveals_scores_before_publishing(
    client: httpx2.AsyncClient, session: AsyncSession, app: Any
) -> None:
    world = await scored_event(client, session)
    s = world["stage"]
    ids = {
        "slug": s.org.slug,
        "event_slug": s.event.slug,
        "submission_id": str(world["submissions"][0]),
        "award_id": str(world["award"].id),
        "team_id": str((await session.get(Submission, world["submissions"][0])).team_id),  # type: ignore[union-attr]
    }
    for who in ("p0", "p1", "otto", "anonymous"):
        checked = await every_get(client, app, ids, s.auth(who))
        assert len(checked) > 60  # the whole route table, pages and API
        assert any(url.endswith("/results") for url, _ in checked)
        for url, body in checked:
            assert "93.45" not in body, (who, url)
            assert '"ranking"' not in body, (who, url)
            assert "Grand prize" not in body or "/results" not in url, (who, url)
        hidden = await client.get(f"{s.base}/results", headers=s.auth(who))
        assert hidden.status_code == 404, who

    preview = await client.get(f"{s.base}/results", headers=s.auth("olga"))
    assert preview.status_code == 200
    assert preview.json()["published_at"] is None

    published = await client.post(f"{s.base}/publish-results", headers=s.auth("olga"))
    assert published.status_code == 200, published.text
    for who in ("p0", "anonymous"):
        results = await client.get(f"{s.base}/results", headers=s.auth(who))
        assert results.status_code == 200, who
        body = results.json()
        assert body["published_at"] is not None
        assert [w["award"] for w in body["winners"]] == ["Grand prize"]
        assert body["ranking"][0]["rank"] == 1
        assert len(body["ranking"]) == 3


async def test_organizers_export_scores_and_results(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    world = await scored_event(client, session)
    s = world["stage"]
    as_json = await client.get(f"{s.base}/results/export.json", headers=s.auth("olga"))
    assert as_json.status_code == 200
    body = as_json.json()
    assert [r["rank"] for r in body["ranking"]] == [1, 2, 3]
    assert len(body["evaluations"]) == 9
    assert SENTINEL_SCORE in [e["raw_score"] for e in body["evaluations"]]
    as_csv = await client.get(f"{s.base}/results/export.csv", headers=s.auth("olga"))
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.headers["content-disposition"].startswith("attachment;")
    assert as_csv.text.splitlines()[0] == "rank,submission_id,title,team,score,raw_mean,evaluations"
    for who in ("p0", "judge0", "otto", "anonymous"):
        hidden = await client.get(f"{s.base}/results/export.csv", headers=s.auth(who))
        assert hidden.status_code in (403, 404), who
