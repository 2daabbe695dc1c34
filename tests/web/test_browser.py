"""Real pages in headless Chromium (Debian's package) against a live server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def note_failed_request(page: Any, request: Any) -> None:
    """A request that got no response is a problem, except one the browser cancelled itself
    because the page navigated away first (`net::ERR_ABORTED`, e.g. the favicon mid-load)."""
    if "ERR_ABORTED" not in str(request.failure):
        page.problems.append(f"request failed: {request.url} {request.failure}")


@pytest.fixture
async def page(chromium: Any) -> Any:
    """A page in a fresh context of the run's browser, recording console errors and failed
    requests."""
    context = await chromium.new_context()
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


async def test_landing_page_loads_without_console_errors(live_server: str, page: Any) -> None:
    response = await page.goto(live_server + "/", wait_until="networkidle")
    assert response.status == 200
    assert await page.title() == "HackOps — hackathons from registration to results"
    assert await page.locator("h2#events-heading").inner_text() == "Public events"
    assert await page.locator("nav[aria-label=Main] a").count() == 2
    # The stylesheet applied (our own, served from /static).
    color = await page.evaluate(
        "getComputedStyle(document.querySelector('.site-header')).borderBottomStyle"
    )
    assert color == "solid"
    await asyncio.sleep(0.2)
    assert page.problems == []


async def test_skip_link_reaches_main_content_by_keyboard(live_server: str, page: Any) -> None:
    await page.goto(live_server + "/")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"


async def test_api_docs_render_offline(live_server: str, page: Any) -> None:
    await page.goto(live_server + "/docs", wait_until="networkidle")
    await page.wait_for_selector(".opblock", timeout=15000)
    assert await page.locator(".opblock-summary-path").first.is_visible()
    assert page.problems == []
