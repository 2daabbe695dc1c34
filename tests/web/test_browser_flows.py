"""The whole account and organization flow as real people in headless Chromium, against the live
server (dev mode: the dev mailbox stands in for their inboxes).

Each person browses in a context of their own and arrives from an address of their own (the
live server trusts X-Forwarded-For from 127.0.0.1, as behind a proxy): the API contract test
shares this server and spends 127.0.0.1's sign-up budget. Emails and slugs are unique per run.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

import pytest

from tests.accounts.helpers import PASSWORD
from tests.web.test_browser import note_failed_request

pytestmark = pytest.mark.browser


async def person(browser: Any) -> Any:
    """A page in a fresh browser context, recording console errors and failed requests."""
    address = f"198.51.100.{secrets.randbelow(250) + 1}"
    context = await browser.new_context(extra_http_headers={"X-Forwarded-For": address})
    page = await context.new_page()
    page.problems = []
    page.on(
        "console",
        lambda msg: (
            page.problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: note_failed_request(page, req))
    return page


async def flash_text(page: Any) -> str:
    return str(await page.locator(".flashes").inner_text())


async def sign_up_and_confirm(page: Any, base: str, name: str, email: str) -> None:
    """Sign up, open the confirmation mail in the dev mailbox, follow its link, confirm."""
    from playwright.async_api import expect

    await page.goto(f"{base}/")
    await page.get_by_role("link", name="Sign up").click()
    await expect(page).to_have_url(f"{base}/signup")
    await page.get_by_label("Your name").fill(name)
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign up").click()
    await expect(page).to_have_url(re.compile(re.escape(f"{base}/login")))
    assert f"Check your mail: we sent a message to {email}." in await flash_text(page)

    await page.goto(f"{base}/dev/mailbox?to={email}")
    mail = page.locator("article.mail", has_text="Confirm your email address").first
    await mail.locator('a[href*="/verify-email?token="]').click()
    await expect(page).to_have_url(re.compile(re.escape(f"{base}/verify-email?token=")))
    await page.get_by_role("button", name="Confirm my email address").click()
    await expect(page).to_have_url(f"{base}/login")
    assert "Your email address is confirmed." in await flash_text(page)


async def log_in(page: Any, email: str) -> None:
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("Password", exact=True).press("Enter")  # the keyboard submits


async def test_sign_up_create_an_organization_invite_and_join(
    live_server: str, chromium: Any
) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    owner_email, member_email = f"owner-{run}@example.org", f"member-{run}@example.org"
    slug, org_name = f"flow-{run}", f"Flow Club {run}"

    # The owner signs up, confirms, logs in and creates an organization.
    owner = await person(chromium)
    await sign_up_and_confirm(owner, live_server, "Olive Owner", owner_email)
    await log_in(owner, owner_email)
    await expect(owner).to_have_url(f"{live_server}/orgs")
    assert "Welcome back, Olive Owner." in await flash_text(owner)
    await owner.get_by_role("link", name="New organization").click()
    await owner.get_by_label("Name").fill(org_name)
    await owner.get_by_label("Address").fill(slug)
    await owner.get_by_role("button", name="Create organization").click()
    await expect(owner).to_have_url(f"{live_server}/orgs/{slug}")
    await expect(owner.get_by_role("heading", level=1)).to_have_text(org_name)

    # ... and invites a member by email.
    await owner.get_by_label("Email address").fill(member_email)
    await owner.get_by_label("Role", exact=True).select_option("member")
    await owner.get_by_role("button", name="Send invitation").click()
    assert f"Invitation sent to {member_email} as member." in await flash_text(owner)
    pending = owner.locator("#invitations")
    await expect(pending).to_contain_text(member_email)

    # The member, in a browser of their own, signs up and confirms ...
    member = await person(chromium)
    await sign_up_and_confirm(member, live_server, "Max Member", member_email)

    # ... follows the invitation link from their mailbox, logs in, comes back and accepts.
    await member.goto(f"{live_server}/dev/mailbox?to={member_email}")
    invitation = member.locator("article.mail", has_text=f"join {org_name}").first
    await invitation.locator('a[href*="/invitations/accept?"]').click()
    await expect(member.get_by_role("heading", level=1)).to_have_text(f"Join {org_name}")
    await member.get_by_role("main").get_by_role("link", name="Log in").click()
    await log_in(member, member_email)
    await expect(member).to_have_url(re.compile(re.escape(f"{live_server}/invitations/accept?")))
    await member.get_by_role("button", name="Accept the invitation").click()
    await expect(member).to_have_url(f"{live_server}/orgs/{slug}")
    assert f"Welcome to {org_name}! You joined as member." in await flash_text(member)
    await expect(member.get_by_role("table")).to_contain_text(owner_email)

    # Back as the owner: the member is listed, and the audit log tells the story.
    await owner.reload()
    members = owner.get_by_role("table")
    await expect(members).to_contain_text(member_email)
    await expect(
        members.get_by_role("row", name=re.compile(re.escape(member_email)))
    ).to_contain_text("member")
    await expect(owner.locator("#invitations")).to_contain_text("No pending invitations.")
    await owner.get_by_role("link", name="Audit log").click()
    await expect(owner).to_have_url(f"{live_server}/orgs/{slug}/audit")
    # to_have_text waits for the page it reads: reading the cells right after a click could
    # catch the document between two pages (CI once read [] there)
    actions = owner.locator("table tbody tr td:nth-child(3)")
    await expect(actions).to_have_text(
        ["invitation.accepted", "invitation.created", "organization.created"]
    )
    await owner.get_by_label("Action").fill("invitation.created")
    await owner.get_by_role("button", name="Filter").click()
    await expect(owner).to_have_url(re.compile(r"action=invitation\.created"))
    await expect(actions).to_have_text(["invitation.created"])

    # Log out from the header.
    await owner.get_by_role("button", name="Log out").click()
    await expect(owner).to_have_url(f"{live_server}/")
    await expect(owner.get_by_role("navigation", name="Account")).to_contain_text("Log in")

    await asyncio.sleep(0.2)
    assert owner.problems == []
    assert member.problems == []
