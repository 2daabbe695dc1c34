"""The projector pages through HTTP: the live leaderboard for a room (organizers only, the same
board as the leaderboard page), and the results reveal, which shows the published snapshot only
(nothing before publishing; the frozen snapshot, never the live ranking)."""

from __future__ import annotations

import re

import httpx2
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import EventResult
from hackops.results.reveal import RevealStep, Winner, steps_of
from tests.results.test_gate import scored_event
from tests.web.test_account_pages import text_of, use_session
from tests.web.test_org_pages import as_tenant


def slides(html: str) -> list[str]:
    """The reveal's steps as text, in page order."""
    found = re.findall(r'<section class="reveal-slide[^"]*"[^>]*>(.*?)</section>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", s).split()) for s in found]


async def test_the_projector_shows_the_live_board_to_organizers(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    world = await scored_event(client, session)
    s = world["stage"]
    projector = f"/orgs/{s.org.slug}/events/{s.event.slug}/admin/judging/leaderboard/projector"
    use_session(client, s.tokens["olga"])
    page = await client.get(projector)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    stream = f"/api/v1/organizations/{s.org.slug}/events/{s.event.slug}/judging/leaderboard/stream"
    assert f'data-stream="{stream}"' in page.text
    assert 'data-columns="rank,project,score"' in page.text
    assert 'data-limit="10"' in page.text
    assert "/static/leaderboard.js" in page.text
    assert "/static/projector.js" in page.text
    assert 'class="site-header"' not in page.text  # no site chrome on a projector
    rows = re.findall(r"<tr data-submission=", page.text)
    assert len(rows) == 3
    assert "3 projects ranked." in text_of(page)
    board = await client.get(f"/orgs/{s.org.slug}/events/{s.event.slug}/admin/judging/leaderboard")
    assert 'href="/orgs/' in board.text
    assert f'{projector}" id="projector-link"' in board.text
    judging = await client.get(f"/orgs/{s.org.slug}/events/{s.event.slug}/admin/judging")
    assert f'href="{projector}"' in judging.text
    assert "Results reveal: opens once the results are published" in text_of(judging)

    use_session(client, s.tokens["p0"])  # a participant
    assert (await client.get(projector)).status_code == 404
    use_session(client, s.tokens["judge0"])
    assert (await client.get(projector)).status_code == 403


async def test_the_reveal_shows_the_published_snapshot_only(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    world = await scored_event(client, session)
    s = world["stage"]
    reveal = f"/orgs/{s.org.slug}/events/{s.event.slug}/admin/results/reveal"
    use_session(client, s.tokens["olga"])
    before = await client.get(reveal)
    assert before.status_code == 200
    assert "The reveal opens once the results are published" in text_of(before)
    assert "Project p" not in before.text
    assert "Grand prize" not in before.text
    assert "reveal.js" not in before.text

    published = await client.post(f"{s.base}/publish-results", headers=s.auth("olga"))
    assert published.status_code == 200, published.text
    results = (await client.get(f"{s.base}/results", headers=s.auth("olga"))).json()
    [winner] = results["winners"]
    page = await client.get(reveal)
    assert page.status_code == 200
    assert "/static/reveal.js" in page.text
    shown = slides(page.text)
    assert len(shown) == 3  # the start, the one award, the end
    assert shown[0].startswith(s.org.name)
    assert shown[1] == (
        f"And the winner is… Grand prize A trophy {winner['title']} {winner['team_name']}"
    )
    assert shown[2].startswith("Congratulations to every team")
    judging = await client.get(f"/orgs/{s.org.slug}/events/{s.event.slug}/admin/judging")
    assert f'href="{reveal}"' in judging.text

    # The reveal reads the frozen snapshot (event_results), not the live ranking: a change to
    # the snapshot shows, whatever the scores say.
    await as_tenant(session, s.org.id)
    result = await session.get(EventResult, s.event.id)
    assert result is not None
    result.winners = [{**winner, "title": "Frozen title"}]
    await session.flush()
    use_session(client, s.tokens["olga"])
    again = slides((await client.get(reveal)).text)
    assert again[1] == f"And the winner is… Grand prize A trophy Frozen title {winner['team_name']}"

    use_session(client, s.tokens["p0"])
    assert (await client.get(reveal)).status_code == 404


@pytest.mark.parametrize(
    ("winners", "expected"),
    [
        # Awards: the last award first, the first (the grand prize) last; co-winners together.
        (
            [
                {
                    "award_id": "a",
                    "award": "Grand prize",
                    "prize": "€1000",
                    "title": "Rover",
                    "team_name": "Red",
                },
                {
                    "award_id": "b",
                    "award": "Best design",
                    "prize": "",
                    "title": "Kite",
                    "team_name": "Blue",
                },
                {
                    "award_id": "b",
                    "award": "Best design",
                    "prize": "",
                    "title": "Lamp",
                    "team_name": "Green",
                },
                {
                    "award_id": "c",
                    "award": "Community",
                    "prize": "Mugs",
                    "title": "",
                    "team_name": "Grey",
                },
            ],
            [
                RevealStep("Community", "Mugs", [Winner("Untitled", "Grey")], final=False),
                RevealStep(
                    "Best design",
                    "",
                    [Winner("Kite", "Blue"), Winner("Lamp", "Green")],
                    final=False,
                ),
                RevealStep("Grand prize", "€1000", [Winner("Rover", "Red")], final=True),
            ],
        ),
        # No awards: the top three places, from the third to the first.
        (
            [],
            [
                RevealStep("3rd place", "", [Winner("C", "Team C")], final=False),
                RevealStep("2nd place", "", [Winner("B", "Team B")], final=False),
                RevealStep("1st place", "", [Winner("A", "Team A")], final=True),
            ],
        ),
    ],
)
def test_the_reveal_goes_from_the_last_to_the_winner(
    winners: list[dict[str, str]], expected: list[RevealStep]
) -> None:
    ranking = [
        {"rank": n + 1, "title": t, "team_name": f"Team {t}", "score": 90 - n}
        for n, t in enumerate("ABCD")
    ]
    assert steps_of(ranking, winners) == expected
    assert steps_of([], []) == []
