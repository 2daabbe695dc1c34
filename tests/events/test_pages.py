"""The landing page lists published public events (upcoming, happening now, recent results:
tests/events/test_showcase.py), and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import Award, Track
from tests.factories import create_event, create_organization
from tests.helpers import frozen_time

NOW = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)


async def test_landing_lists_upcoming_public_events(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    org = await create_organization(session, name="ACME Labs")
    shown = NOW - timedelta(days=1)
    day = timedelta(days=1)
    await create_event(
        session,
        org,
        name="Soon <Hack>",
        tagline="Two days of code",
        published_at=shown,
        starts_at=NOW + 3 * day,
        mode="hybrid",
        venue="Hall 2",
    )
    await create_event(session, org, name="Later Jam", published_at=shown, starts_at=NOW + 9 * day)
    await create_event(session, org, name="Draft Thing", starts_at=NOW + day)
    await create_event(session, org, name="Secret Thing", visibility="private", published_at=shown)
    await create_event(session, org, name="Hidden Link", visibility="unlisted", published_at=shown)
    await create_event(session, org, name="Old Thing", published_at=shown, archived_at=shown)
    await create_event(
        session,
        org,
        name="Judged Thing",
        published_at=shown - 9 * day,
        starts_at=NOW - 5 * day,
        submissions_close_at=NOW - 2 * day,
    )
    async with frozen_time(connection, NOW):
        page = (await client.get("/")).text
    assert "No public event is coming up yet" not in page
    assert page.index("Soon &lt;Hack&gt;") < page.index("Later Jam")
    assert f'by <a href="/orgs/{org.slug}/public">ACME Labs</a>' in page
    assert "Two days of code" in page
    assert "hybrid · Hall 2" in page
    assert (
        '<time datetime="2031-06-04T12:00:00+00:00" data-offset="0" class="event-time">'
        "Wed 4 Jun 2031, 12:00 (UTC)</time>"
    ) in page
    # Being judged: happening now, after the upcoming ones.
    happening = page.index('<h2 id="happening-heading"')
    assert page.index("Later Jam") < happening < page.index("Judged Thing")
    # Archived without results: nothing left to see on the landing page.
    for hidden in ("Draft Thing", "Secret Thing", "Hidden Link", "Old Thing"):
        assert hidden not in page


async def test_event_page_shows_the_event_to_whoever_may_see_it(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    org = await create_organization(session, slug="acme", name="ACME Labs")
    event = await create_event(
        session,
        org,
        slug="spring",
        name="Spring Hack",
        description_html="<p><strong>Build</strong> it</p>",
        timezone="Europe/Berlin",
        starts_at=NOW + timedelta(days=3),
        capacity=40,
        published_at=NOW - timedelta(days=1),
    )
    track = Track(org_id=org.id, event_id=event.id, name="Robots")
    session.add(track)
    await session.flush()
    session.add(Award(org_id=org.id, event_id=event.id, track_id=track.id, name="Best bot"))
    await create_event(session, org, slug="draft", name="Draft")
    await session.flush()
    async with frozen_time(connection, NOW):
        page = await client.get("/orgs/acme/events/spring")
        landing = (await client.get("/")).text
    assert page.status_code == 200
    assert "<h1>Spring Hack</h1>" in page.text
    assert "<strong>Build</strong> it" in page.text
    assert "Wed 4 Jun 2031, 14:00 (Europe/Berlin, UTC+02:00)" in page.text  # the event's zone
    assert "0 of 40 seats taken" in page.text
    assert "Best bot" in page.text
    assert 'href="/orgs/acme/events/spring"' in landing
    hidden = await client.get("/orgs/acme/events/draft")
    assert hidden.status_code == 404
    assert "text/html" in hidden.headers["content-type"]
