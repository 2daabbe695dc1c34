"""The team's submission in the API carries its awards and places once results are published
(`standing`, the same body as `GET …/results/submissions/{id}`), and nothing of them before."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.results.test_after_publish import World, judged_world, leaks, publish


def submission_url(w: World, n: int) -> str:
    return w.s.team_url(w.teams[n], "/submission")


async def test_the_submission_reveals_nothing_before_publishing(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged_world(client, session)
    s = w.s
    for who, n in (("p0", 0), ("p1", 1), ("olga", 0), ("olga", 2)):
        answer = await client.get(submission_url(w, n), headers=s.auth(who))
        assert answer.status_code == 200, (who, answer.text)
        body = answer.json()
        assert body["id"] == str(w.subs[n])
        assert body["standing"] is None, who
        assert not leaks(answer.text), (who, leaks(answer.text))
        for marker in ("Grand prize", "Best software", '"rank"', '"placements"', '"awards"'):
            assert marker not in answer.text, (who, marker)
    organizer = await client.get(f"{s.base}/submissions/{w.subs[0]}", headers=s.auth("olga"))
    assert organizer.json()["standing"] is None


async def test_after_publishing_the_team_sees_its_awards_and_places(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged_world(client, session)
    s = w.s
    await publish(client, w)
    winner = (await client.get(submission_url(w, 0), headers=s.auth("p0"))).json()
    standing = winner["standing"]
    assert standing["submission_id"] == str(w.subs[0])
    assert [(a["label"], a["prize"]) for a in standing["awards"]] == [
        ("Winner — Grand prize", "A trophy")
    ]
    assert [(p["track"], p["rank"], p["of"], p["label"]) for p in standing["placements"]] == [
        (None, 1, 3, "1st place overall"),
        ("Hardware", 1, 2, "1st place in Hardware"),
    ]
    assert standing["breakdown"] is None  # the event does not show it
    # The same data as the results route, for every team.
    for n, who in enumerate(("p0", "p1", "p2")):
        own = (await client.get(submission_url(w, n), headers=s.auth(who))).json()
        public = await client.get(w.standing_url(n), headers=s.auth(who))
        assert public.status_code == 200, public.text
        assert own["standing"] == public.json(), who
    second = (await client.get(submission_url(w, 1), headers=s.auth("p1"))).json()["standing"]
    assert [a["label"] for a in second["awards"]] == ["Winner — Best software"]
    third = (await client.get(submission_url(w, 2), headers=s.auth("p2"))).json()["standing"]
    assert third["awards"] == []
    assert [p["label"] for p in third["placements"]] == [
        "3rd place overall",
        "2nd place in Hardware",
        "2nd place in Software",
    ]
    assert "FEEDBACK-" not in str(winner)  # feedback has its own route
    organizer = await client.get(f"{s.base}/submissions/{w.subs[0]}", headers=s.auth("olga"))
    assert organizer.json()["standing"] == standing
