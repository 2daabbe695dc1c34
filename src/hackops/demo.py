"""Demo data: idempotent, grows as capabilities land (the demo hackathon comes with events).

In dev mode a demo organizer account with a published password is created so a newcomer can
sign in at once; outside dev mode no account with a known password is ever made.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.admin import hasher_for
from hackops.accounts.service import get_user_by_email
from hackops.actor import SYSTEM
from hackops.config import Settings
from hackops.db import db_now
from hackops.demo_judging import seed_judging
from hackops.models import (
    Event,
    EventRoleGrant,
    Membership,
    Organization,
    OrgRole,
    Registration,
    Task,
    Team,
    TeamMember,
    Track,
    User,
)
from hackops.orgs.schemas import PlanUpdate
from hackops.orgs.service import ensure_organization, update_organization
from hackops.tenancy import set_tenant

DEMO_ORG_SLUG = "demo"
#: The demo organization's plan: room for the demo's own events and several more to try.
DEMO_PLAN = PlanUpdate(plan="demo", max_active_events=20)
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "hackops-demo-2026"  # noqa: S105 - published on purpose, dev mode only


async def seed_demo(session: AsyncSession, settings: Settings) -> list[tuple[str, str]]:
    org = await ensure_organization(session, slug=DEMO_ORG_SLUG, name="Demo Hackathon Club")
    await _demo_plan(session, org)
    created = [
        ("organization", f"{org.name} (/orgs/{org.slug})"),
        ("plan", f"{org.plan}: up to {org.max_active_events} active events"),
    ]
    if not settings.is_dev:
        return created
    user = await get_user_by_email(session, DEMO_EMAIL)
    if user is None:
        now = await db_now(session)
        user = User(
            email=DEMO_EMAIL,
            name="Demo Organizer",
            password_hash=await hasher_for(settings).hash(DEMO_PASSWORD),
            password_changed_at=now,
            email_verified_at=now,
        )
        session.add(user)
        await session.flush()
    await set_tenant(session, org.id)
    member = await session.scalar(
        select(Membership).where(Membership.org_id == org.id, Membership.user_id == user.id)
    )
    if member is None:
        session.add(Membership(org_id=org.id, user_id=user.id, role=OrgRole.OWNER))
        await session.flush()
    created.append(("sign in (dev only)", f"{DEMO_EMAIL} / {DEMO_PASSWORD}"))
    event = await _demo_hackathon(session, org.id, user.id)
    created.append(("running hackathon", f"{event.name} (/orgs/{org.slug}/events/{event.slug})"))
    for judged in await seed_judging(session, org.id, user.id):
        created.append(("judging", f"{judged.name} (/orgs/{org.slug}/events/{judged.slug})"))
    upcoming = await _upcoming_hackathon(session, org.id, user.id)
    created.append(("upcoming", f"{upcoming.name} (/orgs/{org.slug}/events/{upcoming.slug})"))
    created.append(("public page", f"/orgs/{org.slug}/public"))
    return created


async def _demo_plan(session: AsyncSession, org: Organization) -> None:
    """The demo plan, on an organization still on the default one (a plan a platform
    administrator set is kept); recorded in its audit log like any plan change."""
    if org.plan != "free" or org.max_active_events >= (DEMO_PLAN.max_active_events or 0):
        return
    await set_tenant(session, org.id)
    await update_organization(session, SYSTEM, org, DEMO_PLAN)


DEMO_EVENT_SLUG = "demo-hack-2026"
UPCOMING_EVENT_SLUG = "demo-spring-hack-2027"
DEMO_TEAMS = (
    ("Solar Sprinters", ["python", "hardware"], ["Wire the sensor board", "Pitch deck"]),
    ("Study Buddies", ["react", "design"], ["Landing page", "User interviews", "Demo video"]),
)


async def _demo_hackathon(
    session: AsyncSession, org_id: uuid.UUID, organizer_id: uuid.UUID
) -> Event:
    """A published hackathon in full swing: registrations, two teams and their task boards."""
    existing = await session.scalar(
        select(Event).where(Event.org_id == org_id, Event.slug == DEMO_EVENT_SLUG)
    )
    if existing is not None:
        return existing
    now = await db_now(session)
    event = Event(
        org_id=org_id,
        slug=DEMO_EVENT_SLUG,
        name="Demo Hack 2026",
        tagline="48 hours to build something for your city",
        description="Build for **climate** or **education**. Teams of up to 4.",
        description_html="<p>Build for <strong>climate</strong> or <strong>education</strong>."
        " Teams of up to 4.</p>",
        registration_opens_at=now - timedelta(days=14),
        registration_closes_at=now + timedelta(days=1),
        starts_at=now - timedelta(days=1),
        submissions_close_at=now + timedelta(days=2),
        judging_closes_at=now + timedelta(days=4),
        capacity=100,
        team_min=1,
        team_max=4,
        published_at=now - timedelta(days=14),
    )
    session.add(event)
    await session.flush()
    for position, name in enumerate(("Climate", "Education")):
        session.add(Track(org_id=org_id, event_id=event.id, name=name, position=position))
    session.add(
        EventRoleGrant(org_id=org_id, event_id=event.id, user_id=organizer_id, role="organizer")
    )
    for team_no, (team_name, skills, tasks) in enumerate(DEMO_TEAMS):
        people = []
        for member_no in range(3):
            person = User(
                email=f"participant{team_no * 3 + member_no + 1}@example.com",
                name=f"Participant {team_no * 3 + member_no + 1}",
                email_verified_at=now,
                skills=skills,
            )
            session.add(person)
            await session.flush()
            session.add(
                Registration(
                    org_id=org_id,
                    event_id=event.id,
                    user_id=person.id,
                    status="registered",
                    checkin_code=secrets.token_hex(6).upper(),
                    skills=skills,
                )
            )
            people.append(person)
        await session.flush()
        team = Team(
            org_id=org_id,
            event_id=event.id,
            name=team_name,
            captain_id=people[0].id,
            skills_wanted=skills,
            join_code=secrets.token_hex(5).upper(),
            max_members=4,
        )
        session.add(team)
        await session.flush()
        for index, person in enumerate(people):
            session.add(
                TeamMember(
                    org_id=org_id,
                    event_id=event.id,
                    team_id=team.id,
                    user_id=person.id,
                    role="captain" if index == 0 else "member",
                )
            )
        for position, title in enumerate(tasks):
            session.add(
                Task(
                    org_id=org_id,
                    team_id=team.id,
                    title=title,
                    position=(position + 1) * 1024,
                    status="done" if position == 0 else "todo",
                    assignee_id=people[position % 3].id,
                    created_by_id=people[0].id,
                )
            )
        await session.flush()
    await session.refresh(event)
    return event


async def _upcoming_hackathon(
    session: AsyncSession, org_id: uuid.UUID, organizer_id: uuid.UUID
) -> Event:
    """A published hackathon three weeks ahead, registration open: the landing page's
    "upcoming" section and the organization's public page have one to show."""
    existing = await session.scalar(
        select(Event).where(Event.org_id == org_id, Event.slug == UPCOMING_EVENT_SLUG)
    )
    if existing is not None:
        return existing
    now = await db_now(session)
    starts = now + timedelta(days=21)
    event = Event(
        org_id=org_id,
        slug=UPCOMING_EVENT_SLUG,
        name="Demo Spring Hack 2027",
        tagline="A weekend of open data for public transport",
        description="Build with **open transport data**. Teams of 2 to 5.",
        description_html="<p>Build with <strong>open transport data</strong>. Teams of 2 to 5.</p>",
        mode="hybrid",
        venue="City Library, Hall B",
        registration_opens_at=now - timedelta(days=1),
        registration_closes_at=starts - timedelta(days=1),
        starts_at=starts,
        submissions_close_at=starts + timedelta(days=2),
        judging_closes_at=starts + timedelta(days=4),
        capacity=60,
        team_min=2,
        team_max=5,
        published_at=now - timedelta(days=1),
    )
    session.add(event)
    await session.flush()
    session.add(
        EventRoleGrant(org_id=org_id, event_id=event.id, user_id=organizer_id, role="organizer")
    )
    await session.flush()
    await session.refresh(event)
    return event
