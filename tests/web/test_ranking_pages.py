"""The ranking on the organizers' judging admin page, per track: a labelled track selector (all
projects, then each track), a track's own ranking with the same columns as the API's
`?track_id=`, the 404 page for a malformed or unknown track, and nobody else sees it."""

from __future__ import annotations

import re
import uuid

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.results.test_after_publish import World, judged_world
from tests.web.test_account_pages import use_session
from tests.web.test_judging_pages import ranking_rows


def admin_url(w: World) -> str:
    return f"/orgs/{w.s.org.slug}/events/{w.s.event.slug}/admin/judging"


def ranked_projects(response: httpx2.Response) -> list[tuple[str, str]]:
    """(rank, project title) per row; the team's name after the title is left out."""
    assert response.status_code == 200, response.text
    return [(rank, project.split(" · ")[0]) for rank, project, *_ in ranking_rows(response)]


def track_options(response: httpx2.Response) -> list[tuple[str, str, bool]]:
    """The track selector's options: (value, label, selected)."""
    select = re.search(
        r'<select id="ranking-track" name="track"[^>]*>(.*?)</select>', response.text, re.S
    )
    assert select, response.text
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(1))
    return [(value, label, bool(selected)) for value, selected, label in options]


def as_(client: httpx2.AsyncClient, w: World, who: str) -> None:
    client.cookies.clear()
    use_session(client, w.s.tokens[who])


async def test_the_selector_lists_all_projects_then_each_track(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged_world(client, session)
    as_(client, w, "olga")
    page = await client.get(admin_url(w))
    assert '<label for="ranking-track">Track</label>' in page.text
    assert 'aria-describedby="ranking-track-hint"' in page.text
    assert track_options(page) == [
        ("", "All projects", True),
        (w.tracks["Hardware"], "Hardware", False),
        (w.tracks["Software"], "Software", False),
    ]
    # No track chosen (or "All projects"): the event-wide ranking, as before.
    overall = [("1", "Project p0"), ("2", "Project p1"), ("3", "Project p2")]
    assert ranked_projects(page) == overall
    assert ranked_projects(await client.get(admin_url(w) + "?track=")) == overall
    assert 'id="ranking-scope"' not in page.text


async def test_a_track_shows_only_its_projects_ranked_among_themselves(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged_world(client, session)
    as_(client, w, "olga")
    hardware = await client.get(admin_url(w), params={"track": w.tracks["Hardware"]})
    assert ranked_projects(hardware) == [("1", "Project p0"), ("2", "Project p2")]
    assert (w.tracks["Hardware"], "Hardware", True) in track_options(hardware)
    assert ("", "All projects", False) in track_options(hardware)
    assert "Ranking of the submitted evaluations, track Hardware</caption>" in hardware.text
    assert "Track: <strong>Hardware</strong>" in hardware.text
    software = await client.get(
        admin_url(w), params={"track": w.tracks["Software"], "method": "raw_mean"}
    )
    assert ranked_projects(software) == [("1", "Project p1"), ("2", "Project p2")]
    assert '<option value="raw_mean" selected>' in software.text

    # The same rows, scores and raw means as the API's per-track ranking.
    for name, track_id in w.tracks.items():
        for method in ("judge_effect", "raw_mean"):
            api = await client.get(
                f"{w.s.base}/judging/ranking",
                params={"track_id": track_id, "method": method},
                headers=w.s.auth("olga"),
            )
            assert api.status_code == 200, api.text
            page = await client.get(admin_url(w), params={"track": track_id, "method": method})
            rows = ranking_rows(page)
            expected = [
                (str(i["rank"]), f"{i['score']:.1f}", f"{i['raw_mean']:.1f}", str(i["evaluations"]))
                for i in api.json()["items"]
            ]
            assert [(r, s, m, n) for r, _, s, m, n in rows] == expected, (name, method)


async def test_an_unknown_or_malformed_track_is_the_404_page(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged_world(client, session)
    as_(client, w, "olga")
    for track in (str(uuid.uuid4()), "not-a-track", "12", w.tracks["Hardware"] + "x"):
        missing = await client.get(admin_url(w), params={"track": track})
        assert missing.status_code == 404, track
        assert missing.headers["content-type"].startswith("text/html"), track
        assert 'id="ranking"' not in missing.text


async def test_participants_still_cannot_see_the_ranking(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged_world(client, session)
    url = admin_url(w) + f"?track={w.tracks['Hardware']}"
    for who, status in (("p0", 404), ("p1", 404), ("otto", 404), ("judge0", 403)):
        as_(client, w, who)
        refused = await client.get(url)
        assert refused.status_code == status, who
        assert "Project p0" not in refused.text, who
        assert 'id="ranking"' not in refused.text, who
    client.cookies.clear()
    signed_out = await client.get(url)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login?next=")
