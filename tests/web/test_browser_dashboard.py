"""The event dashboard in headless Chromium against the live server: an organizer goes from the
event's admin to the dashboard (the nav's group Overview), sees the charts drawn (SVG visible, no
CSP report), opens a chart's table with the keyboard, downloads a chart's CSV; axe-core finds
nothing at 1280 and 390 px; the organization's events dashboard too. Screenshots:
/work/notes/shots/dash/.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from hackops.config import to_sqlalchemy_url
from hackops.db import make_sessionmaker
from tests.analytics.seed import Size, publish_results, seed_event
from tests.factories import create_event, create_organization
from tests.web.axe import assert_accessible
from tests.web.test_browser_flows import log_in, person
from tests.web.test_browser_leaderboard import add_organizer

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("HACKOPS_SHOTS", "/work/notes/shots/dash"))
SIZE = Size(registrations=600, teams=130, submissions=90, judges=10)


async def shoot(page: Any, name: str, sections: bool = False) -> None:
    """A full-page screenshot (and one per dashboard section) when the notes folder is here."""
    if not SHOTS.parent.exists():
        return
    SHOTS.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if sections:
        for section in await page.locator(".dashboard-section").all():
            key = await section.get_attribute("id")
            await section.screenshot(path=str(SHOTS / f"{name}-{key}.png"))


async def test_an_organizer_reads_the_dashboard(
    live_server: str, live_database_url: str, chromium: Any
) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    email = f"olive-{run}@example.org"
    engine = create_async_engine(to_sqlalchemy_url(live_database_url))
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            org = await create_organization(session, slug=f"dash-{run}", name=f"Dash Club {run}")
            event = await create_event(
                session,
                org,
                name="Spring Hack",
                published_at=datetime.now(UTC) - timedelta(days=40),
                timezone="Europe/Berlin",
            )
            await seed_event(session, org.id, event.id, SIZE)
            await publish_results(session, org.id, event.id)
            slug, event_slug, org_id = org.slug, event.slug, org.id
        await add_organizer(engine, org_id, email)
    finally:
        await engine.dispose()
    admin = f"/orgs/{slug}/events/{event_slug}/admin"

    page = await person(chromium)
    csp_reports: list[str] = []
    page.on(
        "console",
        lambda msg: csp_reports.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto(f"{live_server}/login?next={admin}")
    await log_in(page, email)
    await expect(page).to_have_url(f"{live_server}{admin}")
    await (
        page.get_by_role("navigation", name="Event admin sections")
        .get_by_role("link", name="Overview")
        .click()
    )
    await expect(page).to_have_url(f"{live_server}{admin}/dashboard")
    await expect(page.get_by_role("heading", name="Registrations", exact=True)).to_be_visible()

    # The charts are drawn: visible, sized, named for screen readers.
    over_time = page.get_by_role("img", name="Registrations over time")
    await expect(over_time).to_be_visible()
    box = await over_time.bounding_box()
    assert box is not None
    assert box["width"] > 400
    assert box["height"] > 150
    for name in (
        "From registration to an approved project",
        "Teams by size",
        "Judging progress per judge",
        "Judge leniency",
        "Published results: the lead of each place",
    ):
        await expect(page.get_by_role("img", name=name)).to_be_visible()
    # Our palette reached the SVG: the first series is drawn in the accent colour.
    fill = await page.locator("#chart-funnel .series.color-0 .rect").first.evaluate(
        "e => getComputedStyle(e).fill"
    )
    assert fill == "rgb(31, 79, 209)"
    assert await page.locator("#chart-funnel .tooltip-overlay, #chart-funnel style").count() == 0

    # The table alternative, reached and opened with the keyboard.
    summary = page.locator("#funnel summary")
    await summary.focus()
    await page.keyboard.press("Enter")
    funnel_table = page.get_by_role("table", name="From registration to an approved project")
    await expect(funnel_table).to_be_visible()
    await expect(funnel_table.get_by_role("row").nth(1)).to_contain_text("Registered")
    await assert_accessible(page)
    await shoot(page, "dashboard-1280", sections=True)

    # A chart's data as CSV.
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="CSV of Registrations by source").click()
    download = await download_info.value
    assert download.suggested_filename == f"{event_slug}-registrations-source.csv"
    body = Path(await download.path()).read_bytes()  # noqa: ASYNC240 (a small file)
    assert body.startswith(b"\xef\xbb\xbfSource,Registrations\r\nSelf-registered,")

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.reload()
    await expect(page.get_by_role("img", name="Registrations over time")).to_be_visible()
    await assert_accessible(page)
    await shoot(page, "dashboard-390", sections=True)
    if SHOTS.parent.exists():
        await page.screenshot(path=str(SHOTS / "dashboard-390-top.png"))

    # The organization's events side by side, linked from its page.
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto(f"{live_server}/orgs/{slug}")
    await page.get_by_role("link", name="Events dashboard").click()
    await expect(page).to_have_url(f"{live_server}/orgs/{slug}/dashboard")
    await expect(page.get_by_role("img", name="Events side by side")).to_be_visible()
    await expect(page.get_by_role("link", name="Spring Hack")).to_have_attribute(
        "href", f"{admin}/dashboard"
    )
    await assert_accessible(page)
    await shoot(page, "org-dashboard-1280")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.reload()
    await assert_accessible(page)
    await shoot(page, "org-dashboard-390")

    assert csp_reports == []
    assert page.problems == []
