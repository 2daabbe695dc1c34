"""Team test helpers: a published event with people around it (`tests.people.person`: bearer
tokens made directly in the database), and short ways to call the team routes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event, Membership, Organization, User
from hackops.tenancy import set_tenant
from tests.accounts.helpers import bearer
from tests.factories import create_event, create_organization, create_registration
from tests.people import person


@dataclass
class Stage:
    org: Organization
    event: Event
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"/api/v1/organizations/{self.org.slug}/events/{self.event.slug}"

    def team_url(self, team_id: object, suffix: str = "") -> str:
        return f"{self.base}/teams/{team_id}{suffix}"

    def auth(self, name: str) -> dict[str, str]:
        return bearer(self.tokens[name]) if name != "anonymous" else {}

    def id(self, name: str) -> str:
        return str(self.users[name].id)


async def stage(
    session: AsyncSession,
    *,
    registered: tuple[str, ...] = ("alice", "bob", "carol", "dave"),
    **event_values: Any,
) -> Stage:
    """A published event, registered participants, an organizer, a waitlisted person and an
    outsider (registered nowhere)."""
    org = await create_organization(session, slug=f"org-{secrets.token_hex(3)}")
    values: dict[str, Any] = {"published_at": datetime.now(UTC) - timedelta(days=1)}
    values.update(event_values)
    event = await create_event(session, org, **values)
    s = Stage(org=org, event=event)
    for name in (*registered, "walt", "olga", "otto"):
        user, token = await person(
            session, name=name.title(), email=f"{name}-{secrets.token_hex(3)}@example.com"
        )
        s.users[name], s.tokens[name] = user, token
    for name in registered:
        await create_registration(session, event, s.users[name])
    await create_registration(session, event, s.users["walt"], status="waitlisted")
    await set_tenant(session, org.id)
    session.add(Membership(org_id=org.id, user_id=s.users["olga"].id, role="organizer"))
    await session.flush()
    return s
