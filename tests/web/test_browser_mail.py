"""The registration confirmation in the dev mailbox, in headless Chromium against the live server:
the HTML part renders in its sandboxed frame with the QR code showing (its own policy lets the
inline styles and the data: image in, nothing else), the text part carries the check-in code,
and the calendar entry downloads — with no console error (a policy violation would be one)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from hackops import jobs
from hackops.actor import SYSTEM
from hackops.config import to_sqlalchemy_url
from hackops.outbox.catalog import RegistrationCreated
from hackops.outbox.service import emit
from hackops.outbox.tasks import fan_out
from tests.conftest import make_settings
from tests.factories import create_registration
from tests.people import person as create_person
from tests.registrations.helpers import NOW, scene
from tests.web.test_browser_flows import person

pytestmark = pytest.mark.browser


async def confirmed(live_database_url: str, storage_dir: Path, live_server: str) -> tuple[str, str]:
    """A person registered for an event with a start; the confirmation fanned out (the live
    server runs no worker). Their address and check-in code."""
    engine = create_async_engine(to_sqlalchemy_url(live_database_url))
    settings = make_settings(live_database_url, storage_dir, base_url=live_server)
    previous = jobs.bind_database(None, settings)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            s = await scene(session, name="Robo Cup", starts_at=NOW, timezone="Europe/Berlin")
            email = f"ada-{secrets.token_hex(4)}@example.org"
            user, _ = await create_person(session, email, verified=True)
            registration = await create_registration(session, s.event, user=user)
            row = await emit(
                session,
                SYSTEM,
                RegistrationCreated(
                    registration_id=registration.id, user_id=user.id, status="registered"
                ),
                org_id=s.org.id,
                event_id=s.event.id,
            )
            await fan_out(session, row.id)
            await session.commit()
            return email, registration.checkin_code
    finally:
        jobs.bind_database(*previous)
        await engine.dispose()


async def test_the_confirmation_shows_its_qr_code_in_the_mailbox(
    live_server: str, live_database_url: str, storage_dir: Path, chromium: Any
) -> None:
    from playwright.async_api import expect

    email, code = await confirmed(live_database_url, storage_dir, live_server)
    page = await person(chromium)
    await page.goto(f"{live_server}/dev/mailbox?to={email}")
    mail = page.locator("article.mail", has_text="You are registered for Robo Cup")
    await expect(mail).to_have_count(1)
    await expect(mail.locator("pre.mail-body")).to_contain_text(f"Your check-in code: {code}")

    frame = page.frame_locator("iframe.mail-html")
    await expect(frame.get_by_role("heading", level=1)).to_have_text(
        "You are registered for Robo Cup"
    )
    qr = frame.get_by_alt_text(f"QR code of the check-in code {code}")
    await expect(qr).to_be_visible()
    # decode() fails for an image the frame's policy blocked
    assert await qr.evaluate("img => img.decode().then(() => img.naturalWidth)") == 232
    button = frame.get_by_role("link", name="My registration")
    await expect(button).to_have_attribute(
        "href",
        re.compile(rf"^{re.escape(live_server)}/orgs/[a-z0-9-]+/events/[a-z0-9-]+/registration$"),
    )
    calendar = mail.locator('a[download$=".ics"]')
    href = await calendar.get_attribute("href")
    assert href is not None
    download = await page.request.get(f"{live_server}{href}")
    assert download.status == 200
    assert (await download.body()).startswith(b"BEGIN:VCALENDAR\r\n")
    assert page.problems == []
