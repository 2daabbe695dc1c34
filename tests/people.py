"""People for tests: a person with a sign-in token, and the cast of one event (someone in every
role), made directly in the database with the factories (no sign-up flow, no audit rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import new_secret
from hackops.models import Event, Organization, Team, User
from tests.accounts.helpers import bearer
from tests.factories import (
    create_auth_token,
    create_event,
    create_event_role,
    create_membership,
    create_organization,
    create_registration,
    create_team,
    create_team_member,
    create_user,
)


async def sign_in_token(session: AsyncSession, user: User, **overrides: Any) -> str:
    """A session token (read and write) for `user`; returns its secret for `bearer()`.
    Marked as used in the future, so using it writes nothing ("touch")."""
    raw, hashed = new_secret()
    values: dict[str, Any] = {
        "token_hash": hashed,
        "last_used_at": datetime.now(UTC) + timedelta(days=1),
        **overrides,
    }
    await create_auth_token(session, user, **values)
    return raw


async def person(
    session: AsyncSession, email: str | None = None, *, verified: bool = False, **overrides: Any
) -> tuple[User, str]:
    """A user (their address confirmed when `verified`) and a bearer token for them."""
    values: dict[str, Any] = dict(overrides)
    if email is not None:
        values["email"] = email
    if verified:
        values.setdefault("email_verified_at", datetime.now(UTC))
    user = await create_user(session, **values)
    return user, await sign_in_token(session, user)


#: Who the cast holds, by the name tests use.
CAST_ROLES = (
    "owner",  # owns the organization
    "org_organizer",  # organizer of the organization (every event of it)
    "event_organizer",  # organizer of this event only
    "judge",
    "mentor",
    "participant",  # registered, on no team
    "checked_in",  # registered and checked in, on no team
    "captain",  # registered, captain of `team`
    "member",  # registered, member of `team`
    "outsider",  # signed in, nothing to do with the event
    "platform_admin",
)


@dataclass
class Cast:
    """A published event of an organization with one person in every role (all with confirmed
    addresses and tokens) and one team."""

    org: Organization
    event: Event
    team: Team
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        """The event's API path."""
        return f"/api/v1/organizations/{self.org.slug}/events/{self.event.slug}"

    def auth(self, name: str) -> dict[str, str]:
        """The Authorization header of `name` (none for "anonymous")."""
        return bearer(self.tokens[name]) if name != "anonymous" else {}

    def id(self, name: str) -> str:
        return str(self.users[name].id)


async def build_cast(session: AsyncSession, **event_values: Any) -> Cast:
    """The cast of a published event (`event_values` override the event's columns)."""
    org = await create_organization(session)
    values: dict[str, Any] = {"published_at": datetime.now(UTC) - timedelta(days=1)}
    values.update(event_values)
    event = await create_event(session, org, **values)
    users: dict[str, User] = {}
    tokens: dict[str, str] = {}
    for name in CAST_ROLES:
        users[name], tokens[name] = await person(
            session,
            verified=True,
            name=name.replace("_", " ").title(),
            is_platform_admin=name == "platform_admin",
        )
    await create_membership(session, org, users["owner"], role="owner")
    await create_membership(session, org, users["org_organizer"], role="organizer")
    for name, role in (("event_organizer", "organizer"), ("judge", "judge"), ("mentor", "mentor")):
        await create_event_role(session, event, users[name], role=role)
    for name in ("participant", "captain", "member"):
        await create_registration(session, event, users[name])
    await create_registration(
        session,
        event,
        users["checked_in"],
        status="checked_in",
        checked_in_at=datetime.now(UTC),
        checked_in_by_id=users["event_organizer"].id,
    )
    team = await create_team(session, event, users["captain"])
    await create_team_member(session, team, users["member"])
    return Cast(org=org, event=event, team=team, users=users, tokens=tokens)
