"""In Chromium against the live server: the organizer follows the judging checklist and publishes
with "Close judging and publish results"; the judge then opens a project they scored and cannot
change it ("scores are final", no form), the pairwise page says so too, and the organizer's
ranking is the one published, unchanged. Pages pass axe-core at desktop and phone widths."""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from hackops.config import to_sqlalchemy_url
from hackops.models import (
    Criterion,
    Evaluation,
    Event,
    JudgeAssignment,
    Organization,
    Submission,
    User,
)
from tests.web.axe import assert_accessible
from tests.web.test_browser_flows import log_in, person, sign_up_and_confirm
from tests.web.test_browser_results_flow import NOW, seed

pytestmark = pytest.mark.browser

#: Where screenshots of the pages go when set (a reviewer's run; tests never need them).
SHOTS = os.environ.get("HACKOPS_SHOTS_DIR")


async def shoot(page: Any, name: str, widths: tuple[int, ...] = (1280, 390)) -> None:
    """The page at 1280 and 390 px wide, each checked by axe-core (and saved when SHOTS)."""
    for width in widths:
        await page.set_viewport_size({"width": width, "height": 900})
        await assert_accessible(page)
        if SHOTS:
            await asyncio.to_thread(Path(SHOTS).mkdir, parents=True, exist_ok=True)
            await page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
            await page.screenshot(path=f"{SHOTS}/{name}-{width}-top.png")
    await page.set_viewport_size({"width": 1280, "height": 900})


async def hand_to_the_judge(url: str, slug: str, judge_email: str) -> str:
    """Two criteria, the judge assigned projects 0 and 1, their submitted scores of project 0;
    the id of project 0."""
    engine = create_async_engine(to_sqlalchemy_url(url))
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        event = await session.scalar(
            select(Event)
            .join(Organization, Organization.id == Event.org_id)
            .where(Organization.slug == slug, Event.slug == "finale")
        )
        assert event is not None
        judge = await session.scalar(select(User).where(User.email == judge_email))
        assert judge is not None
        for position, name in enumerate(("Impact", "Execution")):
            session.add(
                Criterion(org_id=event.org_id, event_id=event.id, name=name, position=position)
            )
        projects = list(
            await session.scalars(
                select(Submission)
                .where(Submission.event_id == event.id)
                .order_by(Submission.title)
                .limit(2)
            )
        )
        for project in projects:
            session.add(
                JudgeAssignment(
                    org_id=event.org_id,
                    event_id=event.id,
                    judge_id=judge.id,
                    submission_id=project.id,
                )
            )
        await session.flush()
        criteria = list(
            await session.scalars(select(Criterion).where(Criterion.event_id == event.id))
        )
        session.add(
            Evaluation(
                org_id=event.org_id,
                event_id=event.id,
                judge_id=judge.id,
                submission_id=projects[0].id,
                team_id=projects[0].team_id,
                scores={str(c.id): 8 for c in criteria},
                raw_score=80.0,
                status="submitted",
                submitted_at=NOW - timedelta(hours=1),
            )
        )
    await engine.dispose()
    return str(projects[0].id)


async def ranking_rows(page: Any) -> list[str]:
    return [
        " ".join(row.split()) for row in await page.locator("#ranking tbody tr").all_inner_texts()
    ]


async def test_after_publication_the_judge_cannot_change_a_score_and_the_ranking_stays(
    live_server: str, live_database_url: str, chromium: Any
) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    organizer_email, judge_email = f"org-{run}@example.org", f"judge-{run}@example.org"
    organizer, judge = await person(chromium), await person(chromium)
    await sign_up_and_confirm(organizer, live_server, "Olga Organizer", organizer_email)
    await sign_up_and_confirm(judge, live_server, "Jude Judge", judge_email)
    slug, event_slug = await seed(live_database_url, organizer_email, judge_email)
    project = await hand_to_the_judge(live_database_url, slug, judge_email)
    base = f"{live_server}/orgs/{slug}/events/{event_slug}"

    await log_in(organizer, organizer_email)
    await organizer.goto(f"{base}/admin/judging")
    checklist = organizer.locator("#judging-checklist")
    await expect(checklist).to_contain_text("Evaluations done · 1 of 2 done")
    await expect(
        checklist.get_by_role("link", name="the judges' page for pairwise")
    ).to_be_visible()
    await expect(organizer.locator("#publish-closes-judging")).to_contain_text(
        "Judging is still open until "
    )
    before = await ranking_rows(organizer)
    assert len(before) == 8
    await shoot(organizer, "judging-admin-open")
    # The other tabs on the way carry the checklist closed, its summary naming the next step.
    await organizer.goto(f"{base}/admin/roles")
    summary = organizer.locator("#judging-checklist summary")
    await expect(summary).to_contain_text("next: follow the judges' progress")
    await summary.click()
    await expect(organizer.locator("#publish-results")).to_be_visible()
    await shoot(organizer, "roles-checklist", (390,))
    await organizer.goto(f"{base}/admin/judging")
    await organizer.get_by_role("link", name="Close judging and publish results").click()
    await expect(organizer.locator("main")).to_contain_text(
        "publishing closes it now, and every score becomes final. 1 of 2 assigned evaluations"
        " are done."
    )
    await organizer.get_by_role("button", name="Publish the results").click()
    await expect(organizer.locator(".flashes")).to_contain_text("scores are final")

    await log_in(judge, judge_email)
    await judge.goto(f"{base}/judging/{project}")
    closed = judge.locator("#judging-closed")
    await expect(closed).to_contain_text("Results are published (")
    await expect(closed).to_contain_text("scores are final.")
    await expect(judge.get_by_label("Impact")).to_be_disabled()
    await expect(judge.get_by_role("button", name="Submit and next")).to_have_count(0)
    await shoot(judge, "score-after-publication")
    await judge.goto(f"{base}/judging")
    await expect(judge.locator("#judging-closed")).to_contain_text("scores are final.")
    await expect(judge.locator("#pairwise-link")).to_have_count(0)
    await judge.goto(f"{base}/judging/pairwise")
    await expect(judge.locator("#judging-closed")).to_contain_text("scores are final.")
    await shoot(judge, "pairwise-after-publication", (390,))

    await organizer.goto(f"{base}/admin/judging")
    await expect(organizer.locator("#results-frozen")).to_contain_text("scores are final")
    assert await ranking_rows(organizer) == before
    await expect(organizer.locator("#publish-done")).to_contain_text("Scores are final.")
    await shoot(organizer, "judging-admin-published")

    await asyncio.sleep(0.2)
    assert judge.problems == []
    assert organizer.problems == []
