"""Per-track rankings: each track ranks its own projects 1..n with the overall tie-breaks (score,
then more evaluations, higher raw mean, earlier submission), from the event-wide fit; the
organizers' ranking API takes a track, the frozen results and the exports carry every track."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.judging.scoring import ranking
from hackops.judging.scoring.tracks import rank_in_track
from hackops.models import Evaluation, Submission
from hackops.results.frozen import track_sections, with_track_ranks
from tests.judging.test_api import code, judged_event
from tests.teams.helpers import Stage

T0 = datetime(2031, 6, 4, 12, 0, tzinfo=UTC)
HARDWARE, SOFTWARE = uuid.uuid4(), uuid.uuid4()


def test_a_track_ranks_its_own_projects_with_every_tie_break() -> None:
    # a..e all tie on score 50 except `top`; the overall order is decided by the tie-breaks.
    scored = [
        ranking.Scored("top", 90.0, 70.0, 1),
        ranking.Scored("late", 50.0, 60.0, 2),  # same score/evaluations/raw as `early`
        ranking.Scored("early", 50.0, 60.0, 2),
        ranking.Scored("lower_raw", 50.0, 55.0, 2),
        ranking.Scored("fewer", 50.0, 99.0, 1),  # fewer evaluations beat a higher raw mean
        ranking.Scored("untimed", 50.0, 60.0, 2),  # no submission time: after the timed ones
    ]
    times = {
        "top": T0,
        "early": T0 - timedelta(hours=2),
        "late": T0 - timedelta(hours=1),
        "lower_raw": T0,
        "fewer": T0 - timedelta(days=1),
    }
    overall = ranking.rank(scored, times)
    assert [i.submission_id for i in overall] == [
        "top",
        "early",
        "late",
        "untimed",
        "lower_raw",
        "fewer",
    ]
    tracks_of = {
        "top": [SOFTWARE],
        "late": [HARDWARE],
        "early": [HARDWARE, SOFTWARE],
        "lower_raw": [HARDWARE],
        "fewer": [HARDWARE],
        "untimed": [SOFTWARE],
    }
    hardware = rank_in_track(overall, tracks_of, times, HARDWARE)
    assert [(i.rank, i.submission_id) for i in hardware] == [
        (1, "early"),
        (2, "late"),
        (3, "lower_raw"),
        (4, "fewer"),
    ]
    software = rank_in_track(overall, tracks_of, times, SOFTWARE)
    assert [(i.rank, i.submission_id) for i in software] == [
        (1, "top"),
        (2, "early"),
        (3, "untimed"),
    ]
    # The scores are the overall ones (one fit), only the ranks are the track's own.
    assert [i.score for i in hardware] == [50.0, 50.0, 50.0, 50.0]
    assert rank_in_track(overall, tracks_of, times, uuid.uuid4()) == []


def test_rows_frozen_without_track_ranks_get_them_from_the_overall_order() -> None:
    rows: list[dict[str, Any]] = [
        {"rank": 1, "submission_id": "a", "track_ids": ["h"], "score": 9.0},
        {"rank": 2, "submission_id": "b", "track_ids": ["s", "h"], "score": 8.0},
        {"rank": 3, "submission_id": "c", "track_ids": ["s"], "score": 7.0},
    ]
    ranked = with_track_ranks(rows, {"h": "Hardware", "s": "Software"})
    assert [r["tracks"] for r in ranked] == [
        [{"id": "h", "name": "Hardware", "rank": 1}],
        [{"id": "s", "name": "Software", "rank": 1}, {"id": "h", "name": "Hardware", "rank": 2}],
        [{"id": "s", "name": "Software", "rank": 2}],
    ]
    sections = track_sections(ranked, ["s", "h"])
    assert [(s["name"], [r["submission_id"] for r in s["ranking"]]) for s in sections] == [
        ("Software", ["b", "c"]),
        ("Hardware", ["a", "b"]),
    ]


async def tracked_event(
    client: httpx2.AsyncClient, session: AsyncSession
) -> tuple[Stage, list[uuid.UUID], dict[str, str]]:
    """Four projects, two tracks, submitted evaluations whose raw means tie on purpose:

    overall (raw mean): p3 80 | p0 60 (2 evaluations) | p2 60 (1, earlier) | p1 60 (1, later)
    Hardware = p0, p1, p2;  Software = p2, p3.
    """
    s, subs, judges = await judged_event(session, teams=4, judges=2)
    tracks = {}
    for name in ("Hardware", "Software"):
        created = await client.post(f"{s.base}/tracks", headers=s.auth("olga"), json={"name": name})
        assert created.status_code == 201, created.text
        tracks[name] = created.json()["id"]
    hw, sw = uuid.UUID(tracks["Hardware"]), uuid.UUID(tracks["Software"])
    layout = {0: [hw], 1: [hw], 2: [hw, sw], 3: [sw]}
    times = {0: T0, 1: T0, 2: T0 - timedelta(minutes=5), 3: T0}
    for n, sid in enumerate(subs):
        await session.execute(
            update(Submission)
            .where(Submission.id == sid)
            .values(track_ids=layout[n], submitted_at=times[n])
        )
    scores = [(0, 0, 60.0), (1, 0, 60.0), (0, 1, 60.0), (1, 2, 60.0), (0, 3, 80.0)]
    for judge, n, raw in scores:
        sub = await session.get(Submission, subs[n])
        assert sub is not None
        session.add(
            Evaluation(
                org_id=s.org.id,
                event_id=s.event.id,
                judge_id=s.users[judges[judge]].id,
                submission_id=sub.id,
                team_id=sub.team_id,
                scores={},
                raw_score=raw,
                status="submitted",
            )
        )
    await session.flush()
    return s, subs, tracks


async def test_the_ranking_api_ranks_one_track(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, subs, tracks = await tracked_event(client, session)
    url = f"{s.base}/judging/ranking"

    def order(response: httpx2.Response) -> list[tuple[int, str]]:
        assert response.status_code == 200, response.text
        return [(i["rank"], i["submission_id"]) for i in response.json()["items"]]

    overall = await client.get(url, headers=s.auth("olga"), params={"method": "raw_mean"})
    assert overall.json()["track_id"] is None
    assert order(overall) == [
        (1, str(subs[3])),
        (2, str(subs[0])),
        (3, str(subs[2])),
        (4, str(subs[1])),
    ]
    hardware = await client.get(
        url, headers=s.auth("olga"), params={"method": "raw_mean", "track_id": tracks["Hardware"]}
    )
    assert hardware.json()["track_id"] == tracks["Hardware"]
    # p0 before p2 (more evaluations), p2 before p1 (submitted earlier).
    assert order(hardware) == [(1, str(subs[0])), (2, str(subs[2])), (3, str(subs[1]))]
    software = await client.get(
        url, headers=s.auth("olga"), params={"method": "raw_mean", "track_id": tracks["Software"]}
    )
    assert order(software) == [(1, str(subs[3])), (2, str(subs[2]))]
    # The default method ranks tracks too, with the same projects in them.
    default = await client.get(url, headers=s.auth("olga"), params={"track_id": tracks["Software"]})
    assert {sid for _, sid in order(default)} == {str(subs[3]), str(subs[2])}

    unknown = await client.get(url, headers=s.auth("olga"), params={"track_id": str(uuid.uuid4())})
    assert (unknown.status_code, code(unknown)) == (404, "track_not_found")
    malformed = await client.get(url, headers=s.auth("olga"), params={"track_id": "hardware"})
    assert malformed.status_code == 422
    other, _, _ = await tracked_event(client, session)
    foreign = (await client.get(f"{other.base}/tracks", headers=other.auth("olga"))).json()[0]
    cross = await client.get(url, headers=s.auth("olga"), params={"track_id": foreign["id"]})
    assert (cross.status_code, code(cross)) == (404, "track_not_found")
    for who in ("p0", "otto", "anonymous"):
        hidden = await client.get(url, headers=s.auth(who), params={"track_id": tracks["Hardware"]})
        assert hidden.status_code in (401, 403, 404), who
        assert str(subs[0]) not in hidden.text


async def test_published_results_and_exports_carry_every_track(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, subs, tracks = await tracked_event(client, session)
    # A judge-effect fit on ties would be hard to read: compare with the API's own ranking.
    live = await client.get(f"{s.base}/judging/ranking", headers=s.auth("olga"))
    overall = [i["submission_id"] for i in live.json()["items"]]
    per_track = {}
    for name, track_id in tracks.items():
        answer = await client.get(
            f"{s.base}/judging/ranking", headers=s.auth("olga"), params={"track_id": track_id}
        )
        per_track[name] = [i["submission_id"] for i in answer.json()["items"]]

    exported = (await client.get(f"{s.base}/results/export.json", headers=s.auth("olga"))).json()
    assert [r["submission_id"] for r in exported["ranking"]] == overall
    assert [
        (t["name"], [r["submission_id"] for r in t["ranking"]]) for t in exported["tracks"]
    ] == [
        ("Hardware", per_track["Hardware"]),
        ("Software", per_track["Software"]),
    ]
    assert [r["rank"] for r in exported["tracks"][0]["ranking"]] == [1, 2, 3]
    as_csv = (await client.get(f"{s.base}/results/export.csv", headers=s.auth("olga"))).text
    table = list(csv.reader(io.StringIO(as_csv)))
    start = table.index(
        ["track", "rank", "submission_id", "title", "team", "score", "raw_mean", "evaluations"]
    )
    track_rows = table[start + 1 : start + 6]
    assert [(r[0], r[1], r[2]) for r in track_rows] == [
        ("Hardware", "1", per_track["Hardware"][0]),
        ("Hardware", "2", per_track["Hardware"][1]),
        ("Hardware", "3", per_track["Hardware"][2]),
        ("Software", "1", per_track["Software"][0]),
        ("Software", "2", per_track["Software"][1]),
    ]

    published = await client.post(f"{s.base}/publish-results", headers=s.auth("olga"))
    assert published.status_code == 200, published.text
    body = (await client.get(f"{s.base}/results", headers=s.auth("anonymous"))).json()
    assert [r["submission_id"] for r in body["ranking"]] == overall
    assert [(t["name"], [r["submission_id"] for r in t["ranking"]]) for t in body["tracks"]] == [
        ("Hardware", per_track["Hardware"]),
        ("Software", per_track["Software"]),
    ]
    assert [r["rank"] for r in body["tracks"][1]["ranking"]] == [1, 2]
    both = next(r for r in body["ranking"] if r["submission_id"] == str(subs[2]))
    assert {t["name"]: t["rank"] for t in both["tracks"]} == {
        "Hardware": per_track["Hardware"].index(str(subs[2])) + 1,
        "Software": per_track["Software"].index(str(subs[2])) + 1,
    }
    # Frozen: a track renamed after publishing moves nothing, and the database refuses a score
    # changed after publishing (judging is final).
    await client.patch(
        f"{s.base}/tracks/{tracks['Hardware']}", headers=s.auth("olga"), json={"name": "Robots"}
    )
    with pytest.raises(IntegrityError, match="judging is final"):
        async with session.begin_nested():
            await session.execute(update(Evaluation).values(raw_score=1.0))
    again = (await client.get(f"{s.base}/results", headers=s.auth("p1"))).json()
    assert again["ranking"] == body["ranking"]
    assert again["tracks"] == body["tracks"]  # names too: as published

    page = await client.get(f"/orgs/{s.org.slug}/events/{s.event.slug}/results")
    assert page.status_code == 200
    for track_id in tracks.values():
        assert f'id="track-{track_id}"' in page.text
    assert page.text.count(">Rank in track</th>") == 2  # one heading a track table
