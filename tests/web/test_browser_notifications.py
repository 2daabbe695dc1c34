"""Live notifications in headless Chromium against the live server: a signed-in page's header
badge and a toast update without a reload when a notification is committed (the socket, under
the page's Content-Security-Policy); following an item's link in the centre marks it read; with
the socket refused, the page polls and the badge still follows."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hackops.accounts.deps import SESSION_COOKIE
from hackops.config import to_sqlalchemy_url
from hackops.db import make_sessionmaker
from hackops.models import User
from hackops.notifications.service import Message, deliver
from tests.people import person as someone
from tests.web.test_browser_flows import person

pytestmark = pytest.mark.browser


@pytest.fixture
async def live_db(live_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(to_sqlalchemy_url(live_database_url), pool_size=2)
    yield engine
    await engine.dispose()


async def tell(engine: AsyncEngine, user: User, title: str, link: str) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        await deliver(
            session,
            org_id=None,
            user_ids=[user.id],
            message=Message(category="announcements", title=title, body="Hall B, 14:00", link=link),
            dedupe_key=f"browser-{secrets.token_hex(6)}",
        )


async def until_read(engine: AsyncEngine, user: User, seconds: float = 15) -> None:
    """Wait until `user` has no unread notification (fails after `seconds`)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
            unread = await session.scalar(
                text("SELECT count(*) FROM notifications WHERE user_id = :u AND read_at IS NULL"),
                {"u": user.id},
            )
        if unread == 0:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{unread} still unread"
        await asyncio.sleep(0.1)


async def signed_in_page(chromium: Any, base: str, token: str) -> Any:
    page = await person(chromium)
    await page.context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base}])
    return page


async def test_the_badge_and_a_toast_arrive_without_a_reload(
    live_server: str, live_db: AsyncEngine, chromium: Any
) -> None:
    from playwright.async_api import expect

    async with make_sessionmaker(live_db)() as session, session.begin():
        ada, token = await someone(session, verified=True, name="Ada")
    page = await signed_in_page(chromium, live_server, token)
    await page.goto(f"{live_server}/account")
    badge = page.locator("#notifications-badge")
    await expect(badge).to_be_hidden()
    await expect(page.locator("html")).to_have_attribute("data-live-notifications", "open")
    await page.evaluate("window.stillTheSamePage = true")

    await tell(live_db, ada, "Room change: the pitches are in Hall B", "/me/events")
    await expect(badge).to_be_visible()
    await expect(page.locator("#notifications-count")).to_have_text("1")
    toast = page.locator(".live-toast")
    await expect(toast).to_contain_text("Room change: the pitches are in Hall B")
    await expect(toast).to_contain_text("Hall B, 14:00")
    assert await page.evaluate("window.stillTheSamePage") is True  # no reload
    assert await page.locator("#notifications-link").get_attribute("data-unread") == "1"

    # the centre: following the item's link marks it read
    await page.goto(f"{live_server}/notifications")
    await expect(page.locator(".notification-unread")).to_have_count(1)
    async with page.expect_request("**/api/v1/me/notifications/*/read") as marked:
        await page.get_by_role("link", name="Room change: the pitches are in Hall B").click()
    assert (await marked.value).method == "POST"
    await expect(page).to_have_url(f"{live_server}/me/events")
    # The request is `keepalive`: it may end after the next page has loaded, and then the old
    # page's response event never reaches Playwright. Its effect is what counts.
    await until_read(live_db, ada)
    await page.goto(f"{live_server}/notifications")
    await expect(page.locator(".notification-unread")).to_have_count(0)
    await expect(badge).to_be_hidden()
    assert page.problems == []


async def test_without_the_socket_the_badge_is_polled(
    live_server: str, live_db: AsyncEngine, chromium: Any
) -> None:
    from playwright.async_api import expect

    async with make_sessionmaker(live_db)() as session, session.begin():
        ada, token = await someone(session, verified=True, name="Ada")
    page = await signed_in_page(chromium, live_server, token)
    refused: list[str] = []

    async def refuse(socket: Any) -> None:
        refused.append(socket.url)
        await socket.close(code=1011)

    await page.route_web_socket("**/ws/notifications", refuse)
    await page.goto(f"{live_server}/account")
    await expect(page.locator("html")).to_have_attribute("data-live-notifications", "polling")
    await tell(live_db, ada, "Seen by polling", "/notifications")
    # a poll follows each failed attempt (1 s, 2 s, 4 s …), then every 30 s
    await expect(page.locator("#notifications-count")).to_have_text("1", timeout=15_000)
    # the socket is tried again (after 1 s, then 2 s …: a busy machine may poll first)
    deadline = asyncio.get_running_loop().time() + 15
    while len(refused) < 2:
        assert asyncio.get_running_loop().time() < deadline, "the socket was not tried again"
        await asyncio.sleep(0.1)
