"""Events of an organization and what hangs under them: tracks, awards, roles, role invitations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import new_secret
from hackops.models import (
    Award,
    Event,
    EventRoleGrant,
    EventRoleInvitation,
    Organization,
    ScheduleItem,
    Track,
    User,
)
from hackops.tenancy import set_tenant
from tests.factories.accounts import create_user
from tests.factories.orgs import create_organization
from tests.factories.rows import insert, unique


async def create_event(
    session: AsyncSession, org: Organization | None = None, **overrides: Any
) -> Event:
    """A public (unpublished) event of `org` (the session's tenant is set to `org`)."""
    org = org or await create_organization(session)
    await set_tenant(session, org.id)
    suffix = unique()
    values: dict[str, Any] = {
        "org_id": org.id,
        "slug": f"event-{suffix}",
        "name": f"Event {suffix}",
        "visibility": "public",
    }
    values.update(overrides)
    event = await insert(session, Event, values)
    await session.refresh(event)
    return event


async def _event_of(session: AsyncSession, event: Event | None) -> Event:
    """`event`, or a new one; the session's tenant becomes its organization."""
    event = event or await create_event(session)
    await set_tenant(session, event.org_id)
    return event


async def create_track(
    session: AsyncSession, event: Event | None = None, **overrides: Any
) -> Track:
    event = await _event_of(session, event)
    values: dict[str, Any] = {
        "org_id": event.org_id,
        "event_id": event.id,
        "name": f"Track {unique()}",
    }
    values.update(overrides)
    return await insert(session, Track, values)


async def create_schedule_item(
    session: AsyncSession, event: Event | None = None, **overrides: Any
) -> ScheduleItem:
    """A talk of `event`, a day from now (or at `starts_at`), an hour long."""
    event = await _event_of(session, event)
    values: dict[str, Any] = {
        "org_id": event.org_id,
        "event_id": event.id,
        "title": f"Talk {unique()}",
        "kind": "talk",
        "starts_at": datetime.now(UTC).replace(microsecond=0) + timedelta(days=1),
    }
    values.update(overrides)
    values.setdefault("ends_at", values["starts_at"] + timedelta(hours=1))
    return await insert(session, ScheduleItem, values)


async def create_award(
    session: AsyncSession, event: Event | None = None, **overrides: Any
) -> Award:
    """An award of the whole event (pass `track_id` for a track's award)."""
    event = await _event_of(session, event)
    values: dict[str, Any] = {
        "org_id": event.org_id,
        "event_id": event.id,
        "name": f"Award {unique()}",
    }
    values.update(overrides)
    return await insert(session, Award, values)


async def create_event_role(
    session: AsyncSession,
    event: Event | None = None,
    user: User | None = None,
    **overrides: Any,
) -> EventRoleGrant:
    """`user` holds a role on `event` (judge unless overridden)."""
    event = await _event_of(session, event)
    user = user or await create_user(session)
    values: dict[str, Any] = {
        "org_id": event.org_id,
        "event_id": event.id,
        "user_id": user.id,
        "role": "judge",
    }
    values.update(overrides)
    return await insert(session, EventRoleGrant, values)


async def create_event_role_invitation(
    session: AsyncSession, event: Event | None = None, **overrides: Any
) -> EventRoleInvitation:
    """A pending invitation to judge `event`, valid for a week."""
    event = await _event_of(session, event)
    values: dict[str, Any] = {
        "org_id": event.org_id,
        "event_id": event.id,
        "email": f"judge-{unique(4)}@example.com",
        "role": "judge",
        "token_hash": new_secret()[1],
        "expires_at": datetime.now(UTC) + timedelta(days=7),
    }
    values.update(overrides)
    return await insert(session, EventRoleInvitation, values)
