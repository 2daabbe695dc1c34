"""What visitors browse (`events.showcase`): the landing page's sections across organizations and
an organization's public page, through the pages and the API's JSON twin. Only published public
events of live organizations, whatever tenant the session has set; a fixed number of
statements whatever the number of events; badges that say the real state."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.events.lifecycle import SignUp, registration_open, sign_up
from hackops.events.showcase import landing, org_showcase
from hackops.models import Event, Organization
from hackops.tenancy import set_tenant
from tests.factories import create_event, create_membership, create_organization
from tests.helpers import count_queries
from tests.people import person
from tests.web.test_account_pages import use_session
from tests.web.test_org_pages import as_tenant

NOW = datetime.now(UTC)
DAY = timedelta(days=1)


def upcoming(**more: Any) -> dict[str, Any]:
    return {
        "published_at": NOW - DAY,
        "registration_opens_at": NOW - DAY,
        "starts_at": NOW + 10 * DAY,
        "submissions_close_at": NOW + 12 * DAY,
        **more,
    }


def running(**more: Any) -> dict[str, Any]:
    return {
        "published_at": NOW - 10 * DAY,
        "registration_opens_at": NOW - 10 * DAY,
        "starts_at": NOW - DAY,
        "submissions_close_at": NOW + DAY,
        **more,
    }


def finished(**more: Any) -> dict[str, Any]:
    """Over, results published, gallery open — and no registration close date: it used to be
    listed as "registration open"."""
    return {
        "published_at": NOW - 40 * DAY,
        "registration_opens_at": NOW - 40 * DAY,
        "starts_at": NOW - 30 * DAY,
        "submissions_close_at": NOW - 28 * DAY,
        "results_published_at": NOW - 20 * DAY,
        "gallery_opened_at": NOW - 20 * DAY,
        **more,
    }


async def world(session: AsyncSession) -> tuple[Organization, Organization]:
    """Org A with one public event per section and every kind that must never be listed; org B
    with one public event; a deleted org with one."""
    a = await create_organization(
        session, slug="club-a", name="Club A", branding={"primary_color": "#0a7d5a"}
    )
    b = await create_organization(session, slug="club-b", name="Club B")
    gone = await create_organization(session, slug="club-gone", name="Gone", deleted_at=NOW)
    await create_event(session, a, slug="spring", name="A Spring", **upcoming())
    await create_event(session, a, slug="live", name="A Live", **running())
    await create_event(
        session,
        a,
        slug="judged",
        name="A Judged",
        **running(starts_at=NOW - 3 * DAY, submissions_close_at=NOW - DAY),
    )
    await create_event(session, a, slug="autumn", name="A Autumn", **finished())
    await create_event(
        session,
        a,
        slug="old",
        name="A Old",
        **finished(
            results_published_at=NOW - 100 * DAY, archived_at=NOW - DAY, gallery_opened_at=None
        ),
    )
    await create_event(session, a, slug="draft", name="A Draft", **upcoming(published_at=None))
    await create_event(
        session, a, slug="private", name="A Private", **finished(visibility="private")
    )
    await create_event(
        session, a, slug="unlisted", name="A Unlisted", **running(visibility="unlisted")
    )
    await create_event(session, b, slug="bee", name="B Finished", **finished())
    await create_event(session, gone, slug="ghost", name="Gone Event", **upcoming())
    return a, b


def names(cards: tuple[Any, ...]) -> list[str]:
    return [card.name for card in cards]


async def test_landing_sections_list_public_events_of_every_live_organization(
    session: AsyncSession,
) -> None:
    await world(session)
    shown = await landing(session)
    assert names(shown.upcoming) == ["A Spring"]
    assert names(shown.happening) == ["A Judged", "A Live"]
    assert names(shown.results) == ["A Autumn", "B Finished", "A Old"]  # the latest first
    autumn = next(card for card in shown.results if card.name == "A Autumn")
    assert (autumn.results_published, autumn.gallery_open, autumn.sign_up) == (True, True, None)
    assert next(c for c in shown.results if c.name == "A Old").gallery_open is False
    assert [c.sign_up for c in shown.upcoming] == [SignUp.OPEN]


async def test_org_page_shows_only_its_own_published_public_events_whatever_the_tenant(
    session: AsyncSession,
) -> None:
    a, b = await world(session)
    # The factories leave the tenant on the last organization; a member's request sets theirs,
    # which makes RLS show drafts and private events: the showcase's filters must not rely on it.
    for tenant in (a.id, b.id):
        await set_tenant(session, tenant)
        shown = await org_showcase(session, "club-a")
        assert shown.org.name == "Club A"
        assert names(shown.upcoming) == ["A Spring"]
        assert names(shown.happening) == ["A Judged", "A Live"]
        assert names(shown.past) == ["A Autumn", "A Old"]  # the latest results first
    other = await org_showcase(session, "club-b")
    assert (names(other.upcoming), names(other.happening), names(other.past)) == (
        [],
        [],
        ["B Finished"],
    )


async def test_org_page_as_html_and_json_for_anyone(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await world(session)
    page = await client.get("/orgs/club-a/public")
    assert page.status_code == 200
    for name in ("A Spring", "A Live", "A Judged", "A Autumn", "A Old"):
        assert name in page.text
    for hidden in ("A Draft", "A Private", "A Unlisted", "B Finished", "Gone Event"):
        assert hidden not in page.text
    assert 'href="/orgs/club-a/events/autumn/results"' in page.text
    assert 'href="/orgs/club-a/events/autumn/gallery"' in page.text
    assert 'href="/orgs/club-a/events/old/results"' in page.text
    assert 'href="/orgs/club-a/events/old/gallery"' not in page.text  # its gallery is closed
    assert 'href="/orgs/club-a/events/spring/results"' not in page.text
    assert '<rect width="100" height="4" fill="#0a7d5a"/>' in page.text  # its brand colour

    api = await client.get("/api/v1/organizations/club-a/public-events")
    assert api.status_code == 200
    body = api.json()
    assert body["organization"] == {
        "slug": "club-a",
        "name": "Club A",
        "created_at": body["organization"]["created_at"],
        "primary_color": "#0a7d5a",
        "accent_color": None,
    }
    assert [e["slug"] for e in body["upcoming"]] == ["spring"]
    assert [e["slug"] for e in body["happening"]] == ["judged", "live"]
    assert [e["slug"] for e in body["past"]] == ["autumn", "old"]
    autumn = body["past"][0]
    assert (autumn["state"], autumn["sign_up"]) == ("results_published", None)
    assert (autumn["results_published"], autumn["gallery_open"]) == (True, True)
    assert body["upcoming"][0]["sign_up"] == "open"
    # No score, ranking or private field travels with a public event.
    assert set(autumn) == {
        "org_slug", "org_name", "slug", "name", "tagline", "mode", "venue", "timezone",
        "starts_at", "submissions_close_at", "results_published_at", "state", "sign_up",
        "results_published", "gallery_open",
    }  # fmt: skip

    for gone in ("club-gone", "no-such-club"):
        assert (await client.get(f"/orgs/{gone}/public")).status_code == 404
        missing = await client.get(f"/api/v1/organizations/{gone}/public-events")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "organization_not_found"


async def test_the_organization_link_sends_visitors_to_the_public_page_and_members_home(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    a, _ = await world(session)
    signed_out = await client.get("/orgs/club-a")
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/orgs/club-a/public")
    _, outsider = await person(session, verified=True)
    use_session(client, outsider)
    stranger = await client.get("/orgs/club-a")
    assert (stranger.status_code, stranger.headers["location"]) == (303, "/orgs/club-a/public")
    member, token = await person(session, verified=True)
    await create_membership(session, a, member)
    use_session(client, token)
    home = await client.get("/orgs/club-a")
    assert home.status_code == 200
    assert 'id="members-heading"' in home.text
    assert 'href="/orgs/club-a/public">Public page</a>' in home.text
    # The public event page names its organization with a link to the public page.
    event = await client.get("/orgs/club-a/events/autumn")
    assert '<a href="/orgs/club-a/public">Club A</a>' in event.text


def badges(html: str) -> list[str]:
    header = html.split('<header class="page-header">', 1)[1].split("</header>", 1)[0]
    return re.findall(r'<span class="badge[^"]*"(?: id="event-state")?>([^<]+)</span>', header)


async def test_badges_say_the_real_state(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    a, _ = await world(session)
    await create_event(
        session, a, slug="full", name="A Full", **upcoming(capacity=0, waitlist_enabled=False)
    )
    await create_event(
        session, a, slug="queue", name="A Queue", **upcoming(capacity=0, waitlist_enabled=True)
    )
    await create_event(
        session, a, slug="later", name="A Later", **upcoming(registration_opens_at=NOW + 2 * DAY)
    )
    await create_event(
        session, a, slug="shut", name="A Shut", **running(registration_closes_at=NOW - DAY)
    )
    expected = {
        "autumn": ["finished", "results published", "online"],
        "old": ["finished", "online"],  # archived: its results are a button away
        "judged": ["judging", "online"],
        "live": ["running now", "registration open", "online"],
        "shut": ["running now", "registration closed", "online"],
        "spring": ["upcoming", "registration open", "online"],
        "later": ["upcoming", "registration not open yet", "online"],
        "full": ["upcoming", "full", "online"],
        "queue": ["upcoming", "full · waitlist open", "online"],
    }
    for slug, labels in expected.items():
        page = await client.get(f"/orgs/club-a/events/{slug}")
        assert badges(page.text) == labels, slug
    autumn = await client.get("/orgs/club-a/events/autumn")
    assert "This event is over: registration is closed." in autumn.text
    assert "registration open" not in autumn.text
    listed = await client.get("/orgs/club-a/public")
    assert listed.text.count("registration open") == 2  # spring and live, nothing finished


async def test_a_finished_event_takes_no_registration(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """No registration close date, results published: the badge said "registration open" and
    the API registered people for an event that was over."""
    await world(session)
    _, token = await person(session, verified=True)
    for slug in ("autumn", "judged"):
        response = await client.post(
            f"/api/v1/organizations/club-a/events/{slug}/registrations",
            headers={"Authorization": f"Bearer {token}"},
            json={},
        )
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "registration_closed"


async def test_sign_up_follows_registration_open() -> None:
    event = Event(
        published_at=NOW - DAY,
        registration_opens_at=None,
        registration_closes_at=None,
        starts_at=NOW - 3 * DAY,
        submissions_close_at=NOW - DAY,
        grace_minutes=0,
        capacity=None,
        registered_count=0,
        waitlist_enabled=True,
        results_published_at=None,
        archived_at=None,
    )
    assert (registration_open(event, NOW), sign_up(event, NOW)) == (False, None)
    event.submissions_close_at = NOW + DAY
    assert (registration_open(event, NOW), sign_up(event, NOW)) == (True, SignUp.OPEN)


async def test_landing_and_org_page_statements_do_not_grow(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    a = await create_organization(session, slug="club-q", name="Club Q")
    counts: dict[int, list[int]] = {}
    made = 0
    for total in (1, 20):
        await as_tenant(session, a.id)  # the requests in between reset the tenant
        while made < total:
            for kind, values in enumerate((upcoming(), running(), finished())):
                await create_event(session, a, slug=f"e{made}-{kind}", **values)
            made += 1
        counts[total] = []
        for path in ("/", "/orgs/club-q/public", "/api/v1/organizations/club-q/public-events"):
            with count_queries(connection) as log:
                response = await client.get(path)
            assert response.status_code == 200, (path, response.text)
            counts[total].append(log.count)
        landing_page = (await client.get("/")).text
        assert landing_page.count('class="card event-card"') == min(3 * total, 3 * 6)
    assert counts[1] == counts[20], counts
    # The clock and one statement per section (+ the organization on its page).
    assert counts[20] == [4, 5, 5], counts
