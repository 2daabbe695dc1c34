"""The check-in desk, the waitlist tab and a pending registration in headless Chromium against
the live server: the organizer finds a person by name, checks them in from the list, undoes it
with a reason; approves a pending request and promotes someone from the waitlist by adding a
seat. Screenshots at 1280 and 390 px (the desk is used on phones) go to
/work/notes/shots/checkin/ when that folder exists; axe-core checks every page.

The event is written straight into the live server's database, as in test_browser_leaderboard.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hackops.accounts.credentials import PasswordHasher
from hackops.config import to_sqlalchemy_url
from hackops.db import make_sessionmaker
from tests.accounts.helpers import PASSWORD
from tests.factories import create_event, create_organization, create_registration, create_user
from tests.web.axe import assert_accessible
from tests.web.test_browser_flows import flash_text, log_in, person
from tests.web.test_browser_leaderboard import add_organizer

pytestmark = pytest.mark.browser

SHOTS = Path("/work/notes/shots/checkin")


@dataclass
class DeskEvent:
    org_id: uuid.UUID
    base: str  # /orgs/<org>/events/<event>
    pending_email: str


async def desk_event(engine: AsyncEngine, run: str) -> DeskEvent:
    """A published event with 3 seats taken of 3, one person waiting and one awaiting approval."""
    hasher = PasswordHasher(time_cost=1, memory_kib=1024, concurrency=1)
    async with make_sessionmaker(engine)() as session, session.begin():
        org = await create_organization(session, slug=f"desk-{run}", name=f"Desk Club {run}")
        event = await create_event(
            session,
            org,
            slug=f"hack-{run}",
            name="Harbour Hack",
            capacity=3,
            approval_required=True,
            published_at=datetime.now(UTC) - timedelta(days=1),
            registration_closes_at=datetime.now(UTC) + timedelta(days=3),
        )
        people = [
            ("Ada Lovelace", "registered"),
            ("Alan Turing", "registered"),
            ("Grace Hopper", "registered"),
            ("Walter Waiting", "waitlisted"),
        ]
        for name, status in people:
            user = await create_user(
                session, name=name, email=f"{name.split()[0].lower()}-{run}@example.org"
            )
            await create_registration(session, event, user, status=status)
        pending_email = f"pia-{run}@example.org"
        pia = await create_user(
            session,
            name="Pia Pending",
            email=pending_email,
            password_hash=await hasher.hash(PASSWORD),
            email_verified_at=datetime.now(UTC) - timedelta(days=1),
        )
        await create_registration(session, event, pia, status="pending")
        return DeskEvent(org.id, f"/orgs/{org.slug}/events/{event.slug}", pending_email)


async def shoot(page: Any, name: str) -> None:
    """The page at 1280 and 390 px wide, full length, when the notes folder is there."""
    if not await asyncio.to_thread(SHOTS.parent.exists):
        return
    await asyncio.to_thread(SHOTS.mkdir, exist_ok=True)
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})


async def test_desk_search_check_in_undo_then_approve_and_promote(
    live_server: str, live_database_url: str, chromium: Any
) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    organizer_email = f"olive-{run}@example.org"
    engine = create_async_engine(to_sqlalchemy_url(live_database_url))
    try:
        world = await desk_event(engine, run)
        await add_organizer(engine, world.org_id, organizer_email)
    finally:
        await engine.dispose()
    desk = f"{world.base}/admin/checkin"

    organizer = await person(chromium)
    await organizer.goto(f"{live_server}/login?next={desk}")
    await log_in(organizer, organizer_email)
    await expect(organizer).to_have_url(f"{live_server}{desk}")
    counts = organizer.locator("#desk-counts")
    await expect(counts).to_have_text("0 of 3 registered people checked in")
    # Desktop Chromium on Linux has no BarcodeDetector: the camera button stays hidden.
    await expect(organizer.locator("#camera-scan")).to_be_hidden()
    box = organizer.get_by_label("Check-in code, name or email")
    await expect(box).to_be_focused()

    # Search by name: the matches, one button per row.
    await box.fill("grace")
    await box.press("Enter")
    rows = organizer.locator("#desk-matches li")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Grace Hopper")
    await expect(box).to_have_value("grace")
    await assert_accessible(organizer)
    await shoot(organizer, "desk-search")

    await rows.first.get_by_role("button", name="Check in Grace Hopper").click()
    assert "Grace Hopper is checked in." in await flash_text(organizer)
    await expect(organizer).to_have_url(f"{live_server}{desk}?q=grace")
    await expect(counts).to_have_text("1 of 3 registered people checked in")
    await expect(rows.first).to_contain_text("checked in")
    await expect(organizer.locator("#recent-checkins")).to_contain_text("Grace Hopper")
    await shoot(organizer, "desk-checked-in")

    # Undo the mistaken check-in, with a reason.
    await rows.first.get_by_label("Why undo the check-in of Grace Hopper (optional)").fill(
        "the wrong Grace"
    )
    await rows.first.get_by_role("button", name="Undo check-in of Grace Hopper").click()
    assert (
        "The check-in of Grace Hopper is undone: registered, not checked in."
        in await flash_text(organizer)
    )
    await expect(counts).to_have_text("0 of 3 registered people checked in")
    await expect(rows.first.get_by_role("button", name="Check in Grace Hopper")).to_be_visible()
    await expect(organizer.locator("#recent-checkins")).to_have_count(0)

    # The waitlist tab: approve the pending request (full: it joins the waitlist), then let the
    # first person waiting in by adding a seat.
    await organizer.get_by_role("link", name="Waitlist and approvals").click()
    await expect(organizer.locator("#pending-list li")).to_have_count(1)
    await expect(organizer.locator("#waitlist li")).to_have_count(1)
    await assert_accessible(organizer)
    await shoot(organizer, "waitlist")
    await organizer.get_by_role("button", name="Approve Pia Pending").click()
    assert "Pia Pending is approved; the event is full, so they are on the waitlist." in (
        await flash_text(organizer)
    )
    queue = organizer.locator("#waitlist li")
    await expect(queue).to_have_count(2)
    await expect(queue.nth(0)).to_contain_text("1. Walter Waiting")
    await expect(queue.nth(1)).to_contain_text("2. Pia Pending")
    await queue.nth(1).get_by_role("button", name="Add a seat and promote Pia Pending").click()
    assert "Pia Pending has a seat and is told so by mail. The capacity is now 4." in (
        await flash_text(organizer)
    )
    await expect(queue).to_have_count(1)
    await expect(organizer.locator("#pending-list")).to_have_count(0)

    # The participant's page while pending is covered by the page tests; here: seated now.
    pia = await person(chromium)
    await pia.goto(f"{live_server}/login?next={world.base}/registration")
    await log_in(pia, world.pending_email)
    await expect(pia.locator("#registration-status")).to_have_text("registered")
    await expect(pia.locator("#checkin-code")).to_be_visible()

    await asyncio.sleep(0.2)
    assert organizer.problems == []
    assert pia.problems == []


async def test_a_pending_registration_shows_no_code(
    live_server: str, live_database_url: str, chromium: Any
) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    engine = create_async_engine(to_sqlalchemy_url(live_database_url))
    try:
        world = await desk_event(engine, run)
    finally:
        await engine.dispose()
    pia = await person(chromium)
    await pia.goto(f"{live_server}/login?next={world.base}/registration")
    await log_in(pia, world.pending_email)
    await expect(pia.locator("#registration-status")).to_have_text("awaiting approval")
    await expect(pia.get_by_role("heading", name="Awaiting approval")).to_be_visible()
    await expect(pia.locator("#checkin-code")).to_have_count(0)
    await expect(pia.locator("img.qr-code")).to_have_count(0)
    await assert_accessible(pia)
    await shoot(pia, "pending-registration")
    await asyncio.sleep(0.2)
    assert pia.problems == []
