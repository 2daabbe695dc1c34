"""The organizers' live leaderboard in headless Chromium against the live server: the organizer
opens the page (the board as rendered by the server, then "Live" once the stream is open); a judge,
in a browser of her own, submits scores; the organizer's table shows the new rows without a reload.

The event is written straight into the live server's database, as in test_browser_judging_flow.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hackops.accounts.credentials import PasswordHasher
from hackops.config import to_sqlalchemy_url
from hackops.db import make_sessionmaker
from hackops.models import Evaluation, Membership, Submission
from hackops.tenancy import set_tenant
from tests.accounts.helpers import PASSWORD
from tests.factories import create_user
from tests.web.test_browser_flows import log_in, person
from tests.web.test_browser_judging_flow import JudgedEvent, judged_event

pytestmark = pytest.mark.browser


async def add_organizer(engine: AsyncEngine, org_id: uuid.UUID, email: str) -> None:
    """An organizer of the organization, who can log in with PASSWORD."""
    hasher = PasswordHasher(time_cost=1, memory_kib=1024, concurrency=1)
    async with make_sessionmaker(engine)() as session, session.begin():
        organizer = await create_user(
            session,
            email=email,
            name="Olive Organizer",
            password_hash=await hasher.hash(PASSWORD),
            email_verified_at=datetime.now(UTC) - timedelta(days=1),
        )
        await set_tenant(session, org_id)
        session.add(Membership(org_id=org_id, user_id=organizer.id, role="organizer"))


async def add_early_score(engine: AsyncEngine, world: JudgedEvent) -> None:
    """One submitted evaluation by another judge on the last project, so the board has a row
    when the page opens."""
    last, _ = world.projects[-1]
    async with make_sessionmaker(engine)() as session, session.begin():
        scorer = await create_user(session, name="Early Scorer")
        await set_tenant(session, world.org_id)
        submission = await session.scalar(select(Submission).where(Submission.id == last))
        assert submission is not None
        session.add(
            Evaluation(
                org_id=world.org_id,
                event_id=submission.event_id,
                judge_id=scorer.id,
                submission_id=submission.id,
                team_id=submission.team_id,
                scores={},
                raw_score=50.0,
                status="submitted",
            )
        )


async def test_the_leaderboard_updates_as_a_judge_scores(
    live_server: str,
    live_database_url: str,
    chromium: Any,
) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    judge_email, organizer_email = f"jude-{run}@example.org", f"olive-{run}@example.org"
    engine = create_async_engine(to_sqlalchemy_url(live_database_url))
    try:
        world = await judged_event(engine, judge_email)
        await add_organizer(engine, world.org_id, organizer_email)
        await add_early_score(engine, world)
    finally:
        await engine.dispose()
    (first, first_title), (second, second_title), (_, last_title) = world.projects
    board = world.queue.replace("/judging", "/admin/judging/leaderboard")

    organizer = await person(chromium)
    await organizer.goto(f"{live_server}/login?next={board}")
    await log_in(organizer, organizer_email)
    await expect(organizer).to_have_url(f"{live_server}{board}")
    rows = organizer.locator("#leaderboard tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(last_title)
    status = organizer.locator("#leaderboard-status")
    await expect(status).to_have_text("Live", timeout=5000)
    await expect(organizer.locator("#leaderboard-summary")).to_have_text("1 project ranked.")
    loaded_at = await organizer.locator("#leaderboard-updated").inner_text()

    # The judge scores the first project high, in a browser of her own.
    judge = await person(chromium)
    await judge.goto(f"{live_server}/login?next={world.queue}/{first}")
    await log_in(judge, judge_email)
    await expect(judge).to_have_url(f"{live_server}{world.queue}/{first}")
    await judge.get_by_label(re.compile(r"^Impact")).fill("9")
    await judge.get_by_label(re.compile(r"^Execution")).fill("9")
    await judge.get_by_role("button", name="Submit and next").click()
    await expect(judge.locator(".flashes")).to_contain_text(f"Scores submitted for “{first_title}”")

    # No reload: the stream brings the new board within a second or so.
    await expect(rows).to_have_count(2, timeout=5000)
    await expect(rows.nth(0)).to_contain_text(first_title)
    await expect(rows.nth(0).locator("td").nth(0)).to_have_text("1")
    await expect(rows.nth(0).locator("td").nth(3)).to_have_text("90.0")  # the raw mean
    await expect(rows.nth(0).locator("td").nth(4)).to_have_text("1")
    await expect(rows.nth(1)).to_contain_text(last_title)
    await expect(organizer.locator("#leaderboard-summary")).to_have_text("2 projects ranked.")
    await expect(organizer.locator("#leaderboard-updated time")).not_to_have_text(loaded_at)
    await expect(status).to_have_text("Live")

    # Another score, lower this time: the row lands at the bottom.
    await expect(judge).to_have_url(f"{live_server}{world.queue}/{second}")
    await judge.get_by_label(re.compile(r"^Impact")).fill("2")
    await judge.get_by_label(re.compile(r"^Execution")).fill("2")
    await judge.get_by_role("button", name="Submit and next").click()
    await expect(rows).to_have_count(3, timeout=5000)
    await expect(rows.nth(2)).to_contain_text(second_title)
    await expect(rows.nth(2).locator("td").nth(3)).to_have_text("20.0")
    await expect(rows.locator("td:first-child")).to_have_text(["1", "2", "3"])

    await asyncio.sleep(0.2)
    assert organizer.problems == []
    assert judge.problems == []
