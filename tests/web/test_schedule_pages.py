"""An event's schedule on its pages: the organizers' Schedule tab (add, edit, remove, messages
for people), the public page's agenda in the event's zone with its offset, and the event's
calendar file (parsed back with icalendar: zones, UIDs stable across downloads)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx2
import pytest
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import ScheduleItem
from tests.factories import create_schedule_item
from tests.people import Cast, build_cast
from tests.web.test_account_pages import follow, submit, text_of, use_session
from tests.web.test_org_pages import as_tenant

BERLIN = ZoneInfo("Europe/Berlin")
# Saturday 12 December 2026, 08:00 UTC = 09:00 in Berlin (CET, UTC+01:00).
START = datetime(2026, 12, 12, 8, 0, tzinfo=UTC)
DATES = {
    "timezone": "Europe/Berlin",
    "registration_closes_at": START - timedelta(days=1),
    "starts_at": START,
    "submissions_close_at": START + timedelta(days=1, hours=8),
}


@pytest.fixture
async def berlin(session: AsyncSession) -> Cast:
    return await build_cast(session, tagline="Two days", **DATES)


def page_of(c: Cast) -> str:
    return f"/orgs/{c.org.slug}/events/{c.event.slug}"


def field_error(response: httpx2.Response, field_id: str) -> str:
    match = re.search(rf'id="{re.escape(field_id)}-error">([^<]+)<', response.text)
    assert match, f"no error on {field_id}"
    return text_of_html(match.group(1))


def text_of_html(value: str) -> str:
    import html

    return html.unescape(value)


def form(**overrides: str) -> dict[str, str]:
    return {
        "title": "Opening talk",
        "kind": "talk",
        "starts_at": "2026-12-12T09:30",
        "ends_at": "2026-12-12T10:00",
        "place": "Main hall",
        "url": "https://stream.example.org/opening",
        "description": "Welcome and rules.",
    } | overrides


async def items_of(session: AsyncSession, c: Cast) -> list[ScheduleItem]:
    await as_tenant(session, c.org.id)
    rows = await session.scalars(
        select(ScheduleItem)
        .where(ScheduleItem.event_id == c.event.id)
        .order_by(ScheduleItem.starts_at)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def test_an_organizer_adds_edits_and_removes_an_item(
    client: httpx2.AsyncClient, session: AsyncSession, berlin: Cast
) -> None:
    c = berlin
    use_session(client, c.tokens["org_organizer"])
    tab = page_of(c) + "/admin/schedule"
    empty = await client.get(tab)
    assert empty.status_code == 200
    assert 'aria-current="page">Schedule</a>' in empty.text
    # The event's own dates are already there, marked, with a way to change them.
    assert "Registration closes" in text_of(empty)
    assert "From the event's" in text_of(empty)
    assert "On the event's clock: Europe/Berlin, CET (UTC+01:00)." in text_of(empty)

    added = await submit(client, tab, **form())
    assert added.headers["location"] == tab
    shown = await follow(client, added)
    assert "“Opening talk” added to the schedule." in text_of(shown)
    [item] = await items_of(session, c)
    assert item.starts_at == START + timedelta(minutes=30)  # 09:30 in Berlin
    assert item.ends_at == START + timedelta(hours=1)
    assert (item.kind, item.place, item.url) == (
        "talk",
        "Main hall",
        "https://stream.example.org/opening",
    )
    assert '<time datetime="2026-12-12T08:30:00+00:00">09:30</time>' in shown.text

    edit = f"{tab}/{item.id}/edit"
    opened = await client.get(edit)
    assert 'value="2026-12-12T09:30"' in opened.text  # the event's wall clock, not UTC
    saved = await submit(client, edit, **form(title="Keynote", ends_at="", kind="other"))
    assert saved.headers["location"] == tab
    assert "“Keynote” saved." in text_of(await follow(client, saved))
    [item] = await items_of(session, c)
    assert (item.title, item.ends_at, item.kind) == ("Keynote", None, "other")

    removed = await submit(client, tab, f"{tab}/{item.id}/delete")
    assert "“Keynote” removed from the schedule." in text_of(await follow(client, removed))
    assert await items_of(session, c) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": ""}, "title", "Give the item a title of 1 to 200 characters."),
        (
            {"starts_at": ""},
            "starts_at",
            "Enter when it starts: a date and a time between the years 2000 and 2099.",
        ),
        ({"starts_at": "tomorrow"}, "starts_at", "A date and a time, like 2031-06-04T09:30."),
        (
            {"url": "javascript:alert(1)"},
            "url",
            "A web address starting with http:// or https://, at most 2000 characters.",
        ),
        (
            {"ends_at": "2026-12-12T09:00"},
            "ends_at",
            "The item would end before it starts: the end must come after the start.",
        ),
        # Berlin's clocks go from 02:00 to 03:00 on 28 March 2027: 02:30 never happens there.
        (
            {"starts_at": "2027-03-28T02:30", "ends_at": ""},
            "starts_at",
            "This time does not exist in Europe/Berlin (the clocks change).",
        ),
        ({"kind": "party"}, "kind", "Choose one of: talk, workshop, meal, deadline, other."),
    ],
)
async def test_bad_input_comes_back_with_a_message_for_people(
    client: httpx2.AsyncClient,
    session: AsyncSession,
    berlin: Cast,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    c = berlin
    use_session(client, c.tokens["org_organizer"])
    tab = page_of(c) + "/admin/schedule"
    refused = await submit(client, tab, **form(**fields))
    assert refused.status_code == 422
    assert field_error(refused, f"item-{field}") == message
    assert "Please correct the marked field." in text_of(refused)
    assert 'value="Opening talk"' in refused.text or field == "title"  # the input is kept
    assert await items_of(session, c) == []


@pytest.mark.parametrize("who", ["participant", "judge", "outsider"])
async def test_the_tab_is_for_organizers_only(
    client: httpx2.AsyncClient, session: AsyncSession, berlin: Cast, who: str
) -> None:
    c = berlin
    item = await create_schedule_item(session, c.event, title="Keynote")
    use_session(client, c.tokens[who])
    tab = page_of(c) + "/admin/schedule"
    expected = 403 if who == "judge" else 404
    assert (await client.get(tab)).status_code == expected
    assert (await client.get(f"{tab}/{item.id}/edit")).status_code == expected
    [kept] = await items_of(session, c)
    assert kept.title == "Keynote"


async def test_the_public_page_shows_the_schedule_in_the_events_zone(
    client: httpx2.AsyncClient, session: AsyncSession, berlin: Cast
) -> None:
    c = berlin
    await create_schedule_item(
        session,
        c.event,
        title="Midnight pizza",
        kind="meal",
        starts_at=START + timedelta(hours=14),  # 23:00 in Berlin
        ends_at=START + timedelta(hours=16),  # 01:00 the next day
        place="Kitchen",
        url="",
    )
    page = await client.get(page_of(c))  # a visitor, signed out
    assert page.status_code == 200
    shown = text_of(page)
    schedule = shown[shown.index('id="schedule-heading"') :]
    # Grouped by the event's days, times on its clock with the offset.
    assert schedule.index("Friday 11 December 2026") < schedule.index("Registration closes")
    assert schedule.index("Saturday 12 December 2026") < schedule.index("The event starts")
    assert schedule.index("The event starts") < schedule.index("Midnight pizza")
    assert schedule.index("Midnight pizza") < schedule.index("Sunday 13 December 2026")
    assert '<time datetime="2026-12-12T08:00:00+00:00">09:00</time>' in page.text
    assert '<time datetime="2026-12-12T22:00:00+00:00">23:00</time>–<time' in page.text
    assert "Sun 13 Dec, 01:00" in shown
    assert "CET (UTC+01:00)" in shown
    assert "Event date" in schedule
    assert f'href="{page_of(c)}/calendar.ics"' in page.text
    assert "Add to calendar" in shown


async def test_the_calendar_holds_the_event_its_dates_and_its_items(
    client: httpx2.AsyncClient, session: AsyncSession, berlin: Cast
) -> None:
    c = berlin
    talk = await create_schedule_item(
        session,
        c.event,
        title="Opening, talk; part 1",
        starts_at=START + timedelta(minutes=30),
        ends_at=START + timedelta(hours=1),
        place="Main hall",
        url="https://stream.example.org/opening",
    )
    first = await client.get(page_of(c) + "/calendar.ics")
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/calendar; charset=utf-8"
    assert f'filename="{c.event.slug}.ics"' in first.headers["content-disposition"]
    calendar = Calendar.from_ical(first.content)
    entries = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert sorted(entries) == sorted(
        [
            c.event.name,
            f"{c.event.name}: Registration closes",
            f"{c.event.name}: Submissions close",
            "Opening, talk; part 1",
        ]
    )
    # Times on the event's clock, with its zone (and its VTIMEZONE), the same instants.
    opening = entries["Opening, talk; part 1"]
    start = opening.decoded("dtstart")
    assert start.tzinfo is not None
    assert start.utcoffset() == timedelta(hours=1)
    assert start == talk.starts_at
    assert opening["dtstart"].params["TZID"] == "Europe/Berlin"
    assert opening.decoded("dtend") == talk.ends_at
    assert str(opening["location"]) == "Main hall"
    assert str(opening["url"]) == "https://stream.example.org/opening"
    assert [str(z["tzid"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    hack = entries[c.event.name]
    assert hack.decoded("dtstart") == START
    assert hack.decoded("dtend") == START + timedelta(days=1, hours=8)
    deadline = entries[f"{c.event.name}: Submissions close"]
    assert deadline["categories"].cats == ["Event date"]
    assert opening["categories"].cats == ["Talk"]
    assert str(calendar["x-wr-timezone"]) == "Europe/Berlin"

    # A second download: the same entries under the same UIDs (a calendar updates, not adds).
    second = await client.get(page_of(c) + "/calendar.ics")
    assert second.content == first.content
    uids = [str(e["uid"]) for e in Calendar.from_ical(second.content).walk("VEVENT")]
    assert len(set(uids)) == 4
    assert f"item-{talk.id}.{c.event.id}@testserver" in uids
    assert f"event-{c.event.id}@testserver" in uids

    # The item moves: same UID, new time.
    await as_tenant(session, c.org.id)
    talk.starts_at = START + timedelta(hours=1)
    talk.ends_at = START + timedelta(hours=2)
    await session.flush()
    third = Calendar.from_ical((await client.get(page_of(c) + "/calendar.ics")).content)
    moved = next(
        e
        for e in third.walk("VEVENT")
        if str(e["uid"]) == f"item-{talk.id}.{c.event.id}@testserver"
    )
    assert moved.decoded("dtstart") == START + timedelta(hours=1)


async def test_a_draft_events_calendar_is_not_found(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await build_cast(session, published_at=None, **DATES)
    assert (await client.get(page_of(c) + "/calendar.ics")).status_code == 404
