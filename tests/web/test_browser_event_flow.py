"""An event from creation to check-in, as real people in headless Chromium against the live
server (dev mode: the dev mailbox stands in for their inboxes).

An organizer creates an organization and an event with a registration question, and publishes
it; two participants register (one signed in first, the other sent to log in by the event page
and brought back); one creates a team and invites the other by email, who accepts from the mail;
they add a task and complete it; the organizer checks one of them in at the desk with the code
shown on that participant's registration page. Emails and slugs are unique per run.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

import pytest

from tests.web.test_browser_flows import (
    flash_text,
    log_in,
    person,
    sign_up_and_confirm,
)

pytestmark = pytest.mark.browser

QUESTION = "What will you build?"


async def _organizer_creates_and_publishes(page: Any, base: str, run: str) -> str:
    """Sign up, create an organization and an event with one question, publish; the event URL."""
    from playwright.async_api import expect

    email, slug = f"orga-{run}@example.org", f"club-{run}"
    await sign_up_and_confirm(page, base, "Oona Organizer", email)
    await log_in(page, email)
    await expect(page).to_have_url(f"{base}/orgs")
    await page.get_by_role("link", name="New organization").click()
    await page.get_by_label("Name").fill(f"Club {run}")
    await page.get_by_label("Address").fill(slug)
    await page.get_by_role("button", name="Create organization").click()
    await expect(page).to_have_url(f"{base}/orgs/{slug}")

    await page.get_by_role("link", name="New event").click()
    await page.get_by_label("Name", exact=True).fill("Robot Weekend")
    await page.get_by_label("Address").fill("robots")
    await page.get_by_label("Time zone").fill("Europe/Berlin")
    await page.get_by_role("button", name="Create event").click()
    admin = f"{base}/orgs/{slug}/events/robots/admin"
    await expect(page).to_have_url(admin)
    assert "Robot Weekend is created as a draft" in await flash_text(page)

    await page.get_by_role("link", name="Questions", exact=True).click()
    await page.get_by_label("Question", exact=True).fill(QUESTION)
    await page.get_by_label("An answer is required").check()
    await page.get_by_role("button", name="Add question").click()
    assert f"Question “{QUESTION}” added." in await flash_text(page)

    await page.get_by_role("link", name="Publish", exact=True).click()
    await expect(page.locator("#confirm-heading")).to_have_text("Publish Robot Weekend?")
    await page.get_by_role("button", name="Publish the event").click()
    await expect(page).to_have_url(admin)
    assert "The event is published." in await flash_text(page)
    await expect(page.locator("#event-state")).to_have_text("registration open")
    return f"{base}/orgs/{slug}/events/robots"


async def _register(page: Any, event_url: str, answer: str) -> str:
    """Answer the question, register; the check-in code shown on the registration page."""
    from playwright.async_api import expect

    await page.get_by_label(QUESTION).fill(answer)
    await page.get_by_role("button", name="Register").click()
    await expect(page).to_have_url(f"{event_url}/registration")
    assert "You are registered for Robot Weekend." in await flash_text(page)
    await expect(page.locator("#registration-status")).to_have_text("registered")
    await expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    return str(await page.locator("#checkin-code").inner_text())


async def test_an_event_from_creation_to_check_in(live_server: str, chromium: Any) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    organizer = await person(chromium)
    event_url = await _organizer_creates_and_publishes(organizer, live_server, run)

    # Pia signs in first, then opens the event and registers.
    pia_email, max_email = f"pia-{run}@example.org", f"max-{run}@example.org"
    pia = await person(chromium)
    await sign_up_and_confirm(pia, live_server, "Pia Participant", pia_email)
    await log_in(pia, pia_email)
    await pia.goto(event_url)
    pia_code = await _register(pia, event_url, "A robot that sorts socks")

    # Max opens the event signed out: the page sends him to log in, then brings him back.
    max_ = await person(chromium)
    await sign_up_and_confirm(max_, live_server, "Max Maker", max_email)
    await max_.goto(event_url)
    await max_.get_by_role("link", name="Log in to register").click()
    await log_in(max_, max_email)
    await expect(max_).to_have_url(event_url)
    await _register(max_, event_url, "The sock robot's arm")

    # Pia creates a team and invites Max by email.
    await pia.goto(event_url)
    await pia.get_by_role("link", name="Teams and team finder").click()
    await pia.get_by_label("Name", exact=True).fill("Sock Sorters")
    await pia.get_by_role("button", name="Create team").click()
    assert "Team created." in await flash_text(pia)
    await pia.get_by_label("Email", exact=True).fill(max_email)
    await pia.get_by_role("button", name="Send invitation").click()
    assert "Invitation mailed; its link is valid for 7 days." in await flash_text(pia)
    team_url = pia.url

    # Max accepts from the mail in his (dev) mailbox.
    await max_.goto(f"{live_server}/dev/mailbox?to={max_email}")
    mail = max_.locator("article.mail", has_text="Join team Sock Sorters").first
    await mail.locator('a[href*="/team-invitations?token="]').click()
    # The page says which team, where, and who invited.
    await expect(max_.locator("#invitation-summary")).to_have_text(
        f"Pia Participant invites you to join the team Sock Sorters at Robot Weekend, organized"
        f" by Club {run}."
    )
    await max_.get_by_role("button", name="Accept").click()
    await expect(max_).to_have_url(team_url)
    assert "Welcome to the team." in await flash_text(max_)

    # Max adds a task on the team's board; Pia completes it.
    await max_.get_by_role("link", name="Task board").click()
    await expect(max_).to_have_url(f"{team_url}/tasks")
    await max_.get_by_label("Title").fill("Build the gripper")
    await max_.get_by_role("button", name="Add task").click()
    assert "Added “Build the gripper”." in await flash_text(max_)
    await pia.goto(f"{live_server}/me/events")
    await pia.get_by_role("link", name="Task board of Sock Sorters").click()
    # The task's title is in the button's name, after visually hidden punctuation.
    to_done = re.compile(r"^To Done\s*:\s*Build the gripper$")
    await pia.get_by_role("button", name=to_done).click()
    assert "“Build the gripper” is now in Done." in await flash_text(pia)
    done = pia.get_by_role("region", name=re.compile("^Done"))
    await expect(done).to_contain_text("Build the gripper")

    # The organizer checks Pia in at the desk, typing the code shown on her page.
    await organizer.goto(event_url)
    await organizer.get_by_role("link", name="Manage this event").click()
    admin_nav = organizer.get_by_role("navigation", name="Event admin sections")
    await admin_nav.get_by_role("link", name="People").click()
    await admin_nav.get_by_role("link", name="Check-in desk").click()
    code_field = organizer.get_by_label("Check-in code")
    await expect(code_field).to_be_focused()  # a scanner types straight into it
    await organizer.keyboard.type(pia_code)
    await organizer.keyboard.press("Enter")
    result = organizer.locator("#checkin-result")
    await expect(result).to_contain_text(f"Pia Participant ({pia_email}) is checked in at")
    await expect(organizer.locator("#recent-checkins")).to_contain_text("Pia Participant")
    await organizer.get_by_label("Check-in code").fill(pia_code)
    await organizer.get_by_label("Check-in code").press("Enter")
    await expect(result).to_contain_text("was already checked in at")

    await pia.goto(f"{event_url}/registration")
    await expect(pia.locator("#registration-status")).to_have_text("checked in")

    await asyncio.sleep(0.2)
    assert organizer.problems == []
    assert pia.problems == []
    assert max_.problems == []
