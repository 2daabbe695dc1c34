"""In Chromium against the live server: an organizer finds the Exports tab, downloads the
teams as CSV (with its BOM, non-Latin names whole) and the anonymized evaluations as XLSX; then
makes their private calendar address on the account page, a calendar app reads it, and a new
address retires the old one. Screenshots at 1280 and 390 px go to the test's folder, or to
$SCREENSHOTS_DIR when set."""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from hackops.config import to_sqlalchemy_url
from hackops.models import (
    Event,
    Membership,
    Organization,
    Registration,
    Team,
    TeamMember,
    User,
)
from tests.web.axe import assert_accessible
from tests.web.test_browser_flows import log_in, person, sign_up_and_confirm

pytestmark = pytest.mark.browser
NOW = datetime.now(UTC)
WIDTHS = (1280, 390)


async def seed(url: str, organizer_email: str) -> tuple[str, str]:
    """An event with two teams of registered people, organized by the signed-up organizer (an
    organizer of its organization, so their calendar holds it)."""
    engine = create_async_engine(to_sqlalchemy_url(url))
    run = secrets.token_hex(3)
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        org = Organization(slug=f"exp-{run}", name=f"Export Club {run}")
        session.add(org)
        await session.flush()
        event = Event(
            org_id=org.id,
            slug="harbour",
            name="Hack the Harbour",
            starts_at=NOW + timedelta(days=3),
            submissions_close_at=NOW + timedelta(days=4),
            judging_closes_at=NOW + timedelta(days=5),
            published_at=NOW - timedelta(days=5),
        )
        session.add(event)
        await session.flush()
        organizer = await session.scalar(select(User).where(User.email == organizer_email))
        assert organizer is not None
        session.add(Membership(org_id=org.id, user_id=organizer.id, role="organizer"))
        for t, team_name in enumerate(("Łódź Lions", "=Formula Folk")):
            people = [
                User(email=f"p{t}{n}-{run}@example.com", name=f"Zoë {t}{n} 李雷") for n in range(3)
            ]
            session.add_all(people)
            await session.flush()
            for who in people:
                session.add(
                    Registration(
                        org_id=org.id,
                        event_id=event.id,
                        user_id=who.id,
                        status="registered",
                        checkin_code=secrets.token_hex(6).upper(),
                    )
                )
            await session.flush()
            team = Team(
                org_id=org.id,
                event_id=event.id,
                name=team_name,
                captain_id=people[0].id,
                join_code=secrets.token_hex(4).upper(),
                max_members=5,
            )
            session.add(team)
            await session.flush()
            for n, who in enumerate(people):
                session.add(
                    TeamMember(
                        org_id=org.id,
                        event_id=event.id,
                        team_id=team.id,
                        user_id=who.id,
                        role="captain" if n == 0 else "member",
                    )
                )
    await engine.dispose()
    return org.slug, event.slug


async def shots(page: Any, folder: Path, name: str, *, disable: tuple[str, ...] = ()) -> None:
    """Screenshots at each width, each page checked by axe-core at each width (`disable`: rules
    a part of the page that is not the exports' breaks, named where it is called)."""
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=folder / f"{name}-{width}.png", full_page=True)
        await assert_accessible(page, disable=disable)
    await page.set_viewport_size({"width": 1280, "height": 900})


async def test_an_organizer_exports_and_subscribes_to_their_calendar(
    live_server: str, live_database_url: str, chromium: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    organizer = await person(chromium)
    email = f"olga-{secrets.token_hex(3)}@example.com"
    await sign_up_and_confirm(organizer, live_server, "Olga Organizer", email)
    slug, event_slug = await seed(live_database_url, email)
    await log_in(organizer, email)
    admin = f"{live_server}/orgs/{slug}/events/{event_slug}/admin"

    await organizer.goto(admin)
    await organizer.get_by_role("link", name="Exports").click()
    await expect(organizer).to_have_url(f"{admin}/exports")
    await expect(organizer.get_by_role("heading", name="Exports", exact=True)).to_be_visible()
    await expect(organizer.locator("#export-results")).to_contain_text(
        "Available once the results are published."
    )
    await shots(organizer, folder, "exports-tab")

    async with organizer.expect_download() as waiting:
        await organizer.get_by_role("link", name="Download teams and members as CSV").click()
    download = await waiting.value
    assert download.suggested_filename == f"{event_slug}-teams.csv"
    saved = tmp_path / "teams.csv"
    await download.save_as(saved)
    content = saved.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    text_ = content.decode("utf-8-sig")
    assert "Łódź Lions" in text_
    assert "'=Formula Folk" in text_
    assert "Zoë 00 李雷" in text_

    async with organizer.expect_download() as waiting:
        await organizer.get_by_role(
            "link", name="Download evaluations with anonymous judges as XLSX"
        ).click()
    assert (await waiting.value).suggested_filename == f"{event_slug}-evaluations-anonymized.xlsx"

    # The registrations list links the same downloads.
    await organizer.goto(f"{admin}/registrations")
    await expect(
        organizer.get_by_role("link", name="Download registrations as JSON")
    ).to_have_attribute("href", re.compile(r"/admin/exports/registrations\.json$"))
    await shots(organizer, folder, "registrations-list")
    await organizer.goto(f"{admin}/judging")
    await expect(
        organizer.get_by_role("link", name="Download judges and assignments as CSV")
    ).to_be_visible()
    await shots(organizer, folder, "judging-admin")
    await organizer.goto(f"{admin}/submissions")
    await shots(organizer, folder, "submissions-review")
    await organizer.goto(admin.removesuffix("/admin") + "/teams")
    await expect(organizer.locator("#teams-downloads")).to_be_visible()
    await shots(organizer, folder, "teams")

    # The calendar: made on the account page, read by a calendar app, replaced.
    await organizer.goto(f"{live_server}/account")
    await organizer.get_by_role("link", name="Calendar").click()
    await expect(organizer).to_have_url(f"{live_server}/account/calendar")
    await expect(organizer.get_by_role("link", name="Hack the Harbour")).to_be_visible()
    await shots(organizer, folder, "calendar-empty")
    await organizer.get_by_role("button", name="Make my calendar address").click()
    address = await organizer.get_by_role("textbox", name="Address").input_value()
    assert re.fullmatch(r"https?://.+/calendar/[A-Za-z0-9_-]{43}\.ics", address)
    await shots(organizer, folder, "calendar-new-address")
    path = "/calendar/" + address.rsplit("/calendar/", 1)[1]
    app = await organizer.context.browser.new_context()  # a calendar app: no cookies
    feed = await app.request.get(live_server + path)
    assert feed.status == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    body = await feed.text()
    assert "SUMMARY:Hack the Harbour" in body
    assert "SUMMARY:Judging closes: Hack the Harbour" in body

    await organizer.goto(f"{live_server}/account/calendar")
    await expect(organizer.locator("#calendar-state")).to_contain_text(
        "a calendar app last fetched it"
    )
    await organizer.get_by_role("button", name="Make a new address").click()
    renewed = await organizer.get_by_role("textbox", name="Address").input_value()
    assert renewed != address
    assert (await app.request.get(live_server + path)).status == 404
    new_path = "/calendar/" + renewed.rsplit("/calendar/", 1)[1]
    assert (await app.request.get(live_server + new_path)).status == 200
    await shots(organizer, folder, "calendar-renewed")
    await app.close()
    assert organizer.problems == []
