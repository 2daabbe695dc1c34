"""A judge's flag, end to end in headless Chromium against the live server: the judge flags a
project from its scoring page with the keyboard alone (Tab to "Flag to organizers", a reason, a
note, Enter) and sees it confirmed; the organizer follows the mailed link to the flags page and
resolves it with a note; the judge reads the resolution on the scoring page.

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


async def tab_to(page: Any, selector: str, limit: int = 60) -> None:
    """Press Tab until the element is focused, as a keyboard user would."""
    target = page.locator(selector)
    for _ in range(limit):
        if await target.evaluate("element => element === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus in {limit} Tabs")


async def test_a_judge_flags_with_the_keyboard_and_reads_the_resolution(
    live_server: str,
    live_database_url: str,
    chromium: Any,
) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    judge_email, organizer_email = f"jade-{run}@example.org", f"olive-{run}@example.org"
    engine = create_async_engine(to_sqlalchemy_url(live_database_url))
    try:
        world = await judged_event(engine, judge_email)
        await add_organizer(engine, world.org_id, organizer_email)
    finally:
        await engine.dispose()
    (project, title), *_ = world.projects
    score_url = f"{live_server}{world.queue}/{project}"
    note = "The demo link answers 404 and the repository is empty."
    resolution = "The team fixed the demo link; please judge it again."

    # The judge opens her queue; Enter opens the first project, its first score focused.
    judge = await person(chromium)
    await judge.goto(f"{live_server}/login?next={world.queue}")
    await log_in(judge, judge_email)
    await expect(judge).to_have_url(f"{live_server}{world.queue}")
    await expect(judge.locator("#next-unscored")).to_be_focused()
    await judge.keyboard.press("Enter")
    await expect(judge).to_have_url(score_url)
    await expect(judge.get_by_label(re.compile(r"^Impact"))).to_be_focused()

    # Tab down to the flag form: a reason (typing selects it), the note, Enter on the button.
    await tab_to(judge, "#flag-reason")
    await judge.keyboard.type("Broken")
    await expect(judge.locator("#flag-reason")).to_have_value("broken")
    await judge.keyboard.press("Tab")
    await expect(judge.get_by_label(re.compile(r"^Note to the organizers"))).to_be_focused()
    await judge.keyboard.type(note)
    await judge.keyboard.press("Tab")
    await expect(judge.get_by_role("button", name="Flag to organizers")).to_be_focused()
    await judge.keyboard.press("Enter")

    await expect(judge).to_have_url(f"{score_url}#flag")
    await expect(judge.locator(".flashes")).to_contain_text(
        f"“{title}” is flagged: the organizers have been emailed."
    )
    mine = judge.locator("#my-flags li")
    await expect(mine).to_have_count(1)
    await expect(mine.locator(".flag-status")).to_have_text("open")
    await expect(mine).to_contain_text(note)
    await expect(judge.locator("#flag-open-note")).to_contain_text(
        "Your flag is with the organizers."
    )
    await expect(judge.get_by_role("button", name="Flag to organizers")).to_have_count(0)

    # The organizer follows the mailed link (the dev mailbox is her inbox), logs in, resolves.
    organizer = await person(chromium)
    await organizer.goto(f"{live_server}/dev/mailbox?to={organizer_email}")
    mail = organizer.locator("article.mail", has_text="A judge flagged").first
    await expect(mail).to_contain_text(note)
    await mail.locator('a[href$="/admin/judging/flags"]').click()
    await expect(organizer).to_have_url(re.compile(re.escape(f"{live_server}/login?next=")))
    await log_in(organizer, organizer_email)
    flags_url = world.queue.replace("/judging", "/admin/judging/flags")
    await expect(organizer).to_have_url(f"{live_server}{flags_url}")
    flag = organizer.locator("article.flag", has_text=title)
    await expect(flag).to_have_count(1)
    await expect(flag.locator(".flag-status")).to_have_text("open")
    await expect(flag.locator(".flag-judge")).to_have_text("Jade Judge")
    await expect(flag.locator(".flag-note")).to_have_text(note)
    await flag.get_by_label(re.compile(r"^Resolution")).fill(resolution)
    await flag.get_by_role("button", name=re.compile(r"^Resolve")).click()
    assert "The flag is resolved; the judge can read your note." in await flash_text(organizer)
    await expect(flag.locator(".flag-status")).to_have_text("resolved")
    await expect(flag.locator(".flag-resolution")).to_contain_text("Resolved by Olive Organizer")
    await expect(flag.locator(".flag-resolution")).to_contain_text(resolution)

    # The judge reads the resolution where she flagged, and may flag the project again.
    await judge.reload()
    await expect(mine.locator(".flag-status")).to_have_text("resolved")
    await expect(mine).to_contain_text(resolution)
    await expect(judge.get_by_role("button", name="Flag to organizers")).to_have_count(1)

    await asyncio.sleep(0.2)
    assert judge.problems == []
    assert organizer.problems == []
