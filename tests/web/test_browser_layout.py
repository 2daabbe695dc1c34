"""The header and the event admin navigation in headless Chromium against the live server: on a
phone (390 px) the admin tabs are one collapsed menu line that opens and whose links work; on a
desktop (1280 px) they are one line of tabs; the site header marks the section the page is in
(an event's pages are "Events", never "My organizations", for a participant)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hackops.accounts.deps import SESSION_COOKIE
from hackops.config import to_sqlalchemy_url
from hackops.db import make_sessionmaker
from tests.people import Cast, build_cast
from tests.web.test_browser_flows import person

pytestmark = pytest.mark.browser

SHOTS = Path("/work/notes/shots/words")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
async def live_db(live_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(to_sqlalchemy_url(live_database_url), pool_size=2)
    yield engine
    await engine.dispose()


async def live_cast(engine: AsyncEngine, **event_values: Any) -> Cast:
    """The tests' cast (someone in every role of a published event) in the live server's
    database, each with a session token."""
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        return await build_cast(session, **event_values)


async def signed_in(chromium: Any, base: str, token: str) -> Any:
    page = await person(chromium)
    await page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base}])
    return page


async def shot(page: Any, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_the_admin_tabs_are_a_menu_on_a_phone_and_one_line_on_a_desktop(
    live_server: str, live_db: AsyncEngine, chromium: Any
) -> None:
    from playwright.async_api import expect

    cast = await live_cast(live_db)
    admin = f"{live_server}/orgs/{cast.org.slug}/events/{cast.event.slug}/admin"
    page = await signed_in(chromium, live_server, cast.tokens["owner"])
    nav = page.get_by_role("navigation", name="Event admin sections")

    await page.set_viewport_size(PHONE)
    await page.goto(admin)
    menu = nav.locator("details")
    summary = menu.locator("summary")
    await expect(summary).to_be_visible()
    await expect(summary).to_have_text("Event admin sections: Settings")
    await expect(nav.get_by_role("link", name="Dates")).to_be_hidden()  # collapsed
    box = await nav.bounding_box()
    assert box is not None
    assert box["height"] < 64, box  # one line, not three
    await shot(page, "admin-nav-phone-closed")
    await summary.focus()
    await page.keyboard.press("Enter")  # opens with the keyboard
    await expect(nav.get_by_role("link", name="Dates")).to_be_visible()
    current = nav.get_by_role("link", name="Settings")
    await expect(current).to_have_attribute("aria-current", "page")
    await shot(page, "admin-nav-phone-open")
    await nav.get_by_role("link", name="Dates").click()
    await expect(page).to_have_url(f"{admin}/windows")
    await expect(summary).to_have_text("Event admin sections: Dates")
    await expect(nav.get_by_role("link", name="Dates")).to_be_hidden()  # closed again
    assert not page.problems, page.problems

    await page.set_viewport_size(DESKTOP)
    await page.goto(f"{admin}/registrations")
    await expect(summary).to_be_hidden()
    groups = nav.locator(".subnav-groups a")
    tops = {round((await group.bounding_box())["y"]) for group in await groups.all()}
    assert len(tops) == 1, tops  # one line of groups ...
    await expect(groups.filter(has_text="People")).to_have_attribute("aria-current", "true")
    tabs = nav.locator(".subnav-group-tabs a")  # ... and one of the current group's tabs
    await expect(tabs).to_have_text(["Registrations", "Check-in desk", "Waitlist and approvals"])
    tops = {round((await tab.bounding_box())["y"]) for tab in await tabs.all()}
    assert len(tops) == 1, tops
    await expect(nav.get_by_role("link", name="Registrations")).to_have_attribute(
        "aria-current", "page"
    )
    await nav.get_by_role("link", name="Setup").click()
    await expect(page).to_have_url(admin)
    await expect(nav.locator(".subnav-group-tabs a").first).to_have_text("Settings")
    await shot(page, "admin-nav-desktop")
    header = page.get_by_role("navigation", name="Account")
    await expect(header.get_by_role("link", name="My organizations")).to_have_attribute(
        "aria-current", "true"
    )


async def test_the_header_marks_the_section_the_page_is_in(
    live_server: str, live_db: AsyncEngine, chromium: Any
) -> None:
    from playwright.async_api import expect

    cast = await live_cast(live_db)
    event = f"{live_server}/orgs/{cast.org.slug}/events/{cast.event.slug}"
    page = await signed_in(chromium, live_server, cast.tokens["captain"])
    main = page.get_by_role("navigation", name="Main")
    account = page.get_by_role("navigation", name="Account")
    for address in (event, f"{event}/teams/{cast.team.id}", f"{event}/registration"):
        await page.goto(address)
        await expect(account.get_by_role("link", name="My organizations")).not_to_have_attribute(
            "aria-current", "true"
        )
        await expect(account.locator("[aria-current]")).to_have_count(0)
        await expect(main.get_by_role("link", name="Events")).to_have_attribute(
            "aria-current", "true"
        )
    await page.goto(f"{live_server}/me/events")
    await expect(account.get_by_role("link", name="My events")).to_have_attribute(
        "aria-current", "page"
    )
    await expect(main.locator("[aria-current]")).to_have_count(0)
    await page.goto(f"{live_server}/account/security")
    await expect(account.get_by_role("link", name="Account")).to_have_attribute(
        "aria-current", "true"
    )
    await page.set_viewport_size(PHONE)
    await page.goto(event)
    await shot(page, "event-page-phone")
    assert not page.problems, page.problems


async def test_the_viewers_own_time_is_added_where_their_zone_differs(
    live_server: str, live_db: AsyncEngine, chromium: Any
) -> None:
    """The event keeps Europe/Berlin; a viewer in New York sees their own time beside each of
    its times, a viewer in Berlin sees none added (the page says the same in words without
    script)."""
    from playwright.async_api import expect

    now = datetime.now(UTC)
    cast = await live_cast(
        live_db,
        timezone="Europe/Berlin",
        registration_opens_at=now - timedelta(days=1),
        registration_closes_at=now + timedelta(days=2),
        starts_at=datetime(2031, 6, 4, 12, 0, tzinfo=UTC),  # 14:00 in Berlin, 08:00 in New York
        submissions_close_at=datetime(2031, 6, 5, 12, 0, tzinfo=UTC),
    )
    event = f"{live_server}/orgs/{cast.org.slug}/events/{cast.event.slug}"
    for zone, added in (("America/New_York", True), ("Europe/Berlin", False)):
        context = await chromium.new_context(timezone_id=zone, locale="en-GB")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        await page.goto(event)
        starts = page.locator("time.event-time", has_text="Wed 4 Jun 2031, 14:00")
        await expect(starts).to_have_text("Wed 4 Jun 2031, 14:00 (Europe/Berlin, UTC+02:00)")
        local = page.locator("time.event-time + .local-time")
        if added:
            await expect(local.first).to_be_visible()
            assert await local.count() == await page.locator("time.event-time").count()
            beside = starts.locator("+ .local-time")
            await expect(beside).to_have_text(" · Wed 4 Jun, 08:00 GMT-4 (your time)")
            await page.set_viewport_size(PHONE)
            await shot(page, "event-times-new-york-phone")
            await page.set_viewport_size(DESKTOP)
            await shot(page, "event-times-new-york-desktop")
        else:
            await page.wait_for_load_state("load")
            assert await local.count() == 0
        assert not errors, errors
        await context.close()
