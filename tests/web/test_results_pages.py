"""Results and pairwise pages: results hidden until published (organizers preview), winners shown
after; a judge compares, skips and undoes with plain forms."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.judging.test_api import judged_event
from tests.results.test_gate import scored_event
from tests.web.test_account_pages import submit, text_of, use_session


async def test_results_page_before_and_after_publishing(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    world = await scored_event(client, session)
    s = world["stage"]
    page = f"/orgs/{s.org.slug}/events/{s.event.slug}/results"
    assert (await client.get(page)).status_code == 404
    use_session(client, s.tokens["olga"])
    preview = await client.get(page)
    assert "Preview for organizers" in text_of(preview)
    await client.post(f"{s.base}/publish-results", headers=s.auth("olga"))
    client.cookies.clear()
    public = await client.get(page)
    assert public.status_code == 200
    assert "Grand prize" in text_of(public)
    assert "Preview" not in text_of(public)


async def test_pairwise_page_vote_skip_undo(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _, _ = await judged_event(session, teams=8, judges=1)
    page = f"/orgs/{s.org.slug}/events/{s.event.slug}/judging/pairwise"
    use_session(client, s.tokens["judge0"])
    first = await client.get(page)
    assert "Which project is better?" in first.text
    assert "Table " in first.text
    voted = await submit(client, page, page, **{"op": "vote", "winner": _first_id(first.text)})
    assert voted.status_code == 303
    after = await client.get(page)
    assert "Comparisons so far: 1" in after.text
    await submit(client, page, page, **{"op": "undo"})
    back = await client.get(page)
    assert "Comparisons so far: 0" in back.text
    skipped = await submit(client, page, page, **{"op": "skip"})
    assert skipped.status_code == 303
    use_session(client, s.tokens["p0"])
    assert (await client.get(page)).status_code == 404


def _first_id(html: str) -> str:
    marker = 'name="winner" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
