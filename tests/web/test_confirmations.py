"""Confirmation pages through HTTP: publishing results and disbanding a team ask first, say
what will happen, and a post without the confirmation field does nothing (publish, back to
draft and archive: tests/web/test_event_admin_pages.py; in Chromium:
tests/web/test_browser_confirmations.py)."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import create_team
from tests.teams.helpers import stage
from tests.web.test_account_pages import follow, submit, text_of, use_session
from tests.web.test_event_admin_pages import reread
from tests.web.test_judging_pages import assign, judged, post
from tests.web.test_org_pages import as_tenant


async def test_publishing_results_asks_first_and_says_it_closes_judging(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await judged(session, teams=2, judges=1)
    await assign(session, w, "judge0", 0, 1)
    w.as_(client, "olga")
    confirm = w.base + "/admin/publish-results"
    assert f'href="{confirm}"' in (await client.get(w.admin)).text  # the checklist's control
    asked = await client.get(confirm)
    assert asked.status_code == 200
    said = text_of(asked)
    assert f"Publish the results of {w.s.event.name}?" in said
    assert "Every participant is mailed the results." in said
    assert (
        "Judging is still open: publishing closes it now, and every score becomes final."
        " 0 of 2 assigned evaluations are done."
    ) in said
    stray = await post(client, w.admin, confirm)
    assert stray.headers["location"] == confirm
    assert (await reread(session, w.s)).results_published_at is None
    published = await post(client, confirm, confirm, confirm="yes")
    assert "The results are published" in text_of(await follow(client, published))
    assert (await reread(session, w.s)).results_published_at is not None


async def test_disbanding_a_team_asks_the_captain_first(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team = await create_team(session, s.event, s.users["alice"], name="Night Owls")
    team_page = f"/orgs/{s.org.slug}/events/{s.event.slug}/teams/{team.id}"
    confirm = team_page + "/disband"
    use_session(client, s.tokens["alice"])
    assert f'href="{confirm}"' in (await client.get(team_page)).text
    asked = await client.get(confirm)
    assert asked.status_code == 200
    said = text_of(asked)
    assert "Disband Night Owls?" in said
    assert "You leave the team and can join or create another team." in said
    assert "A disbanded team cannot be brought back." in said
    stray = await submit(client, team_page, confirm)
    assert stray.headers["location"] == confirm
    assert "Nothing was done yet" in text_of(await follow(client, stray))
    await as_tenant(session, s.org.id)
    await session.refresh(team)
    assert team.disbanded_at is None
    done = await submit(client, confirm, confirm="yes")
    assert done.headers["location"] == f"/orgs/{s.org.slug}/events/{s.event.slug}/teams"
    assert "The team is disbanded." in text_of(await follow(client, done))
    await as_tenant(session, s.org.id)
    await session.refresh(team)
    assert team.disbanded_at is not None

    # Only the captain is asked: anyone else is sent back to the team's page.
    other = await create_team(session, s.event, s.users["bob"], name="Larks")
    elsewhere = f"/orgs/{s.org.slug}/events/{s.event.slug}/teams/{other.id}"
    refused = await client.get(elsewhere + "/disband")
    assert refused.headers["location"] == elsewhere
    assert "Only the team's captain can disband it." in text_of(await follow(client, refused))
