"""My calendar feed: the events I registered for, organize or judge, with their windows, at a
private address; a new address revokes the old one, turning the feed off revokes it too."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx2
from icalendar import Calendar
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.accounts.credentials import digest
from hackops.models import AuditEntry, CalendarFeed, User
from tests.factories import (
    create_event,
    create_event_role,
    create_membership,
    create_organization,
    create_registration,
)
from tests.people import person
from tests.web.test_account_pages import follow, submit, text_of, use_session

PAGE = "/account/calendar"
START = datetime(2026, 12, 12, 9, 0, tzinfo=UTC)


def windows(**values: object) -> dict[str, object]:
    return {
        "published_at": START - timedelta(days=30),
        "registration_closes_at": START - timedelta(days=1),
        "starts_at": START,
        "submissions_close_at": START + timedelta(days=1),
        "judging_closes_at": START + timedelta(days=2),
        **values,
    }


async def address_of(client: httpx2.AsyncClient) -> str:
    """Make a new address on the account page; the address it shows once."""
    made = await submit(client, PAGE, PAGE + "/new")
    assert made.status_code == 200, made.text
    assert made.headers["cache-control"] == "no-store"
    found = re.search(r'id="calendar-address"[^>]*value="([^"]+)"', made.text)
    assert found, "the new address is on the page"
    return found.group(1)


def entries(body: bytes) -> dict[str, tuple[str, datetime, datetime | None]]:
    calendar = Calendar.from_ical(body)
    return {
        str(e["uid"]): (
            str(e["summary"]),
            e.decoded("dtstart"),
            e.decoded("dtend") if "dtend" in e else None,
        )
        for e in calendar.walk("VEVENT")
    }


async def test_the_feed_holds_my_events_and_their_windows(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    me, token = await person(session, verified=True)
    org = await create_organization(session)
    attending = await create_event(session, org, name="Hack the Harbour", **windows())
    judged = await create_event(session, org, name="Judged event", **windows())
    draft = await create_event(session, org, name="Draft", **windows(published_at=None))
    cancelled = await create_event(session, org, name="Cancelled", **windows())
    await create_registration(session, attending, me)
    await create_registration(session, draft, me)
    await create_registration(session, cancelled, me, status="cancelled")
    await create_event_role(session, judged, me, role="judge")
    mine = await create_organization(session)
    organized = await create_event(session, mine, name="Organized", **windows())
    await create_membership(session, mine, me, role="organizer")
    use_session(client, token)
    address = await address_of(client)
    path = address.removeprefix("http://127.0.0.1:8000")
    client.cookies.clear()  # a calendar app has no cookies
    feed = await client.get(path)
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    found = entries(feed.content)
    a, j, o = attending.id, judged.id, organized.id
    end = START + timedelta(days=1)
    assert found == {
        f"{a}-event@hackops": ("Hack the Harbour", START, end),
        f"{a}-submissions-close@hackops": ("Submissions close: Hack the Harbour", end, end),
        f"{j}-event@hackops": ("Judged event", START, end),
        f"{j}-submissions-close@hackops": ("Submissions close: Judged event", end, end),
        f"{j}-judging-closes@hackops": (
            "Judging closes: Judged event",
            START + timedelta(days=2),
            START + timedelta(days=2),
        ),
        f"{o}-event@hackops": ("Organized", START, end),
        f"{o}-registration-closes@hackops": (
            "Registration closes: Organized",
            START - timedelta(days=1),
            START - timedelta(days=1),
        ),
        f"{o}-submissions-close@hackops": ("Submissions close: Organized", end, end),
        f"{o}-judging-closes@hackops": (
            "Judging closes: Organized",
            START + timedelta(days=2),
            START + timedelta(days=2),
        ),
    }
    assert draft.id not in {uid.split("-")[0] for uid in found}
    assert f"/orgs/{org.slug}/events/{attending.slug}" in feed.text


async def test_only_the_hash_is_stored_and_the_address_is_shown_once(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    me, token = await person(session, verified=True)
    use_session(client, token)
    before = await client.get(PAGE)
    assert "You have no calendar address yet" in text_of(before)
    address = await address_of(client)
    raw = address.rsplit("/", 1)[1].removesuffix(".ics")
    stored = await session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == me.id))
    assert stored is not None
    assert stored.token_hash == digest(raw)
    again = await client.get(PAGE)
    assert raw not in again.text
    assert "Your calendar address works since" in text_of(again)


async def test_a_new_address_revokes_the_old_and_turning_off_revokes_it(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    _, token = await person(session, verified=True)
    use_session(client, token)
    first = (await address_of(client)).removeprefix("http://127.0.0.1:8000")
    assert (await client.get(first)).status_code == 200
    second = (await address_of(client)).removeprefix("http://127.0.0.1:8000")
    assert second != first
    gone = await client.get(first)
    assert gone.status_code == 404
    assert "No such calendar" in text_of(gone)
    assert (await client.get(second)).status_code == 200
    off = await follow(client, await submit(client, PAGE, PAGE + "/off"))
    assert "Your calendar address no longer works." in text_of(off)
    assert (await client.get(second)).status_code == 404
    assert (await client.get("/calendar/" + "x" * 43 + ".ics")).status_code == 404
    assert (await client.get("/calendar/" + "x" * 300 + ".ics")).status_code == 404


async def test_a_disabled_account_has_no_feed(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    me, token = await person(session, verified=True)
    use_session(client, token)
    path = (await address_of(client)).removeprefix("http://127.0.0.1:8000")
    me_row = await session.get_one(User, me.id)
    me_row.disabled_at = datetime.now(UTC)
    await session.flush()
    client.cookies.clear()
    assert (await client.get(path)).status_code == 404


async def test_the_calendar_page_asks_to_sign_in(client: httpx2.AsyncClient) -> None:
    page = await client.get(PAGE)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")


async def test_each_change_of_the_address_is_audited(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    me, token = await person(session, verified=True)
    use_session(client, token)
    await address_of(client)
    path = (await address_of(client)).removeprefix("http://127.0.0.1:8000")
    await submit(client, PAGE, PAGE + "/off")
    await submit(client, PAGE, PAGE + "/off")  # already off: nothing to record
    await client.get(path)  # a fetch of a revoked address changes nothing
    await connection.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    actions = await session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.resource_id == str(me.id), AuditEntry.action.like("calendar_feed.%"))
        .order_by(AuditEntry.created_at, AuditEntry.id)
    )
    assert list(actions) == [
        "calendar_feed.created",
        "calendar_feed.renewed",
        "calendar_feed.revoked",
    ]
