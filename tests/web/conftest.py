"""One headless Chromium (Debian's package) for the run's browser tests: launching it takes
seconds, and each test browses in contexts of its own (cookies and storage apart), closed after
it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import chromium_path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def chromium_process() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def chromium(chromium_process: Any) -> AsyncIterator[Any]:
    """The run's browser; the contexts a test opens are closed after it."""
    before = set(chromium_process.contexts)
    yield chromium_process
    for context in chromium_process.contexts:
        if context not in before:
            await context.close()
