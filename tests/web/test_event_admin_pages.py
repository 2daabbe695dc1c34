"""Event admin pages through HTTP: an organization's events, creating one, settings, dates in the
event's time zone, publish / unpublish / archive, questions, tracks and awards, event roles, and
who gets the 404 page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Award, Event, EventRoleGrant, Track
from tests.factories import create_event, create_registration, create_user
from tests.people import person
from tests.teams.helpers import Stage, stage
from tests.web.test_account_pages import alert_of, follow, submit, text_of, use_session
from tests.web.test_org_pages import as_tenant


def admin(s: Stage, event: Event | None = None) -> str:
    return f"/orgs/{s.org.slug}/events/{(event or s.event).slug}/admin"


async def reread(session: AsyncSession, s: Stage, event: Event | None = None) -> Event:
    """The event as the database has it now (requests in between reset the tenant)."""
    await as_tenant(session, s.org.id)
    found = await session.scalar(
        select(Event)
        .where(Event.id == (event or s.event).id)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


def field_error(response: httpx2.Response, field_id: str) -> str:
    match = re.search(rf'id="{re.escape(field_id)}-error">([^<]+)<', response.text)
    assert match, f"no error on {field_id}"
    return text_of_fragment(match.group(1))


def text_of_fragment(value: str) -> str:
    import html

    return html.unescape(value)


async def organizer(session: AsyncSession, client: httpx2.AsyncClient, **event: Any) -> Stage:
    s = await stage(session, **event)
    use_session(client, s.tokens["olga"])
    return s


# --- the organization's events and creating one -----------------------------------------------


async def test_organizer_creates_an_event_from_the_organization_page(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    org_page = await client.get(f"/orgs/{s.org.slug}")
    assert f'href="/orgs/{s.org.slug}/new-event"' in org_page.text
    created = await submit(
        client,
        f"/orgs/{s.org.slug}/new-event",
        name="  Autumn Hack ",
        slug="Autumn-Hack",
        tagline="Build",
        mode="online",
        venue="",
        timezone="Europe/Berlin",
    )
    assert created.headers["location"] == f"/orgs/{s.org.slug}/events/autumn-hack/admin"
    page = await follow(client, created)
    assert "Autumn Hack is created as a draft" in text_of(page)
    assert '<span class="badge" id="event-state">draft</span>' in page.text
    await as_tenant(session, s.org.id)
    event = await session.scalar(select(Event).where(Event.slug == "autumn-hack"))
    assert event is not None
    assert (event.name, event.timezone, event.published_at) == (
        "Autumn Hack",
        "Europe/Berlin",
        None,
    )
    listing = await client.get(f"/orgs/{s.org.slug}/events")
    assert "Autumn Hack" in listing.text
    assert f'href="/orgs/{s.org.slug}/events/autumn-hack/admin"' in listing.text


async def test_create_event_errors_come_back_on_the_form(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    new = f"/orgs/{s.org.slug}/new-event"
    bad = await submit(client, new, name="Kept name", slug="-bad-", mode="online", timezone="UTC")
    assert bad.status_code == 422
    assert field_error(bad, "event-slug").startswith("Lowercase letters, digits and hyphens")
    assert 'value="Kept name"' in bad.text
    zone = await submit(client, new, name="Z", slug="zed", mode="online", timezone="Mars/Base")
    assert zone.status_code == 422
    assert "unknown time zone" in field_error(zone, "event-timezone")
    venue = await submit(client, new, name="V", slug="vee", mode="in_person", timezone="UTC")
    assert venue.status_code == 422
    assert field_error(venue, "event-venue") == "Is required for an in-person event."
    taken = await submit(
        client, new, name="Again", slug=s.event.slug, mode="online", timezone="UTC"
    )
    assert taken.status_code == 409
    assert (
        field_error(taken, "event-slug")
        == "This organization already has an event at that address."
    )


async def test_members_cannot_create_events(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    use_session(client, s.tokens["otto"])  # not a member of the organization
    assert (await client.get(f"/orgs/{s.org.slug}/new-event")).status_code == 404
    assert (await client.get(f"/orgs/{s.org.slug}/events")).status_code == 404


# --- who may see the admin pages --------------------------------------------------------------

ADMIN_PAGES = (
    "",
    "/windows",
    "/questions",
    "/tracks",
    "/roles",
    "/registrations",
    "/exports",
    "/exports/registrations.csv",
    "/exports/evaluations.xlsx?anonymize=true",
    "/checkin",
)


@pytest.mark.parametrize("who", ["alice", "walt", "otto"])
async def test_admin_pages_are_a_404_to_everyone_else(
    client: httpx2.AsyncClient, session: AsyncSession, who: str
) -> None:
    s = await stage(session)
    use_session(client, s.tokens[who])
    for suffix in ADMIN_PAGES:
        page = await client.get(admin(s) + suffix)
        assert page.status_code == 404, suffix
        assert "text/html" in page.headers["content-type"]
    for action in ("/publish", "/archive", "/questions", "/roles", "/checkin"):
        refused = await submit(client, "/orgs", admin(s) + action, code="ABCD", name="x")
        assert refused.status_code == 404, action
    await session.refresh(s.event)
    assert s.event.archived_at is None


async def test_signed_out_visitors_are_sent_to_log_in(client: httpx2.AsyncClient) -> None:
    page = await client.get("/orgs/acme/events/spring/admin/windows")
    assert page.status_code == 303
    assert (
        page.headers["location"] == "/login?next=%2Forgs%2Facme%2Fevents%2Fspring%2Fadmin%2Fwindows"
    )


async def test_an_event_organizer_runs_the_event_but_cannot_hand_out_roles(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    session.add(
        EventRoleGrant(
            org_id=s.org.id, event_id=s.event.id, user_id=s.users["otto"].id, role="organizer"
        )
    )
    await session.flush()
    use_session(client, s.tokens["otto"])
    roles = await client.get(admin(s) + "/roles")
    assert roles.status_code == 200
    assert "Give someone a role" not in roles.text
    refused = await submit(client, admin(s) + "/roles", email=s.users["bob"].email, role="judge")
    assert refused.status_code == 403


# --- settings and dates -----------------------------------------------------------------------

SETTINGS = {
    "name": "Spring Hack",
    "tagline": "Two days",
    "description": "**Bold** <script>x</script>",
    "mode": "hybrid",
    "venue": "Hall 2",
    "timezone": "Europe/Berlin",
    "capacity": "40",
    "team_min": "2",
    "team_max": "4",
    "visibility": "unlisted",
    "allowed_email_domains": "Example.edu, @example.org",
}


async def test_settings_are_saved_through_the_service(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    page = await client.get(admin(s))
    assert '<label for="settings-name">' in page.text
    saved = await submit(client, admin(s), **SETTINGS)
    assert saved.headers["location"] == admin(s)
    assert "The settings are saved." in text_of(await follow(client, saved))
    event = await reread(session, s)
    assert (event.name, event.mode, event.venue, event.capacity) == (
        "Spring Hack",
        "hybrid",
        "Hall 2",
        40,
    )
    assert (event.team_min, event.team_max, event.visibility) == (2, 4, "unlisted")
    assert event.waitlist_enabled is False  # the checkbox was not ticked
    assert event.allowed_email_domains == ["example.edu", "example.org"]
    assert event.description_html == "<p><strong>Bold</strong> &lt;script&gt;x&lt;/script&gt;</p>\n"
    cleared = await submit(
        client, admin(s), **{**SETTINGS, "capacity": "", "waitlist_enabled": "on"}
    )
    assert cleared.status_code == 303
    event = await reread(session, s)
    assert (event.capacity, event.waitlist_enabled) == (None, True)


async def test_settings_refusals_come_back_on_their_fields(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)  # four people are registered
    sizes = await submit(client, admin(s), **{**SETTINGS, "team_min": "5", "team_max": "3"})
    assert sizes.status_code == 422
    assert field_error(sizes, "settings-team_max") == "Must be at least minimum team size."
    assert 'value="Spring Hack"' in sizes.text
    small = await submit(client, admin(s), **{**SETTINGS, "capacity": "2"})
    assert small.status_code == 409
    assert field_error(small, "settings-capacity").startswith("More people are already registered")
    typo = await submit(
        client, admin(s), **{**SETTINGS, "capacity": "many", "allowed_email_domains": "nope"}
    )
    assert typo.status_code == 422
    assert field_error(typo, "settings-capacity").startswith("A whole number")
    assert "is not an email domain" in field_error(typo, "settings-allowed_email_domains")
    event = await reread(session, s)
    assert (event.capacity, event.team_max) == (None, 5)


async def test_dates_are_read_in_the_event_time_zone(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client, timezone="Europe/Berlin")
    dates = {
        "registration_opens_at": "2031-06-01T09:00",
        "registration_closes_at": "2031-06-04T09:30",
        "starts_at": "2031-06-05T10:00",
        "submissions_close_at": "2031-06-06T18:00",
        "grace_minutes": "15",
        "judging_closes_at": "",
    }
    saved = await submit(client, admin(s) + "/windows", **dates)
    assert saved.headers["location"] == admin(s) + "/windows"
    event = await reread(session, s)
    assert event.registration_closes_at == datetime(2031, 6, 4, 7, 30, tzinfo=UTC)
    assert (event.grace_minutes, event.judging_closes_at) == (15, None)
    shown = await client.get(admin(s) + "/windows")
    assert 'value="2031-06-04T09:30"' in shown.text  # the same wall clock comes back


async def test_impossible_dates_show_the_service_error(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client, timezone="Europe/Berlin")
    backwards = await submit(
        client,
        admin(s) + "/windows",
        registration_opens_at="2031-06-04T10:00",
        registration_closes_at="2031-06-01T10:00",
        grace_minutes="0",
    )
    assert backwards.status_code == 422
    assert field_error(backwards, "windows-registration_closes_at") == (
        "Must be after registration opens."
    )
    assert 'value="2031-06-01T10:00"' in backwards.text
    gap = await submit(
        client, admin(s) + "/windows", starts_at="2031-03-30T02:30", grace_minutes="0"
    )
    assert gap.status_code == 422
    assert field_error(gap, "windows-starts_at") == (
        "This time does not exist in Europe/Berlin (the clocks change)."
    )
    event = await reread(session, s)
    assert (event.registration_opens_at, event.starts_at) == (None, None)


async def test_publish_unpublish_and_archive_each_ask_first(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    draft = await create_event(session, s.org, slug="drafty", name="Drafty")
    base = admin(s, draft)
    assert f'href="{base}/publish"' in (await client.get(base)).text

    # The button opens a page saying what will happen; its form carries the confirmation.
    asked = await client.get(base + "/publish")
    assert asked.status_code == 200
    assert "Publish Drafty?" in text_of(asked)
    assert "Anyone can find its page" in text_of(asked)
    assert f'action="{base}/publish"' in asked.text
    assert '<input type="hidden" name="confirm" value="yes">' in asked.text

    # A post without it (an old page, a stray form) does nothing and goes to that page.
    unconfirmed = await submit(client, base, base + "/publish")
    assert unconfirmed.headers["location"] == base + "/publish"
    assert "Nothing was done yet" in text_of(await follow(client, unconfirmed))
    assert (await reread(session, s, draft)).published_at is None

    published = await submit(client, base + "/publish", confirm="yes")
    assert "The event is published." in text_of(await follow(client, published))
    assert (await reread(session, s, draft)).published_at is not None
    asked = await client.get(base + "/unpublish")
    assert "Take Drafty back to draft?" in text_of(asked)
    assert (await submit(client, base, base + "/unpublish")).status_code == 303
    assert (await reread(session, s, draft)).published_at is not None
    back = await submit(client, base + "/unpublish", confirm="yes")
    assert "The event is back to draft." in text_of(await follow(client, back))
    assert (await reread(session, s, draft)).published_at is None
    refused = await submit(client, admin(s) + "/unpublish", confirm="yes")  # people registered
    assert "People have registered" in text_of(await follow(client, refused))

    asked = await client.get(base + "/archive")
    assert "Archive Drafty?" in text_of(asked)
    assert "Archiving cannot be undone." in text_of(asked)
    assert "plan's limit: now 2 of 3 active events are in use" in text_of(asked)
    assert (await submit(client, base, base + "/archive", confirm="no")).status_code == 303
    assert (await reread(session, s, draft)).archived_at is None
    archived = await submit(client, base + "/archive", confirm="yes")
    page = await follow(client, archived)
    assert "The event is archived" in text_of(page)
    assert f'href="{base}/publish"' not in page.text
    assert (await reread(session, s, draft)).archived_at is not None

    # An action that is not one of the event's next steps has no confirmation page.
    gone = await client.get(base + "/publish")
    assert gone.headers["location"] == base
    assert "the event is archived" in text_of(await follow(client, gone))


# --- questions, tracks, awards, roles ---------------------------------------------------------


async def test_questions_are_added_edited_and_removed(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    page = admin(s) + "/questions"
    added = await submit(
        client, page, label="T-shirt size", kind="choice", options="S\nM\n\nL", required="on"
    )
    assert "Question “T-shirt size” added." in text_of(await follow(client, added))
    await submit(client, page, label="Dietary needs", kind="text", options="ignored for text")
    no_options = await submit(client, page, label="Pick", kind="multi_choice", options="")
    assert no_options.status_code == 422
    assert (
        field_error(no_options, "question-options")
        == "A multiple-choice question needs at least one option."
    )
    assert 'value="Pick"' in no_options.text
    event = await reread(session, s)
    assert event.questions == [
        {
            "id": "t-shirt-size",
            "kind": "choice",
            "label": "T-shirt size",
            "required": True,
            "options": ["S", "M", "L"],
        },
        {
            "id": "dietary-needs",
            "kind": "text",
            "label": "Dietary needs",
            "required": False,
            "options": [],
        },
    ]
    form = await client.get(page + "/t-shirt-size/edit")
    assert "S\nM\nL</textarea>" in form.text
    edited = await submit(
        client, page + "/t-shirt-size/edit", label="Shirt", kind="choice", options="M\nL"
    )
    assert "Question “Shirt” saved." in text_of(await follow(client, edited))
    removed = await submit(client, page, page + "/dietary-needs/delete")
    assert "removed" in text_of(await follow(client, removed))
    event = await reread(session, s)
    assert event.questions == [
        {
            "id": "t-shirt-size",
            "kind": "choice",
            "label": "Shirt",
            "required": False,
            "options": ["M", "L"],
        }
    ]
    assert (await client.get(page + "/nope/edit")).status_code == 404


async def test_tracks_and_awards(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    s = await organizer(session, client)
    page = admin(s) + "/tracks"
    await submit(client, page, page, name="Robots", description="Build one", position="1")
    again = await submit(client, page, page, name="robots", position="0")
    assert again.status_code == 409
    assert field_error(again, "track-name") == "This event already has a track with that name."
    await as_tenant(session, s.org.id)
    track = await session.scalar(select(Track).where(Track.event_id == s.event.id))
    assert track is not None
    award = await submit(
        client,
        page,
        admin(s) + "/awards",
        name="Best bot",
        prize="A trophy",
        track_id=str(track.id),
        position="0",
    )
    assert "Award “Best bot” added." in text_of(await follow(client, award))
    await as_tenant(session, s.org.id)
    best = await session.scalar(select(Award).where(Award.event_id == s.event.id))
    assert best is not None
    assert best.track_id == track.id
    edit = admin(s) + f"/awards/{best.id}/edit"
    assert 'value="A trophy"' in (await client.get(edit)).text
    bad = await submit(client, edit, name="Best bot", prize="x", track_id="", position="-1")
    assert bad.status_code == 422
    assert field_error(bad, "child-position") == "A whole number from 0 to 10000."
    overall = await submit(client, edit, name="Best bot", prize="Cash", track_id="", position="0")
    assert overall.status_code == 303
    await session.refresh(best)
    assert (best.prize, best.track_id) == ("Cash", None)
    public = await client.get(f"/orgs/{s.org.slug}/events/{s.event.slug}")
    assert "Best bot" in public.text
    assert "Robots" in public.text
    gone = await submit(client, page, admin(s) + f"/tracks/{track.id}/delete")
    assert "“Robots” removed." in text_of(await follow(client, gone))
    await as_tenant(session, s.org.id)
    assert await session.scalar(select(Track).where(Track.event_id == s.event.id)) is None


async def test_event_roles_are_granted_by_email_and_revoked(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    page = admin(s) + "/roles"
    judge = await create_user(
        session, email="judy@example.org", name="Judy", email_verified_at=datetime.now(UTC)
    )
    granted = await submit(client, page, email="Judy@Example.org", role="judge")
    assert "Judy is now judge of this event." in text_of(await follow(client, granted))
    twice = await submit(client, page, email="judy@example.org", role="judge")
    assert twice.status_code == 409
    assert field_error(twice, "grant-email") == "That person already has this role in this event."
    nobody = await submit(client, page, email="ghost@example.org", role="mentor")
    # No account: an invitation instead (tests/web/test_role_invitation_pages.py).
    assert "We mailed an invitation to ghost@example.org." in text_of(await follow(client, nobody))
    await as_tenant(session, s.org.id)
    grant = await session.scalar(select(EventRoleGrant).where(EventRoleGrant.user_id == judge.id))
    assert grant is not None
    assert grant.role == "judge"
    revoked = await submit(client, page, page + f"/{grant.id}/revoke")
    assert "The role is revoked." in text_of(await follow(client, revoked))
    await as_tenant(session, s.org.id)
    assert (
        await session.scalar(select(EventRoleGrant).where(EventRoleGrant.user_id == judge.id))
        is None
    )


async def test_the_public_page_links_organizers_to_the_admin(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    public = f"/orgs/{s.org.slug}/events/{s.event.slug}"
    assert f'href="{public}/admin">Manage this event</a>' in (await client.get(public)).text
    participant, token = await person(session)
    await create_registration(session, s.event, participant)
    use_session(client, token)
    page = await client.get(public)
    assert "Manage this event" not in page.text
    assert f'href="{public}/teams"' in page.text


async def test_judges_know_the_event_but_may_not_run_it(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    session.add(
        EventRoleGrant(
            org_id=s.org.id, event_id=s.event.id, user_id=s.users["otto"].id, role="judge"
        )
    )
    await session.flush()
    use_session(client, s.tokens["otto"])
    refused = await client.get(admin(s) + "/checkin")
    assert refused.status_code == 403
    assert "Only the event&#39;s organizers can do this." in refused.text


async def test_the_new_event_page_shows_the_plan_and_what_to_do_at_its_limit(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    new = f"/orgs/{s.org.slug}/new-event"
    page = await client.get(new)
    assert "Active events: 1 of 3 on the “free” plan" in text_of(page)
    assert 'id="plan-limit"' not in page.text
    s.org.max_active_events = 1
    await session.flush()

    page = await client.get(new)
    assert "Active events: 1 of 1 on the “free” plan" in text_of(page)
    assert "To raise the limit, ask a platform administrator" in text_of(page)
    assert f"hackops admin plan {s.org.slug} --max-active-events <number>" in text_of(page)
    assert f'<a href="/orgs/{s.org.slug}/events">the organization\'s events</a>' in page.text
    refused = await submit(
        client, new, name="More", slug="more", mode="online", venue="", timezone="UTC"
    )
    assert refused.status_code == 409
    assert alert_of(refused) == (
        "The event was not created: the plan's limit of active events is reached."
    )
    assert "ask a platform administrator; they run" in text_of(refused)
    await as_tenant(session, s.org.id)
    assert await session.scalar(select(Event.id).where(Event.slug == "more")) is None
