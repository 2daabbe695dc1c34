"""In Chromium against the live server: the demo organization has room for new events; a full
plan says its limit, what is used and who can raise it; archive, publish, back to draft and
disband each ask on a page of their own, do nothing when cancelled or posted without the
confirmation, and act once confirmed. Each new page passes axe-core at 1280 and 390 px; its
screenshots go to /work/notes/shots/confirm/ when that folder exists (the developer's
machine)."""

from __future__ import annotations

import asyncio
import re
import secrets
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hackops.db import Database
from hackops.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from tests.conftest import make_settings
from tests.web.axe import assert_accessible
from tests.web.test_browser_event_flow import _organizer_creates_and_publishes, _register
from tests.web.test_browser_flows import flash_text, log_in, person, sign_up_and_confirm

pytestmark = pytest.mark.browser

SHOTS = Path("/work/notes/shots/confirm")


async def shoot(page: Any, name: str) -> None:
    """axe-core finds nothing at a desktop and a phone width; full-page screenshots of both
    (when the notes folder exists)."""
    keep = await asyncio.to_thread(SHOTS.parent.exists)
    if keep:
        await asyncio.to_thread(SHOTS.mkdir, parents=True, exist_ok=True)
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await assert_accessible(page)
        if keep:
            await page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 720})


async def unconfirmed_submit(page: Any) -> None:
    """Send the confirmation page's form without its confirmation field (as a stray post)."""
    await page.locator('form.confirm-actions input[name="confirm"]').evaluate("e => e.remove()")
    await page.locator("form.confirm-actions button[type=submit]").click()


async def test_the_demo_organizer_creates_an_event_and_it_asks_before_publishing_or_archiving(
    live_server: str, live_database_url: str, storage_dir: Path, chromium: Any
) -> None:
    from playwright.async_api import expect

    settings = make_settings(live_database_url, storage_dir, hackops_env="dev")
    database = Database.from_settings(settings)
    try:
        async with database.transaction() as session:
            await seed_demo(session, settings)
    finally:
        await database.dispose()

    page = await person(chromium)
    await page.goto(f"{live_server}/login")
    await page.get_by_label("Email address").fill(DEMO_EMAIL)
    await page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    await page.get_by_label("Password", exact=True).press("Enter")
    await expect(page).to_have_url(f"{live_server}/orgs")
    await page.get_by_role("link", name="Demo Hackathon Club").first.click()
    await page.get_by_role("link", name="New event").click()
    await expect(page.locator("#plan-usage")).to_contain_text("of 20 on the “demo” plan")
    await expect(page.locator("#plan-limit")).to_have_count(0)

    slug = f"try-{secrets.token_hex(3)}"
    await page.get_by_label("Name", exact=True).fill("My First Try")
    await page.get_by_label("Address").fill(slug)
    await page.get_by_role("button", name="Create event").click()
    admin = f"{live_server}/orgs/demo/events/{slug}/admin"
    await expect(page).to_have_url(admin)
    assert "My First Try is created as a draft" in await flash_text(page)

    # Publish: the page says what will happen; cancelling leaves a draft.
    await page.get_by_role("link", name="Publish", exact=True).click()
    await expect(page).to_have_url(f"{admin}/publish")
    await expect(page.locator("#confirm-heading")).to_have_text("Publish My First Try?")
    await expect(page.locator(".confirm-consequences")).to_contain_text("Anyone can find its page")
    await shoot(page, "publish")
    await page.get_by_role("link", name="Cancel, do nothing").click()
    await expect(page).to_have_url(admin)
    await expect(page.locator("#event-state")).to_have_text("draft")
    # A post without the confirmation field does nothing either.
    await page.get_by_role("link", name="Publish", exact=True).click()
    await unconfirmed_submit(page)
    await expect(page).to_have_url(f"{admin}/publish")
    assert "Nothing was done yet" in await flash_text(page)
    await expect(page.locator("#event-state")).to_have_text("draft")
    await page.get_by_role("button", name="Publish the event").click()
    await expect(page).to_have_url(admin)
    assert "The event is published." in await flash_text(page)
    await expect(page.locator("#event-state")).to_have_text("registration open")

    # Back to draft asks too.
    await page.get_by_role("link", name="Back to draft").click()
    await expect(page.locator("#confirm-heading")).to_have_text("Take My First Try back to draft?")
    await page.get_by_role("button", name="Back to draft").click()
    assert "The event is back to draft." in await flash_text(page)
    await expect(page.locator("#event-state")).to_have_text("draft")

    # Archive (the demo stays within its plan, however often this runs).
    await page.get_by_role("link", name="Archive", exact=True).click()
    await expect(page.locator("#confirm-heading")).to_have_text("Archive My First Try?")
    await page.get_by_role("button", name="Archive the event").click()
    assert "The event is archived" in await flash_text(page)
    await expect(page.locator("#event-state")).to_have_text("archived")

    await asyncio.sleep(0.2)
    assert page.problems == []


async def test_a_full_plan_says_what_to_do_and_archiving_asks_before_it_frees_a_place(
    live_server: str, live_database_url: str, chromium: Any
) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    email, slug = f"full-{run}@example.org", f"full-{run}"
    page = await person(chromium)
    await sign_up_and_confirm(page, live_server, "Fay Full", email)
    await log_in(page, email)
    await page.get_by_role("link", name="New organization").click()
    await page.get_by_label("Name").fill(f"Full Club {run}")
    await page.get_by_label("Address").fill(slug)
    await page.get_by_role("button", name="Create organization").click()
    await page.get_by_role("link", name="New event").click()
    await page.get_by_label("Name", exact=True).fill("Old Hack")
    await page.get_by_label("Address").fill("old-hack")
    await page.get_by_role("button", name="Create event").click()
    admin = f"{live_server}/orgs/{slug}/events/old-hack/admin"
    await expect(page).to_have_url(admin)
    # A platform administrator gave this organization a plan of one active event.
    with psycopg.connect(live_database_url) as conn:
        conn.execute("UPDATE organizations SET max_active_events = 1 WHERE slug = %s", (slug,))

    await page.goto(f"{live_server}/orgs/{slug}/new-event")
    await expect(page.locator("#plan-usage")).to_have_text(
        "Active events: 1 of 1 on the “free” plan (drafts and published events count until"
        " they are archived)."
    )
    await expect(page.locator("#plan-limit")).to_contain_text(
        "To raise the limit, ask a platform administrator; they run"
        f" hackops admin plan {slug} --max-active-events <number>."
    )
    await shoot(page, "new-event-plan-full")
    await page.get_by_label("Name", exact=True).fill("New Hack")
    await page.get_by_label("Address").fill("new-hack")
    await page.get_by_role("button", name="Create event").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "The event was not created: the plan's limit of active events is reached."
    )
    await expect(page.locator("#plan-limit")).to_contain_text("archive an event that is over")
    await shoot(page, "new-event-refused")

    # The way out the page names: archive the old event, which asks first.
    await page.get_by_role("link", name="the organization's events").click()
    await page.get_by_role("link", name="Manage Old Hack").click()
    await page.get_by_role("link", name="Archive", exact=True).click()
    await expect(page).to_have_url(f"{admin}/archive")
    consequences = page.locator(".confirm-consequences")
    await expect(consequences).to_contain_text("Archiving cannot be undone.")
    await expect(consequences).to_contain_text("plan's limit: now 1 of 1 active events are in use")
    await shoot(page, "archive")
    await unconfirmed_submit(page)
    assert "Nothing was done yet" in await flash_text(page)
    await page.get_by_role("link", name="Cancel, do nothing").click()
    await expect(page.locator("#event-state")).to_have_text("draft")
    await page.get_by_role("link", name="Archive", exact=True).click()
    await page.get_by_role("button", name="Archive the event").click()
    await expect(page.locator("#event-state")).to_have_text("archived")

    await page.goto(f"{live_server}/orgs/{slug}/new-event")
    await page.get_by_label("Name", exact=True).fill("New Hack")
    await page.get_by_label("Address").fill("new-hack")
    await page.get_by_role("button", name="Create event").click()
    await expect(page).to_have_url(f"{live_server}/orgs/{slug}/events/new-hack/admin")

    await asyncio.sleep(0.2)
    refused = "the server responded with a status of 409 (Conflict)"  # the refused creation
    assert [p for p in page.problems if refused not in p] == []


async def test_disbanding_a_team_asks_first(live_server: str, chromium: Any) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    organizer = await person(chromium)
    event_url = await _organizer_creates_and_publishes(organizer, live_server, run)
    captain_email = f"cap-{run}@example.org"
    captain = await person(chromium)
    await sign_up_and_confirm(captain, live_server, "Cara Captain", captain_email)
    await log_in(captain, captain_email)
    await captain.goto(event_url)
    await _register(captain, event_url, "A plant that waters itself")
    await captain.goto(f"{event_url}/teams")
    await captain.get_by_label("Name", exact=True).fill("Green Thumbs")
    await captain.get_by_role("button", name="Create team").click()
    assert "Team created." in await flash_text(captain)
    team_url = captain.url

    # The organizer, invited to the team, sees who invited them to what (and is told to
    # register first).
    organizer_email = f"orga-{run}@example.org"
    await captain.get_by_label("Email", exact=True).fill(organizer_email)
    await captain.get_by_role("button", name="Send invitation").click()
    assert "Invitation mailed" in await flash_text(captain)
    await organizer.goto(f"{live_server}/dev/mailbox?to={organizer_email}")
    mail = organizer.locator("article.mail", has_text="Join team Green Thumbs").first
    await mail.locator('a[href*="/team-invitations?token="]').click()
    await expect(organizer.locator("#invitation-summary")).to_have_text(
        "Cara Captain invites you to join the team Green Thumbs at Robot Weekend, organized by"
        f" Club {run}."
    )
    await expect(organizer.get_by_role("link", name="register on the event's page")).to_be_visible()
    await shoot(organizer, "team-invitation")

    await captain.get_by_role("link", name="Disband team").click()
    await expect(captain).to_have_url(f"{team_url}/disband")
    await expect(captain.locator("#confirm-heading")).to_have_text("Disband Green Thumbs?")
    await expect(captain.locator(".confirm-consequences")).to_contain_text(
        "A disbanded team cannot be brought back."
    )
    await shoot(captain, "disband")
    await captain.get_by_role("link", name="Cancel, do nothing").click()
    await expect(captain).to_have_url(team_url)
    await expect(captain.get_by_role("heading", level=1)).to_have_text("Green Thumbs")
    await captain.get_by_role("link", name="Disband team").click()
    await unconfirmed_submit(captain)
    await expect(captain).to_have_url(f"{team_url}/disband")
    assert "Nothing was done yet" in await flash_text(captain)
    await captain.goto(f"{event_url}/teams")
    await expect(captain.get_by_role("main")).to_contain_text("Green Thumbs")

    await captain.goto(f"{team_url}/disband")
    await captain.get_by_role("button", name="Disband the team").click()
    await expect(captain).to_have_url(re.compile(re.escape(f"{event_url}/teams") + "$"))
    assert "The team is disbanded." in await flash_text(captain)

    await asyncio.sleep(0.2)
    assert captain.problems == []
    assert organizer.problems == []
