"""Registration test helpers: an organization with a published event and its organizer, and
reads past row-level security."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event, Membership, Organization, User
from hackops.tenancy import forget_tenant, set_tenant
from tests.factories import create_event, create_organization
from tests.people import person

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@dataclass
class Scene:
    org: Organization
    event: Event
    organizer: User
    organizer_token: str

    @property
    def base(self) -> str:
        return f"/api/v1/organizations/{self.org.slug}/events/{self.event.slug}"


async def scene(session: AsyncSession, **event_values: Any) -> Scene:
    """An organization, its organizer (org role `organizer`) and a published event."""
    org = await create_organization(session, slug=f"org-{secrets.token_hex(3)}")
    organizer, token = await person(session, verified=True)
    await set_tenant(session, org.id)
    session.add(Membership(org_id=org.id, user_id=organizer.id, role="organizer"))
    await session.flush()
    values: dict[str, Any] = {"published_at": NOW - timedelta(days=30), "capacity": 10}
    values.update(event_values)
    event = await create_event(session, org, **values)
    return Scene(org, event, organizer, token)


async def as_admin(session: AsyncSession) -> None:
    """See every row in direct assertions (requests clear the shared transaction's settings)."""
    forget_tenant(session)
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))


async def statuses(session: AsyncSession, event: Event) -> dict[str, int]:
    await as_admin(session)
    rows = await session.execute(
        text("SELECT status, count(*) FROM registrations WHERE event_id = :e GROUP BY status"),
        {"e": event.id},
    )
    return {status: int(n) for status, n in rows}


async def registered_count(session: AsyncSession, event: Event) -> int:
    await as_admin(session)
    value = await session.scalar(
        text("SELECT registered_count FROM events WHERE id = :e"), {"e": event.id}
    )
    return int(value)
