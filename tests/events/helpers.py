"""Helpers for event tests: an organization with its staff (made with the factories), events
created through the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event
from hackops.tenancy import forget_tenant, set_tenant
from tests.accounts.helpers import bearer
from tests.factories import create_membership, create_organization
from tests.people import person


@dataclass
class Org:
    slug: str
    owner: dict[str, str]  # auth headers
    organizer: dict[str, str]
    member: dict[str, str]

    def events(self, path: str = "") -> str:
        return f"/api/v1/organizations/{self.slug}/events{path}"


async def org_with_staff(session: AsyncSession, slug: str) -> Org:
    """Organization `slug` with its owner, an organizer and a member (`role@slug.example.com`,
    addresses confirmed, signed in)."""
    org = await create_organization(session, slug=slug, name=slug.title())
    headers = {}
    for role in ("owner", "organizer", "member"):
        user, token = await person(
            session, f"{role}@{slug}.example.com", verified=True, name=role.title()
        )
        await create_membership(session, org, user, role=role)
        headers[role] = bearer(token)
    return Org(slug, headers["owner"], headers["organizer"], headers["member"])


async def make_event(
    client: httpx2.AsyncClient, org: Org, slug: str = "hack", **fields: Any
) -> dict[str, Any]:
    body = {"slug": slug, "name": fields.pop("name", slug.title()), **fields}
    response = await client.post(org.events(), headers=org.organizer, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def publish(client: httpx2.AsyncClient, org: Org, slug: str = "hack") -> dict[str, Any]:
    response = await client.post(org.events(f"/{slug}/publish"), headers=org.organizer)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def load_event(session: AsyncSession, slug: str) -> Event:
    """The event with this slug, read past row-level security; the session's tenant becomes its
    organization (as factories expect)."""
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    event = await session.scalar(select(Event).where(Event.slug == slug))
    await session.execute(text("SELECT set_config('hackops.platform_admin', '', true)"))
    assert event is not None, slug
    forget_tenant(session)  # requests in between cleared the transaction's settings
    await set_tenant(session, event.org_id)
    return event
