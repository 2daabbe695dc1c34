"""A judge scores her whole queue with the keyboard alone, in headless Chromium against the live
server: she logs in, the queue focuses its "next unscored" link, Enter opens the project with
the first score focused, and score, Tab, score, Enter submits and opens the next one, until the
queue shows every project scored.

The event (teams with submitted projects, criteria, the judge's role and assignments) is written
straight into the live server's database: building it through the pages is other tests' job.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hackops.accounts.credentials import PasswordHasher
from hackops.config import to_sqlalchemy_url
from hackops.db import make_sessionmaker
from hackops.models import (
    Criterion,
    Evaluation,
    EventRoleGrant,
    JudgeAssignment,
)
from hackops.tenancy import set_tenant
from tests.accounts.helpers import PASSWORD
from tests.factories import (
    create_event,
    create_organization,
    create_registration,
    create_submitted,
    create_team,
    create_user,
)
from tests.web.test_browser_flows import (
    flash_text,
    log_in,
    person,
)

pytestmark = pytest.mark.browser

PROJECTS = 3


@dataclass
class JudgedEvent:
    queue: str  # the judge's queue page
    org_id: uuid.UUID
    projects: list[tuple[uuid.UUID, str]]  # id and title, in the queue's order


async def judged_event(engine: AsyncEngine, judge_email: str) -> JudgedEvent:
    """A published event past its submission deadline with PROJECTS submitted projects, two
    criteria and a judge (who can log in) assigned to every project."""
    now = datetime.now(UTC)
    hasher = PasswordHasher(time_cost=1, memory_kib=1024, concurrency=1)
    async with make_sessionmaker(engine)() as session, session.begin():
        org = await create_organization(session)
        event = await create_event(
            session,
            org,
            published_at=now - timedelta(days=3),
            registration_opens_at=now - timedelta(days=5),
            starts_at=now - timedelta(days=2),
            submissions_close_at=now - timedelta(hours=1),
        )
        judge = await create_user(
            session,
            email=judge_email,
            name="Jade Judge",
            password_hash=await hasher.hash(PASSWORD),
            email_verified_at=now - timedelta(days=1),
        )
        await set_tenant(session, org.id)
        session.add(
            EventRoleGrant(org_id=org.id, event_id=event.id, user_id=judge.id, role="judge")
        )
        session.add_all(
            [
                Criterion(org_id=org.id, event_id=event.id, name="Impact", weight=2, position=0),
                Criterion(org_id=org.id, event_id=event.id, name="Execution", position=1),
            ]
        )
        projects = []
        for n in range(PROJECTS):
            captain = await create_user(session)
            await create_registration(session, event, captain)
            team = await create_team(session, event, captain)
            submission = await create_submitted(
                session, team, title=f"Keyboard project {n}", submitted_at=now - timedelta(hours=2)
            )
            session.add(
                JudgeAssignment(
                    org_id=org.id, event_id=event.id, judge_id=judge.id, submission_id=submission.id
                )
            )
            projects.append((submission.id, submission.title))
    queue = f"/orgs/{org.slug}/events/{event.slug}/judging"
    return JudgedEvent(queue, org.id, sorted(projects))  # the queue orders by id


async def test_a_judge_scores_her_queue_with_the_keyboard(
    live_server: str,
    live_database_url: str,
    chromium: Any,
) -> None:
    from playwright.async_api import expect

    email = f"jade-{secrets.token_hex(4)}@example.org"
    engine = create_async_engine(to_sqlalchemy_url(live_database_url))
    try:
        world = await judged_event(engine, email)
        queue, projects = world.queue, world.projects
        page = await person(chromium)
        await page.goto(f"{live_server}/login?next={queue}")
        await log_in(page, email)
        await expect(page).to_have_url(f"{live_server}{queue}")
        await expect(page.locator("#judging-done")).to_have_text("0")
        await expect(page.locator("#judging-total")).to_have_text(str(PROJECTS))

        # From here on, only keys: Enter follows the focused link to the first project.
        await expect(page.locator("#next-unscored")).to_be_focused()
        await page.keyboard.press("Enter")
        for n, (project, title) in enumerate(projects):
            await expect(page).to_have_url(f"{live_server}{queue}/{project}")
            await expect(page.get_by_role("heading", level=1)).to_have_text(title)
            await expect(page.get_by_label(re.compile(r"^Impact"))).to_be_focused()
            await page.keyboard.type(str(5 + n))
            await page.keyboard.press("Tab")
            await expect(page.get_by_label(re.compile(r"^Execution"))).to_be_focused()
            await page.keyboard.type("7.5")
            await page.keyboard.press("Enter")
            await expect(page.locator(".flashes")).to_contain_text("Scores submitted for")
            assert f"Scores submitted for “{title}”." in await flash_text(page)

        await expect(page).to_have_url(f"{live_server}{queue}")
        await expect(page.locator("#judging-done")).to_have_text(str(PROJECTS))
        await expect(page.locator("#judging-total")).to_have_text(str(PROJECTS))
        await expect(page.locator("#next-unscored")).to_have_count(0)

        async with make_sessionmaker(engine)() as session, session.begin():
            await set_tenant(session, world.org_id)
            rows = (
                await session.execute(
                    select(Evaluation.submission_id, Evaluation.status, Evaluation.scores).where(
                        Evaluation.submission_id.in_([p for p, _ in projects])
                    )
                )
            ).all()
        by_project = {sid: (status, sorted(scores.values())) for sid, status, scores in rows}
        assert by_project == {
            project: ("submitted", sorted([5.0 + n, 7.5]))
            for n, (project, _) in enumerate(projects)
        }
        await asyncio.sleep(0.2)
        assert page.problems == []
    finally:
        await engine.dispose()
