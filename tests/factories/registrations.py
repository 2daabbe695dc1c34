"""Registrations: a person's seat (or waitlist place) at an event."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event, Registration, User
from hackops.tenancy import set_tenant
from tests.factories.accounts import create_user
from tests.factories.events import create_event
from tests.factories.rows import insert, unique


async def create_registration(
    session: AsyncSession, event: Event | None = None, user: User | None = None, **overrides: Any
) -> Registration:
    """`user` registered for `event` (status `registered` unless overridden)."""
    event = event or await create_event(session)
    user = user or await create_user(session)
    await set_tenant(session, event.org_id)
    values: dict[str, Any] = {
        "org_id": event.org_id,
        "event_id": event.id,
        "user_id": user.id,
        "status": "registered",
        "checkin_code": unique(5).upper(),
    }
    values.update(overrides)
    return await insert(session, Registration, values)
