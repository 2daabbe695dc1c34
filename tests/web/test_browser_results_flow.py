"""In Chromium against the live server: a judge makes five pairwise comparisons with one undo;
the organizer publishes the results from the admin page; a visitor sees the winners."""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from hackops.config import to_sqlalchemy_url
from hackops.models import (
    Award,
    Evaluation,
    Event,
    EventRoleGrant,
    Membership,
    Organization,
    Registration,
    Team,
    TeamMember,
    User,
)
from tests.factories import create_submitted
from tests.web.test_browser_flows import log_in, person, sign_up_and_confirm

pytestmark = pytest.mark.browser
NOW = datetime.now(UTC)


async def seed(url: str, organizer_email: str, judge_email: str) -> tuple[str, str]:
    """A judged event (8 submitted projects, scores by two seeded judges, an award) in a new org;
    the signed-up organizer and judge get their roles."""
    engine = create_async_engine(to_sqlalchemy_url(url))
    run = secrets.token_hex(3)
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        org = Organization(slug=f"res-{run}", name=f"Results Club {run}")
        session.add(org)
        await session.flush()
        event = Event(
            org_id=org.id,
            slug="finale",
            name="Finale",
            registration_opens_at=NOW - timedelta(days=5),
            starts_at=NOW - timedelta(days=3),
            submissions_close_at=NOW - timedelta(days=1),
            judging_closes_at=NOW + timedelta(days=2),
            published_at=NOW - timedelta(days=5),
        )
        session.add(event)
        await session.flush()
        session.add(Award(org_id=org.id, event_id=event.id, name="Golden Keyboard"))
        organizer = await session.scalar(select(User).where(User.email == organizer_email))
        judge = await session.scalar(select(User).where(User.email == judge_email))
        assert organizer is not None
        assert judge is not None
        session.add(Membership(org_id=org.id, user_id=organizer.id, role="organizer"))
        session.add(
            EventRoleGrant(org_id=org.id, event_id=event.id, user_id=judge.id, role="judge")
        )
        scorers = [User(email=f"scorer{i}-{run}@example.com", name=f"Scorer {i}") for i in range(2)]
        session.add_all(scorers)
        await session.flush()
        for n in range(8):
            maker = User(email=f"maker{n}-{run}@example.com", name=f"Maker {n}")
            session.add(maker)
            await session.flush()
            session.add(
                Registration(
                    org_id=org.id,
                    event_id=event.id,
                    user_id=maker.id,
                    status="registered",
                    checkin_code=secrets.token_hex(6).upper(),
                )
            )
            await session.flush()
            team = Team(
                org_id=org.id,
                event_id=event.id,
                name=f"Team {n}",
                captain_id=maker.id,
                join_code=secrets.token_hex(5).upper(),
                max_members=4,
            )
            session.add(team)
            await session.flush()
            session.add(
                TeamMember(
                    org_id=org.id,
                    event_id=event.id,
                    team_id=team.id,
                    user_id=maker.id,
                    role="captain",
                )
            )
            submission = await create_submitted(
                session, team, title=f"Project {n}", submitted_at=NOW - timedelta(days=1, hours=n)
            )
            for scorer in scorers:
                session.add(
                    Evaluation(
                        org_id=org.id,
                        event_id=event.id,
                        judge_id=scorer.id,
                        submission_id=submission.id,
                        team_id=team.id,
                        scores={},
                        raw_score=90.0 - 5 * n,
                        status="submitted",
                    )
                )
    await engine.dispose()
    return org.slug, event.slug


async def test_pairwise_with_undo_then_publish_and_a_visitor_sees_the_winners(
    live_server: str,
    live_database_url: str,
    chromium: Any,
) -> None:
    from playwright.async_api import expect

    run = secrets.token_hex(4)
    organizer_email, judge_email = f"org-{run}@example.org", f"judge-{run}@example.org"
    organizer, judge = await person(chromium), await person(chromium)
    await sign_up_and_confirm(organizer, live_server, "Olga Organizer", organizer_email)
    await sign_up_and_confirm(judge, live_server, "Jude Judge", judge_email)
    slug, event_slug = await seed(live_database_url, organizer_email, judge_email)
    base = f"{live_server}/orgs/{slug}/events/{event_slug}"

    await log_in(judge, judge_email)
    await judge.goto(f"{base}/judging/pairwise")
    progress = judge.locator("#pairwise-progress")
    await expect(progress).to_have_text("Comparisons so far: 0")
    for n in range(6):
        await judge.locator("#pair button").first.click()
        if n == 2:
            await expect(progress).to_have_text("Comparisons so far: 3")
            await judge.get_by_role("button", name="Undo my last choice").click()
            await expect(judge.locator(".flashes")).to_contain_text("Undone")
            await expect(progress).to_have_text("Comparisons so far: 2")
    await expect(progress).to_have_text("Comparisons so far: 5")

    await log_in(organizer, organizer_email)
    await organizer.goto(f"{base}/admin")
    # Publishing asks first: cancelling publishes nothing.
    await organizer.get_by_role("link", name="Publish results").click()
    await expect(organizer).to_have_url(f"{base}/admin/publish-results")
    await expect(organizer.locator("#confirm-heading")).to_have_text(
        "Publish the results of Finale?"
    )
    await organizer.get_by_role("link", name="Cancel, do nothing").click()
    await expect(organizer).to_have_url(f"{base}/admin")
    await expect(organizer.locator("#event-state")).to_have_text("judging")
    await organizer.get_by_role("link", name="Publish results").click()
    await organizer.get_by_role("button", name="Publish the results").click()
    await expect(organizer.locator(".flashes")).to_contain_text("The results are published")
    await expect(organizer.locator("#event-state")).to_have_text("results published")

    visitor = await person(chromium)
    await visitor.goto(base)
    await visitor.get_by_role("link", name="Results", exact=True).click()
    await expect(visitor).to_have_url(re.compile(r"/results$"))
    await expect(visitor.locator("#winners")).to_contain_text("Golden Keyboard")
    await expect(visitor.locator("#winners")).to_contain_text("Project 0")

    await asyncio.sleep(0.2)
    assert judge.problems == []
    assert organizer.problems == []
    assert visitor.problems == []
