"""In Chromium against the live server, as a visitor who never signs in: from the landing page to a
finished event's results and gallery; from an event page to its organization's public page and
its events; the results page on a 390 px phone scrolls its tables, never the page. Screenshots
of the pages at 1280 and 390 px go to /work/notes/shots/public/ when that folder can be made."""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from hackops.config import to_sqlalchemy_url
from hackops.models import (
    Award,
    Event,
    EventResult,
    Organization,
    Registration,
    Submission,
    Team,
    TeamMember,
    User,
)
from tests.web.axe import assert_accessible
from tests.web.test_browser_flows import person

pytestmark = pytest.mark.browser
NOW = datetime.now(UTC)
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
SHOTS = Path("/work/notes/shots/public")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
#: Long, unbreakable names: what made the results table wider than a phone.
PROJECTS = (
    ("Floodwatch-River-Sensor-Network-Dashboard", "The Extraordinarily-Long-Team-Name Collective"),
    ("Bus Buddy", "Team Commuters"),
    ("Tutor Swap", "Peer Learners United"),
)


async def seed(url: str) -> tuple[str, str, str]:
    """A new organization with a finished event (results with a breakdown published, gallery
    open), a running one and an upcoming one; its slug, the finished and the upcoming event's."""
    engine = create_async_engine(to_sqlalchemy_url(url))
    run = secrets.token_hex(3)
    # The landing page shows six events a section across organizations, and the run's other
    # tests share this database: each event here sorts first in its section (results published
    # last, started earliest, starting soonest), whatever the others have made.
    moment = datetime.now(UTC)
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        org = Organization(
            slug=f"pub-{run}", name=f"Open Data Club {run}", branding={"primary_color": "#0a7d5a"}
        )
        session.add(org)
        await session.flush()
        finished = Event(
            org_id=org.id,
            slug="autumn",
            name=f"Autumn Hack {run}",
            tagline="Open data for the city",
            registration_opens_at=NOW - 40 * DAY,
            starts_at=NOW - 30 * DAY,
            submissions_close_at=NOW - 28 * DAY,
            published_at=NOW - 40 * DAY,
            results_published_at=moment,
            results_show_breakdown=True,
            gallery_opened_at=NOW - 10 * DAY,
        )
        running = Event(
            org_id=org.id,
            slug="live",
            name=f"Live Jam {run}",
            registration_opens_at=moment - 401 * DAY,
            starts_at=moment - 400 * DAY,
            submissions_close_at=NOW + DAY,
            published_at=moment - 401 * DAY,
        )
        upcoming = Event(
            org_id=org.id,
            slug="spring",
            name=f"Spring Hack {run}",
            registration_opens_at=NOW - DAY,
            starts_at=moment + 10 * MINUTE,
            submissions_close_at=NOW + 22 * DAY,
            published_at=NOW - DAY,
            capacity=50,
        )
        draft = Event(org_id=org.id, slug="draft", name=f"Secret Draft {run}")
        session.add_all([finished, running, upcoming, draft])
        await session.flush()
        award = Award(org_id=org.id, event_id=finished.id, name="Best project", prize="Trophy")
        session.add(award)
        names = ("Impact", "Execution", "Originality")
        criteria = [{"id": f"c{i}", "name": n, "max_score": 10} for i, n in enumerate(names)]
        rows = []
        for n, (title, team_name) in enumerate(PROJECTS):
            maker = User(email=f"maker{n}-{run}@example.com", name=f"Maker {n}")
            session.add(maker)
            await session.flush()
            session.add(
                Registration(
                    org_id=org.id,
                    event_id=finished.id,
                    user_id=maker.id,
                    status="registered",
                    checkin_code=secrets.token_hex(6).upper(),
                )
            )
            team = Team(
                org_id=org.id,
                event_id=finished.id,
                name=team_name,
                captain_id=maker.id,
                join_code=secrets.token_hex(5).upper(),
                max_members=4,
            )
            session.add(team)
            await session.flush()
            session.add(
                TeamMember(
                    org_id=org.id,
                    event_id=finished.id,
                    team_id=team.id,
                    user_id=maker.id,
                    role="captain",
                )
            )
            submission = Submission(
                org_id=org.id,
                event_id=finished.id,
                team_id=team.id,
                status="approved",
                title=title,
                tagline=f"{title}, built in a weekend",
                description_html=f"<p>{title}.</p>",
                technologies=["python"],
                submitted_at=NOW - 29 * DAY,
            )
            session.add(submission)
            await session.flush()
            judges = [
                {"judge": f"Judge {j + 1}", "scores": {c["id"]: 9 - n - j % 2 for c in criteria}}
                for j in range(6)
            ]
            rows.append(
                {
                    "rank": n + 1,
                    "submission_id": str(submission.id),
                    "title": title,
                    "team_name": team_name,
                    "track_ids": [],
                    "tracks": [],
                    "score": 9.5 - n,
                    "raw_mean": 80.0 - n,
                    "evaluations": 6,
                    "breakdown": {
                        "criteria": [{**c, "mean": 8.5 - n} for c in criteria],
                        "judges": judges,
                    },
                }
            )
        await session.flush()
        winners = [
            {
                "award_id": str(award.id),
                "award": award.name,
                "prize": award.prize,
                "submission_id": rows[0]["submission_id"],
                "title": rows[0]["title"],
                "team_name": rows[0]["team_name"],
                "source": "ranking",
            }
        ]
        session.add(
            EventResult(
                org_id=org.id,
                event_id=finished.id,
                method="judge_effect",
                ranking=rows,
                winners=winners,
                published_at=finished.results_published_at,
            )
        )
    await engine.dispose()
    return org.slug, finished.slug, upcoming.slug


async def shoot(page: Any, name: str) -> None:
    """At 1280 and 390 px: axe-core finds nothing, and a full-page screenshot is kept (the page
    is left at 390 px)."""
    try:
        await asyncio.to_thread(SHOTS.mkdir, parents=True, exist_ok=True)
        keep = True
    except OSError:  # pragma: no cover - somewhere without the notes folder
        keep = False
    for label, size in (("1280", DESKTOP), ("390", PHONE)):
        await page.set_viewport_size(size)
        await assert_accessible(page)
        if keep:
            await page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)


async def no_page_overflow(page: Any) -> None:
    """Nothing makes the page wider than the screen (a wide table scrolls in its own box)."""
    widths = await page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth, document.body.scrollWidth]"
    )
    assert widths[0] <= widths[1], widths
    assert widths[2] <= widths[1], widths


async def test_a_visitor_goes_from_the_landing_page_to_results_and_gallery(
    live_server: str, live_database_url: str, chromium: Any
) -> None:
    from playwright.async_api import expect

    slug, finished, _ = await seed(live_database_url)
    visitor = await person(chromium)
    await visitor.set_viewport_size(DESKTOP)
    await visitor.goto(live_server + "/")
    results = visitor.locator("#results")
    card = results.locator(".event-card", has_text="Autumn Hack")
    await expect(card).to_contain_text("finished")
    await expect(card).to_contain_text("results published")
    await expect(card).not_to_contain_text("registration open")
    await expect(visitor.locator("#upcoming")).to_contain_text("Spring Hack")
    await expect(visitor.locator("#happening")).to_contain_text("Live Jam")
    await expect(visitor.locator("#events")).not_to_contain_text("Secret Draft")
    await shoot(visitor, "landing")

    await visitor.set_viewport_size(DESKTOP)
    await card.get_by_role("link", name=re.compile(r"^Results")).click()
    await expect(visitor).to_have_url(f"{live_server}/orgs/{slug}/events/{finished}/results")
    await expect(visitor.locator("#winners")).to_contain_text("Best project")
    await expect(visitor.locator("#winners")).to_contain_text(PROJECTS[0][0])
    await visitor.go_back()
    await (
        visitor.locator("#results .event-card", has_text="Autumn Hack")
        .get_by_role("link", name=re.compile(r"^Project gallery"))
        .click()
    )
    await expect(visitor).to_have_url(f"{live_server}/orgs/{slug}/events/{finished}/gallery")
    await expect(visitor.locator("main")).to_contain_text("Bus Buddy")
    await expect(visitor.locator("main")).to_contain_text("Tutor Swap")
    await shoot(visitor, "gallery")
    await no_page_overflow(visitor)
    await asyncio.sleep(0.2)
    assert visitor.problems == []


async def test_a_visitor_opens_the_organization_from_an_event_page(
    live_server: str, live_database_url: str, chromium: Any
) -> None:
    from playwright.async_api import expect

    slug, finished, upcoming = await seed(live_database_url)
    visitor = await person(chromium)
    await visitor.set_viewport_size(DESKTOP)
    await visitor.goto(f"{live_server}/orgs/{slug}/events/{upcoming}")
    await expect(visitor.locator("#event-state")).to_have_text("upcoming")
    await shoot(visitor, "event-upcoming")
    await visitor.set_viewport_size(DESKTOP)
    await visitor.get_by_role("link", name=re.compile(r"^Open Data Club")).click()
    await expect(visitor).to_have_url(f"{live_server}/orgs/{slug}/public")
    await expect(visitor.locator("h1")).to_have_text(re.compile(r"^Open Data Club"))
    await expect(visitor.locator("svg.brand-stripe rect")).to_have_attribute("fill", "#0a7d5a")
    await expect(visitor.locator("#upcoming")).to_contain_text("Spring Hack")
    await expect(visitor.locator("#happening")).to_contain_text("Live Jam")
    past = visitor.locator("#past .event-card")
    await expect(past).to_have_count(1)
    await expect(past).to_contain_text("Autumn Hack")
    await expect(visitor.locator("main")).not_to_contain_text("Secret Draft")
    await shoot(visitor, "org-public")
    await no_page_overflow(visitor)

    # The organization's own address, where an old link may lead, sends a visitor here too.
    await visitor.goto(f"{live_server}/orgs/{slug}")
    await expect(visitor).to_have_url(f"{live_server}/orgs/{slug}/public")
    await visitor.set_viewport_size(DESKTOP)
    await past.get_by_role("link", name=re.compile(r"^Project gallery")).click()
    await expect(visitor).to_have_url(f"{live_server}/orgs/{slug}/events/{finished}/gallery")
    await visitor.goto(f"{live_server}/orgs/{slug}/events/{finished}")
    await expect(visitor.locator("#event-state")).to_have_text("finished")
    await expect(visitor.locator("#registration-closed")).to_have_text(
        "This event is over: registration is closed."
    )
    await shoot(visitor, "event-finished")
    await no_page_overflow(visitor)
    await asyncio.sleep(0.2)
    assert visitor.problems == []


async def test_results_fit_a_phone(live_server: str, live_database_url: str, chromium: Any) -> None:
    from playwright.async_api import expect

    slug, finished, _ = await seed(live_database_url)
    visitor = await person(chromium)
    await visitor.set_viewport_size(PHONE)
    await visitor.goto(f"{live_server}/orgs/{slug}/events/{finished}/results")
    await expect(visitor.locator("#ranking-overall")).to_contain_text(PROJECTS[0][0])
    await no_page_overflow(visitor)
    # The wide breakdown scrolls inside its own box, which a keyboard can reach.
    box = visitor.locator(".table-wrap[role=region]").last
    await expect(box).to_have_attribute("tabindex", "0")
    await shoot(visitor, "results")
    await visitor.set_viewport_size(PHONE)
    await no_page_overflow(visitor)
    await asyncio.sleep(0.2)
    assert visitor.problems == []
