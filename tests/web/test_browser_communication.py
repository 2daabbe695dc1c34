"""Issue 13's acceptance, end to end in headless Chromium against the live server with a real
worker (in this process, on the live server's database; dev mode: the dev mailbox stands in for
the inboxes).

A participant (browser A) registers for an event with a start and creates a team; the worker
dispatches the confirmation, which the dev mailbox shows with the check-in code, the QR image
(it loads in the HTML part) and the calendar entry (its DTSTART is the event's start). The
organizer (browser B) checks her in at the desk and sends an announcement to the people checked
in: browser A, open since before the send, shows the badge and a toast without a reload, and
its notification centre lists the announcement, which she marks read. The organizer switches
on the "submissions closing" reminder: at the real time nothing is due (the deadline is
24 h 5 min away); a worker whose database clock is frozen at the 24 h mark fires it, and it
reaches her team (no version submitted) in browser A and in the mailbox, but not the team that
has submitted. The event and its people are made in the database (as the other browser tests
do); everything else goes through the pages. Screenshots of each step go to `tmp_path`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from hackops.accounts.deps import SESSION_COOKIE
from hackops.announcements import tasks as announcement_tasks
from hackops.config import Settings, to_sqlalchemy_url
from hackops.db import Database, make_sessionmaker
from tests.conftest import make_settings
from tests.core.test_jobs import running_worker, wait_until
from tests.factories import create_registration, create_submitted, create_team
from tests.people import person as someone
from tests.registrations.helpers import scene
from tests.web.test_browser_flows import flash_text, person

pytestmark = pytest.mark.browser

#: How long a condition that waits for the worker may take (it polls every 0.2 s).
WORKER_MS = 15_000
ANNOUNCEMENT = "Room change: the pitches move to Hall B"


@dataclass
class Stage:
    event_url: str
    event_id: str
    event_name: str
    starts_at: datetime
    deadline: datetime
    organizer_token: str
    pia_email: str
    pia_token: str
    sam_id: str  # registered, not checked in, in a team that has submitted


class Live:
    """The live server's database, read as the platform (past row-level security)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def value(self, sql: str, **params: Any) -> Any:
        async with self.engine.begin() as conn:
            await conn.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
            return (await conn.execute(text(sql), params)).scalar()

    async def undispatched(self, event_id: str) -> int:
        return int(
            await self.value(
                "SELECT count(*) FROM outbox_events WHERE event_id = :e AND dispatched_at IS NULL",
                e=event_id,
            )
        )

    async def drained(self, event_id: str) -> None:
        async def done() -> bool:
            return await self.undispatched(event_id) == 0

        await wait_until(done, within=WORKER_MS / 1000)


@pytest.fixture
async def live(live_database_url: str) -> AsyncIterator[Live]:
    engine = create_async_engine(to_sqlalchemy_url(live_database_url), pool_size=2)
    yield Live(engine)
    await engine.dispose()


async def _stage(live: Live, base: str) -> Stage:
    """A published event in Berlin starting in 2 hours whose submissions close in 24 h 5 min,
    its organizer, Pia (who registers through the pages) and Sam's team, which has submitted."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    starts_at, deadline = now + timedelta(hours=2), now + timedelta(hours=24, minutes=5)
    run = secrets.token_hex(3)
    async with AsyncSession(live.engine, expire_on_commit=False) as session:
        s = await scene(
            session,
            name=f"Robot Weekend {run}",
            timezone="Europe/Berlin",
            starts_at=starts_at,
            submissions_close_at=deadline,
        )
        pia_email = f"pia-{run}@example.org"
        _, pia_token = await someone(session, pia_email, verified=True, name="Pia Participant")
        sam, _ = await someone(session, verified=True, name="Sam Submitted")
        await create_registration(session, s.event, sam)
        await create_submitted(session, await create_team(session, s.event, sam))
        await session.commit()
    return Stage(
        event_url=f"{base}/orgs/{s.org.slug}/events/{s.event.slug}",
        event_id=str(s.event.id),
        event_name=s.event.name,
        starts_at=starts_at,
        deadline=deadline,
        organizer_token=s.organizer_token,
        pia_email=pia_email,
        pia_token=pia_token,
        sam_id=str(sam.id),
    )


async def signed_in(chromium: Any, base: str, token: str) -> Any:
    page = await person(chromium)
    await page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base}])
    return page


def frozen_database(settings: Settings, moment: datetime) -> Database:
    """The app's database whose clock (`app_now()`) reads `moment` on every connection: what
    `tests.helpers.frozen_time` does for one transaction, for a whole worker."""
    engine = create_async_engine(
        settings.sqlalchemy_url,
        pool_size=2,
        connect_args={"options": f"-c hackops.frozen_now={moment.isoformat()}"},
    )
    return Database(engine=engine, sessionmaker=make_sessionmaker(engine))


@asynccontextmanager
async def worker(settings: Settings, database: Database) -> AsyncIterator[None]:
    try:
        async with running_worker(settings, database):
            yield
    finally:
        await database.dispose()


async def run_reminders_now(live: Live) -> None:
    """The minute's `announcements.remind` job, deferred at once rather than at the next cron
    tick; returns when the worker has run it."""
    job_id = await announcement_tasks.remind.defer_async(timestamp=int(time.time()))

    async def finished() -> bool:
        status = await live.value(
            "SELECT status::text FROM procrastinate_jobs WHERE id = :id", id=job_id
        )
        assert status != "failed", "the reminder job failed"
        return bool(status == "succeeded")

    await wait_until(finished, within=WORKER_MS / 1000)


async def test_registration_mail_live_announcement_and_a_reminder_at_a_frozen_time(
    live_server: str,
    live_database_url: str,
    storage_dir: Path,
    live: Live,
    chromium: Any,
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    async def shot(page: Any, name: str) -> None:
        await page.screenshot(path=tmp_path / f"{name}.png", full_page=True)

    stage = await _stage(live, live_server)
    settings = make_settings(
        live_database_url, storage_dir, base_url=live_server, hackops_env="dev"
    )
    pia = await signed_in(chromium, live_server, stage.pia_token)
    organizer = await signed_in(chromium, live_server, stage.organizer_token)
    badge, count = pia.locator("#notifications-badge"), pia.locator("#notifications-count")

    async with worker(settings, Database.from_settings(settings)):
        # 1. Pia registers, creates her team, and finds the confirmation in her mailbox.
        await pia.goto(stage.event_url)
        await pia.get_by_role("button", name="Register").click()
        await expect(pia).to_have_url(f"{stage.event_url}/registration")
        assert f"You are registered for {stage.event_name}." in await flash_text(pia)
        code = str(await pia.locator("#checkin-code").inner_text())
        await shot(pia, "01-registered")
        await pia.goto(stage.event_url)
        await pia.get_by_role("link", name="Teams and team finder").click()
        await pia.get_by_label("Name", exact=True).fill("Sock Sorters")
        await pia.get_by_role("button", name="Create team").click()
        assert "Team created." in await flash_text(pia)

        subject = f"You are registered for {stage.event_name}"

        async def confirmation_queued() -> bool:
            found = await live.value(
                "SELECT count(*) FROM outbound_emails WHERE to_address = :to"
                " AND strpos(subject, :s) > 0",
                to=stage.pia_email,
                s=subject,
            )
            return bool(found)

        await wait_until(confirmation_queued, within=WORKER_MS / 1000)
        await pia.goto(f"{live_server}/dev/mailbox?to={stage.pia_email}")
        mail = pia.locator("article.mail", has_text=subject)
        await expect(mail).to_have_count(1)
        await expect(mail.locator("pre.mail-body")).to_contain_text(f"check-in code: {code}")
        qr = pia.frame_locator("iframe.mail-html").get_by_alt_text(
            f"QR code of the check-in code {code}"
        )
        await expect(qr).to_be_visible()
        # decode() fails for an image that did not load
        assert await qr.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
        files = mail.locator(".mail-attachments")
        await expect(files.get_by_role("link", name="checkin-qr.png")).to_be_visible()
        calendar_link = files.locator('a[download$=".ics"]')
        await expect(calendar_link).to_have_count(1)
        async with pia.expect_download() as downloading:
            await calendar_link.click()
        saved = tmp_path / (await downloading.value).suggested_filename
        await (await downloading.value).save_as(saved)
        [entry] = Calendar.from_ical(saved.read_bytes()).walk("VEVENT")
        assert entry.decoded("dtstart") == stage.starts_at
        assert str(entry.get("summary")) == stage.event_name
        await mail.locator("iframe.mail-html").screenshot(path=tmp_path / "02-html-part.png")
        await shot(pia, "02-confirmation-in-the-mailbox")

        # 2. The organizer checks Pia in at the desk with her code.
        await organizer.goto(stage.event_url)
        await organizer.get_by_role("link", name="Manage this event").click()
        admin_nav = organizer.get_by_role("navigation", name="Event admin sections")
        await admin_nav.get_by_role("link", name="People").click()
        await admin_nav.get_by_role("link", name="Check-in desk").click()
        await organizer.get_by_label("Check-in code").fill(code)
        await organizer.get_by_label("Check-in code").press("Enter")
        await expect(organizer.locator("#checkin-result")).to_contain_text(
            f"Pia Participant ({stage.pia_email}) is checked in at"
        )
        await shot(organizer, "03-checked-in-at-the-desk")

        # Pia reads what she has so far, then leaves a page open.
        await live.drained(stage.event_id)
        await pia.locator("#notifications-link").click()
        await expect(pia.locator(".notification-unread").first).to_be_visible()
        await pia.get_by_role("button", name="Mark all as read").click()
        await expect(badge).to_be_hidden()
        await expect(pia.locator(".notification-unread")).to_have_count(0)
        await pia.goto(f"{stage.event_url}/registration")
        await expect(pia.locator("#registration-status")).to_have_text("checked in")
        await expect(pia.locator("html")).to_have_attribute("data-live-notifications", "open")
        await pia.evaluate("window.stillTheSamePage = true")

        # ... while the organizer announces a room change to the people checked in.
        await organizer.get_by_role("link", name="Announcements", exact=True).click()
        await organizer.get_by_label("Title").fill(ANNOUNCEMENT)
        await organizer.get_by_label("Message").fill("The pitches are in **Hall B** at 14:00.")
        await organizer.get_by_label("Who hears it").select_option("checked_in")
        await organizer.get_by_role("button", name="Send", exact=True).click()
        assert f"“{ANNOUNCEMENT}” is on its way." in await flash_text(organizer)
        # The figures fill in once the worker has sent it, without a reload (static/refresh.js).
        await organizer.evaluate("window.stillTheSamePage = true")
        figures = organizer.locator("#figures")
        await expect(figures).not_to_contain_text("sending…", timeout=WORKER_MS)
        await expect(figures.locator("dd").first).to_have_text("1")
        assert await organizer.evaluate("window.stillTheSamePage") is True
        await shot(organizer, "04-announcement-sent")

        await expect(count).to_have_text("1", timeout=WORKER_MS)
        await expect(badge).to_be_visible()
        toast = pia.locator(".live-toast", has_text=ANNOUNCEMENT)
        await expect(toast).to_be_visible()
        await expect(toast).to_contain_text("Hall B")
        await shot(pia, "05-live-badge-and-toast")
        assert await pia.evaluate("window.stillTheSamePage") is True  # no reload

        await pia.locator("#notifications-link").click()
        item = pia.locator(".notification-unread", has_text=ANNOUNCEMENT)
        await expect(item).to_have_count(1)
        await shot(pia, "06-centre-with-the-announcement")
        await item.get_by_role("button", name="Mark as read").click()
        await expect(pia.locator(".notification-unread")).to_have_count(0)
        await expect(pia.locator(".notification", has_text=ANNOUNCEMENT)).to_have_count(1)
        await expect(badge).to_be_hidden()
        await live.drained(stage.event_id)
        assert (
            await live.value(  # Sam registered, but was not checked in
                "SELECT count(*) FROM notifications WHERE user_id = :u AND title = :t",
                u=stage.sam_id,
                t=ANNOUNCEMENT,
            )
            == 0
        )

        # 3. The organizer switches on the "submissions closing" reminder ...
        await organizer.get_by_role("link", name="Announcements", exact=True).click()
        await organizer.get_by_label("Submissions closing").check()
        await organizer.get_by_role("button", name="Save reminders").click()
        assert "Reminders saved." in await flash_text(organizer)
        await expect(organizer.get_by_label("Submissions closing")).to_be_checked()
        await shot(organizer, "07-reminder-switched-on")
        # ... which is not due at the real time: the deadline is 24 h 5 min away.
        await run_reminders_now(live)
        assert (
            await live.value(
                "SELECT count(*) FROM outbox_events WHERE event_id = :e AND type = 'reminder.due'",
                e=stage.event_id,
            )
            == 0
        )

    # A worker whose database clock is frozen at the 24 h mark fires it.
    await pia.goto(f"{stage.event_url}/teams")
    await expect(pia.locator("html")).to_have_attribute("data-live-notifications", "open")
    reminder = f"Submissions for {stage.event_name} close in about 24 hours"
    frozen = frozen_database(settings, stage.deadline - timedelta(hours=24))
    async with worker(settings, frozen):
        await run_reminders_now(live)
        await expect(count).to_have_text("1", timeout=WORKER_MS)
        await expect(pia.locator(".live-toast", has_text=reminder)).to_be_visible()
        await shot(pia, "08-reminder-arrives")
        await live.drained(stage.event_id)

    await pia.locator("#notifications-link").click()
    await expect(pia.locator(".notification-unread", has_text=reminder)).to_have_count(1)
    await shot(pia, "09-centre-with-the-reminder")
    await pia.goto(f"{live_server}/dev/mailbox?to={stage.pia_email}")
    await expect(pia.locator("article.mail", has_text=reminder)).to_have_count(1)
    await shot(pia, "10-reminder-in-the-mailbox")
    assert (
        await live.value(  # Sam's team has submitted a version
            "SELECT count(*) FROM notifications WHERE user_id = :u AND category = 'reminders'",
            u=stage.sam_id,
        )
        == 0
    )
    assert pia.problems == []
    assert organizer.problems == []
