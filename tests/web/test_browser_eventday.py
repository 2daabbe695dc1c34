"""Event-day tools in headless Chromium against the live server: an organizer adds a schedule
item and a visitor sees it on the event's page (on the event's clock) and in its calendar file;
the projector view of the live leaderboard updates after a judge's score; the results reveal
advances one award at a time with the keyboard and a click.

Events are written straight into the live server's database, as in test_browser_leaderboard.
Screenshots of each page at 1280 and 390 px (the projector pages at 1920x1080) land in the
test's temporary folder, or in $HACKOPS_SHOTS when it is set (to look at them).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hackops.config import to_sqlalchemy_url
from hackops.db import make_sessionmaker
from hackops.models import Award, EventResult
from hackops.tenancy import set_tenant
from tests.factories import create_event, create_organization, create_schedule_item
from tests.web.axe import assert_accessible
from tests.web.test_browser_flows import flash_text, log_in, person
from tests.web.test_browser_judging_flow import judged_event
from tests.web.test_browser_leaderboard import add_early_score, add_organizer

pytestmark = pytest.mark.browser

# Saturday 12 June 2027, 07:00 UTC = 09:00 in Berlin (CEST, UTC+02:00).
START = datetime(2027, 6, 12, 7, 0, tzinfo=UTC)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("HACKOPS_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def shoot(page: Any, folder: Path, name: str) -> None:
    """Full-page screenshots of the page as it is, 1280 and 390 px wide."""
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=folder / f"{name}-{width}.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})


@dataclass
class Scheduled:
    org_id: uuid.UUID
    page: str  # the event's public page
    admin: str  # its admin


async def berlin_event(engine: AsyncEngine, run: str) -> Scheduled:
    """A published event in Berlin with its dates and a lunch already on the schedule."""
    async with make_sessionmaker(engine)() as session, session.begin():
        org = await create_organization(session, slug=f"day-{run}", name="Day Club")
        event = await create_event(
            session,
            org,
            slug="summer-hack",
            name="Summer Hack",
            tagline="Two days of building",
            timezone="Europe/Berlin",
            published_at=datetime.now(UTC) - timedelta(days=1),
            registration_opens_at=datetime.now(UTC) - timedelta(days=1),
            registration_closes_at=START - timedelta(days=1),
            starts_at=START,
            submissions_close_at=START + timedelta(days=1, hours=6),
            mode="in_person",
            venue="Halle 4, Berlin",
        )
        await create_schedule_item(
            session,
            event,
            title="Lunch",
            kind="meal",
            starts_at=START + timedelta(hours=5),
            ends_at=START + timedelta(hours=6),
            place="Canteen",
        )
    base = f"/orgs/{org.slug}/events/{event.slug}"
    return Scheduled(org.id, base, base + "/admin")


async def test_an_organizer_adds_an_item_and_a_visitor_sees_it(
    live_server: str, live_database_url: str, chromium: Any, shots: Path
) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    organizer_email = f"olive-{run}@example.org"
    engine = create_async_engine(to_sqlalchemy_url(live_database_url))
    try:
        world = await berlin_event(engine, run)
        await add_organizer(engine, world.org_id, organizer_email)
    finally:
        await engine.dispose()

    organizer = await person(chromium)
    await organizer.goto(f"{live_server}/login?next={world.admin}")
    await log_in(organizer, organizer_email)
    await expect(organizer).to_have_url(f"{live_server}{world.admin}")
    await (
        organizer.get_by_role("navigation", name="Event admin sections")
        .get_by_role("link", name="Schedule")
        .click()
    )
    await expect(organizer).to_have_url(f"{live_server}{world.admin}/schedule")
    await expect(organizer.locator("#schedule")).to_contain_text("Lunch")
    await expect(organizer.locator("#schedule")).to_contain_text("Registration closes")

    # A first try with an end before the start: the form says so and keeps the input.
    await organizer.get_by_label("Title").fill("Opening keynote")
    await organizer.get_by_label("Type").select_option("talk")
    await organizer.get_by_label(re.compile(r"^Starts")).fill("2027-06-12T09:30")
    await organizer.get_by_label(re.compile(r"^Ends")).fill("2027-06-12T09:00")
    await organizer.get_by_label(re.compile(r"^Place")).fill("Main hall")
    await organizer.get_by_label(re.compile(r"^Link")).fill("https://stream.example.org/keynote")
    await organizer.get_by_role("button", name="Add to the schedule").click()
    await expect(organizer.locator("#item-ends_at-error")).to_have_text(
        "The item would end before it starts: the end must come after the start."
    )
    await expect(organizer.get_by_label("Title")).to_have_value("Opening keynote")
    await shoot(organizer, shots, "schedule-admin-refused")
    await assert_accessible(organizer)

    await organizer.get_by_label(re.compile(r"^Ends")).fill("2027-06-12T10:15")
    await organizer.get_by_role("button", name="Add to the schedule").click()
    await expect(organizer).to_have_url(f"{live_server}{world.admin}/schedule")
    assert "“Opening keynote” added to the schedule." in await flash_text(organizer)
    keynote = organizer.locator(".agenda-item", has_text="Opening keynote")
    await expect(keynote).to_contain_text("09:30–10:15")
    await expect(keynote).to_contain_text("CEST (UTC+02:00)")
    await shoot(organizer, shots, "schedule-admin")
    await assert_accessible(organizer)
    await keynote.get_by_role("link", name=re.compile("^Edit")).click()
    await expect(organizer.get_by_label(re.compile(r"^Starts"))).to_have_value("2027-06-12T09:30")
    await shoot(organizer, shots, "schedule-edit")
    await assert_accessible(organizer)
    await organizer.get_by_role("link", name="Cancel").click()

    # A visitor, signed out, sees it on the event's page, on the event's clock.
    visitor = await person(chromium)
    await visitor.goto(f"{live_server}{world.page}")
    schedule = visitor.locator("#schedule")
    await expect(schedule.get_by_role("heading", name="Saturday 12 June 2027")).to_be_visible()
    item = schedule.locator(".agenda-item", has_text="Opening keynote")
    await expect(item).to_contain_text("09:30–10:15")
    await expect(item).to_contain_text("CEST (UTC+02:00)")
    await expect(item).to_contain_text("Main hall")
    await expect(item.get_by_role("link")).to_have_attribute(
        "href", "https://stream.example.org/keynote"
    )
    starts = schedule.locator(".agenda-item", has_text="The event starts")
    await expect(starts).to_contain_text("Event date")
    titles = await schedule.locator(".agenda-item strong").all_inner_texts()
    assert titles == [
        "Registration opens",
        "Registration closes",
        "The event starts",
        "Opening keynote",
        "Lunch",
        "Submissions close",
    ]
    await shoot(visitor, shots, "event-page-schedule")
    await assert_accessible(visitor)

    # "Add to calendar" downloads the event's calendar, with the new item in it.
    async with visitor.expect_download() as downloading:
        await visitor.get_by_role("link", name=re.compile("^Add to calendar")).click()
    download = await downloading.value
    assert download.suggested_filename == "summer-hack.ics"
    saved = shots / download.suggested_filename
    await download.save_as(saved)
    calendar = Calendar.from_ical(saved.read_bytes())
    summaries = sorted(str(e["summary"]) for e in calendar.walk("VEVENT"))
    assert summaries == [
        "Lunch",
        "Opening keynote",
        "Summer Hack",
        "Summer Hack: Registration closes",
        "Summer Hack: Registration opens",
        "Summer Hack: Submissions close",
    ]
    await asyncio.sleep(0.2)
    # The refused form answered 422 on purpose (the browser logs it); nothing else went wrong.
    assert [p for p in organizer.problems if "status of 422" not in p] == []
    assert visitor.problems == []


async def test_the_projector_shows_the_board_and_updates_after_a_score(
    live_server: str, live_database_url: str, chromium: Any, shots: Path
) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    judge_email, organizer_email = f"jude-{run}@example.org", f"olive-{run}@example.org"
    engine = create_async_engine(to_sqlalchemy_url(live_database_url))
    try:
        world = await judged_event(engine, judge_email)
        await add_organizer(engine, world.org_id, organizer_email)
        await add_early_score(engine, world)
    finally:
        await engine.dispose()
    (first, first_title), _, (_, last_title) = world.projects
    board = world.queue.replace("/judging", "/admin/judging/leaderboard")

    organizer = await person(chromium)
    await organizer.goto(f"{live_server}/login?next={board}")
    await log_in(organizer, organizer_email)
    await expect(organizer).to_have_url(f"{live_server}{board}")
    await organizer.get_by_role("link", name="Projector view").click()
    await expect(organizer).to_have_url(f"{live_server}{board}/projector")
    await organizer.set_viewport_size({"width": 1920, "height": 1080})
    rows = organizer.locator("#leaderboard tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(last_title)
    await expect(organizer.locator("#leaderboard-status")).to_have_text("Live", timeout=5000)
    await expect(organizer.get_by_role("button", name=re.compile("^Full screen"))).to_be_visible()
    # Large type: a row reads from the back of a room.
    size = (
        await rows.first.locator("td")
        .nth(1)
        .evaluate("cell => parseFloat(getComputedStyle(cell).fontSize)")
    )
    assert size >= 48, size
    await organizer.screenshot(path=str(shots / "projector-1920.png"))
    await assert_accessible(organizer)

    judge = await person(chromium)
    await judge.goto(f"{live_server}/login?next={world.queue}/{first}")
    await log_in(judge, judge_email)
    await expect(judge).to_have_url(f"{live_server}{world.queue}/{first}")
    await judge.get_by_label(re.compile(r"^Impact")).fill("9")
    await judge.get_by_label(re.compile(r"^Execution")).fill("9")
    await judge.get_by_role("button", name="Submit and next").click()
    await expect(judge.locator(".flashes")).to_contain_text(f"Scores submitted for “{first_title}”")

    # No reload: the projector shows the new order, with its three columns.
    await expect(rows).to_have_count(2, timeout=5000)
    await expect(rows.nth(0)).to_contain_text(first_title)
    await expect(rows.nth(0).locator("td")).to_have_count(3)
    await expect(rows.nth(0).locator("td").nth(0)).to_have_text("1")
    await expect(rows.nth(1)).to_contain_text(last_title)
    await expect(organizer.locator("#leaderboard-summary")).to_have_text("2 projects ranked.")
    await organizer.screenshot(path=str(shots / "projector-updated-1920.png"))
    await shoot(organizer, shots, "projector")
    await asyncio.sleep(0.2)
    assert organizer.problems == []
    assert judge.problems == []


AWARDS = (
    ("Grand prize", "A trip to the finals", "Rover", "Red team"),
    ("Best design", "Drawing tablets", "Kite", "Blue team"),
    ("Community award", "", "Lamp", "Green team"),
)


async def published_event(engine: AsyncEngine) -> tuple[uuid.UUID, str]:
    """An event whose results are published: three awards and their winners in the snapshot;
    the admin address."""
    now = datetime.now(UTC)
    async with make_sessionmaker(engine)() as session, session.begin():
        org = await create_organization(session)
        event = await create_event(
            session,
            org,
            name="Winter Hack",
            published_at=now - timedelta(days=3),
            starts_at=now - timedelta(days=2),
            submissions_close_at=now - timedelta(days=1),
            results_published_at=now - timedelta(hours=1),
        )
        await set_tenant(session, org.id)
        ranking, winners = [], []
        for n, (award_name, prize, title, team) in enumerate(AWARDS):
            award = Award(
                org_id=org.id, event_id=event.id, name=award_name, prize=prize, position=n
            )
            session.add(award)
            await session.flush()
            sid = str(uuid.uuid4())
            ranking.append(
                {
                    "rank": n + 1,
                    "submission_id": sid,
                    "title": title,
                    "team_name": team,
                    "score": 90.0 - n,
                    "raw_mean": 80.0,
                    "evaluations": 3,
                    "track_ids": [],
                }
            )
            winners.append(
                {
                    "award_id": str(award.id),
                    "award": award_name,
                    "prize": prize,
                    "submission_id": sid,
                    "title": title,
                    "team_name": team,
                    "source": "ranking",
                }
            )
        session.add(
            EventResult(
                org_id=org.id,
                event_id=event.id,
                method="judge_effect",
                ranking=ranking,
                winners=winners,
            )
        )
    return org.id, f"/orgs/{org.slug}/events/{event.slug}/admin"


async def test_the_reveal_advances_one_award_at_a_time(
    live_server: str, live_database_url: str, chromium: Any, shots: Path
) -> None:
    from playwright.async_api import expect

    organizer_email = f"olive-{secrets.token_hex(4)}@example.org"
    engine = create_async_engine(to_sqlalchemy_url(live_database_url))
    try:
        org_id, admin = await published_event(engine)
        await add_organizer(engine, org_id, organizer_email)
    finally:
        await engine.dispose()

    organizer = await person(chromium)
    await organizer.goto(f"{live_server}/login?next={admin}/judging")
    await log_in(organizer, organizer_email)
    await expect(organizer).to_have_url(f"{live_server}{admin}/judging")
    await expect(
        organizer.locator("#publish-done").get_by_role("link", name="Results reveal")
    ).to_be_visible()
    await (
        organizer.locator("#judging-reveal-link").get_by_role("link", name="Results reveal").click()
    )
    await expect(organizer).to_have_url(f"{live_server}{admin}/results/reveal")
    await organizer.set_viewport_size({"width": 1920, "height": 1080})

    visible = organizer.locator(".reveal-slide:visible")
    counter = organizer.locator("#reveal-counter")
    await expect(visible).to_have_count(1)
    await expect(visible).to_contain_text("The results")
    await expect(counter).to_have_text("Ready")
    await organizer.screenshot(path=str(shots / "reveal-start-1920.png"))
    await assert_accessible(organizer)

    # Space: the last award first ...
    await organizer.keyboard.press("Space")
    await expect(visible).to_have_count(1)
    await expect(visible).to_contain_text("Community award")
    await expect(visible).to_contain_text("Lamp")
    await expect(visible).not_to_contain_text("Rover")
    await expect(counter).to_have_text("1 / 4")
    await expect(organizer.locator("#reveal-announce")).to_contain_text("Community award")
    # ... the arrow keys go forward and back ...
    await organizer.keyboard.press("ArrowRight")
    await expect(visible).to_contain_text("Best design")
    await expect(visible).to_contain_text("Drawing tablets")
    await organizer.keyboard.press("ArrowLeft")
    await expect(visible).to_contain_text("Community award")
    await organizer.keyboard.press("ArrowRight")
    await organizer.screenshot(path=str(shots / "reveal-step-1920.png"))
    # ... and a click shows the winner, last.
    await organizer.locator("#reveal").click()
    await expect(visible).to_have_count(1)
    await expect(visible).to_contain_text("And the winner is…")
    await expect(visible).to_contain_text("Grand prize")
    await expect(visible).to_contain_text("Rover")
    await expect(visible).to_contain_text("Red team")
    await expect(counter).to_have_text("3 / 4")
    await organizer.screenshot(path=str(shots / "reveal-winner-1920.png"))
    await assert_accessible(organizer)
    await shoot(organizer, shots, "reveal-winner")
    await organizer.keyboard.press("Space")
    await expect(visible).to_contain_text("Congratulations to every team")
    await organizer.keyboard.press("Space")  # the end stays the end
    await expect(counter).to_have_text("4 / 4")
    await organizer.keyboard.press("Home")
    await expect(counter).to_have_text("Ready")
    await asyncio.sleep(0.2)
    assert organizer.problems == []
