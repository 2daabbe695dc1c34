"""Plain async factories: each creates one row with sensible defaults, overridable by keyword."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import (
    Event,
    Organization,
    Registration,
    Submission,
    SubmissionVersion,
    Team,
    TeamMember,
    User,
)
from hackops.submissions.intake.service import snapshot_of
from hackops.tenancy import set_tenant


async def create_organization(session: AsyncSession, **overrides: Any) -> Organization:
    suffix = secrets.token_hex(3)
    values: dict[str, Any] = {"slug": f"org-{suffix}", "name": f"Organization {suffix}"}
    values.update(overrides)
    org = Organization(**values)
    session.add(org)
    await session.flush()
    return org


async def create_user(session: AsyncSession, **overrides: Any) -> User:
    suffix = secrets.token_hex(4)
    values: dict[str, Any] = {"email": f"user-{suffix}@example.com", "name": f"User {suffix}"}
    values.update(overrides)
    user = User(**values)
    session.add(user)
    await session.flush()
    return user


async def create_event(session: AsyncSession, org: Organization, **overrides: Any) -> Event:
    """An event of `org` (the session's tenant is set to `org`)."""
    await set_tenant(session, org.id)
    suffix = secrets.token_hex(3)
    values: dict[str, Any] = {
        "org_id": org.id,
        "slug": f"event-{suffix}",
        "name": f"Event {suffix}",
        "visibility": "public",
    }
    values.update(overrides)
    event = Event(**values)
    session.add(event)
    await session.flush()
    await session.refresh(event)
    return event


async def create_registration(
    session: AsyncSession, event: Event, user: User, **overrides: Any
) -> Registration:
    await set_tenant(session, event.org_id)
    values: dict[str, Any] = {
        "org_id": event.org_id,
        "event_id": event.id,
        "user_id": user.id,
        "status": "registered",
        "checkin_code": secrets.token_hex(5).upper(),
    }
    values.update(overrides)
    registration = Registration(**values)
    session.add(registration)
    await session.flush()
    return registration


async def create_team(session: AsyncSession, event: Event, captain: User, **overrides: Any) -> Team:
    """A team with its captain as first member (the captain must be registered)."""
    await set_tenant(session, event.org_id)
    suffix = secrets.token_hex(3)
    values: dict[str, Any] = {
        "org_id": event.org_id,
        "event_id": event.id,
        "name": f"Team {suffix}",
        "captain_id": captain.id,
        "join_code": secrets.token_hex(4).upper(),
        "max_members": event.team_max,
    }
    values.update(overrides)
    team = Team(**values)
    session.add(team)
    await session.flush()
    session.add(
        TeamMember(
            org_id=event.org_id,
            event_id=event.id,
            team_id=team.id,
            user_id=captain.id,
            role="captain",
        )
    )
    await session.flush()
    await session.refresh(team)
    return team


async def create_submitted(session: AsyncSession, team: Team, **overrides: Any) -> Submission:
    """A team's project as `submit` leaves it: the row and its version 1 (the row's content
    frozen), the latest. What judges see of it is that version."""
    values: dict[str, Any] = {
        "org_id": team.org_id,
        "event_id": team.event_id,
        "team_id": team.id,
        "status": "submitted",
        "title": f"Project {secrets.token_hex(3)}",
    }
    values.update(overrides)
    submission = Submission(**values)
    session.add(submission)
    await session.flush()
    await session.refresh(submission)  # the server's defaults, for the snapshot
    version = SubmissionVersion(
        org_id=team.org_id,
        event_id=team.event_id,
        submission_id=submission.id,
        number=1,
        snapshot=snapshot_of(submission),
        **({"submitted_at": values["submitted_at"]} if values.get("submitted_at") else {}),
    )
    session.add(version)
    await session.flush()
    submission.version_count, submission.latest_version_id = 1, version.id
    await session.flush()
    return submission


async def add_in_savepoint(session: AsyncSession, obj: object) -> None:
    """Add and flush `obj` in a savepoint (rolled back if the database refuses it)."""
    async with session.begin_nested():
        session.add(obj)
        await session.flush()
