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
    assert await page.locator("#events h2").all_inner_texts() == [
        "Upcoming events",
        "Happening now",
        "Recent results",
    ]
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


@pytest.mark.parametrize("width", [1280, 390])
async def test_public_pages_pass_axe_core(live_server: str, page: Any, width: int) -> None:
    """axe-core (from the npm registry, `tests/web/axe.py`) finds no violation on the pages a
    visitor meets first, at desktop and phone widths, with the Content-Security-Policy on."""
    from tests.web.axe import assert_accessible

    await page.set_viewport_size({"width": width, "height": 900})
    for path in ("/", "/login", "/signup"):
        response = await page.goto(live_server + path)
        assert response.status == 200, path
        await assert_accessible(page)


async def test_axe_core_check_fails_on_an_inaccessible_page(page: Any) -> None:
    """The check can fail: an image without a text alternative and an unlabelled field."""
    from tests.web.axe import violations

    await page.set_content(
        '<!doctype html><html lang="en"><title>t</title><main><img src="x.png">'
        '<input type="text"></main></html>'
    )
    found = {violation["id"] for violation in await violations(page)}
    assert {"image-alt", "label"} <= found
