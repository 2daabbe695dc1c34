"""Inviting a judge who has no account, end to end in headless Chromium against the live server:
the organizer gives the judge role to an unknown address on the event's roles tab; the invited
person, in a fresh browser, opens the link from the dev mailbox (their inbox), confirms with
their name and lands signed in on their judging queue; the organizer then sees them as judge.

The event is written straight into the live server's database, as in test_browser_judging_flow.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from hackops.config import to_sqlalchemy_url
from tests.web.test_browser_flows import flash_text, log_in, person
from tests.web.test_browser_judging_flow import judged_event
from tests.web.test_browser_leaderboard import add_organizer

pytestmark = pytest.mark.browser


async def test_an_invited_judge_confirms_and_lands_signed_in_on_the_queue(
    live_server: str,
    live_database_url: str,
    chromium: Any,
) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    organizer_email, invited = f"olive-{run}@example.org", f"newjudge-{run}@example.org"
    engine = create_async_engine(to_sqlalchemy_url(live_database_url))
    try:
        # Another judge's event: only its organizer matters here.
        world = await judged_event(engine, f"jade-{run}@example.org")
        await add_organizer(engine, world.org_id, organizer_email)
    finally:
        await engine.dispose()
    roles = world.queue.replace("/judging", "/admin/roles")

    # The organizer gives the judge role to an address nobody uses yet.
    organizer = await person(chromium)
    await organizer.goto(f"{live_server}/login?next={roles}")
    await log_in(organizer, organizer_email)
    await expect(organizer).to_have_url(f"{live_server}{roles}")
    event_name = await organizer.get_by_role("heading", level=1).inner_text()
    grant = organizer.locator("form", has=organizer.locator("#grant-email"))
    await grant.get_by_label("Email address", exact=True).fill(invited)
    await grant.get_by_label("Role", exact=True).select_option("judge")
    await grant.get_by_role("button", name="Give the role").click()
    await expect(organizer).to_have_url(f"{live_server}{roles}")
    assert f"We mailed an invitation to {invited}. They become judge" in await flash_text(organizer)
    await expect(organizer.locator("#role-invitations")).to_contain_text(invited)

    # The invited person, in a browser of their own, opens the link from their inbox.
    newcomer = await person(chromium)
    await newcomer.goto(f"{live_server}/dev/mailbox?to={invited}")
    mail = newcomer.locator(
        "article.mail", has_text=f"You are invited to be a judge of {event_name}"
    )
    await expect(mail).to_have_count(1)
    await mail.locator('a[href*="/events/invitations/accept?"]').click()
    await expect(newcomer).to_have_url(
        re.compile(re.escape(f"{live_server}/events/invitations/accept?"))
    )
    await expect(newcomer.get_by_role("heading", level=1)).to_have_text(
        f"Join {event_name} as judge"
    )
    await expect(newcomer.get_by_role("main")).to_contain_text(invited)
    # Opening the link signed nobody in: confirming does.
    account = newcomer.get_by_role("navigation", name="Account")
    await expect(account).to_contain_text("Log in")
    await newcomer.get_by_label(re.compile(r"^Your name")).fill("Nia Newjudge")
    await newcomer.get_by_role("button", name="Create my account and join").click()

    await expect(newcomer).to_have_url(f"{live_server}{world.queue}")
    assert f"Welcome to HackOps! You are now judge of {event_name}." in await flash_text(newcomer)
    await expect(account.get_by_role("button", name="Log out")).to_be_visible()
    await expect(account).not_to_contain_text("Log in")
    await expect(newcomer.get_by_role("heading", level=1)).to_have_text("My judging queue")
    await newcomer.reload()  # the session cookie stays: still signed in on the queue
    await expect(newcomer).to_have_url(f"{live_server}{world.queue}")
    await expect(account.get_by_role("button", name="Log out")).to_be_visible()

    # The organizer sees the new judge; the invitation is no longer pending.
    await organizer.reload()
    grants = organizer.get_by_role("table", name=re.compile(r"^People with a role"))
    row = grants.get_by_role("row", name=re.compile(re.escape(invited)))
    await expect(row).to_contain_text("Nia Newjudge")
    await expect(row).to_contain_text("judge")
    await expect(organizer.locator("#role-invitations")).to_have_count(0)
    await expect(organizer.get_by_role("region", name="Pending invitations")).to_contain_text(
        "No pending invitations."
    )

    await asyncio.sleep(0.2)
    assert organizer.problems == []
    assert newcomer.problems == []
