"""List endpoints cost the same number of queries for 1 item as for 20 (no N+1)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx2
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.db import db_now
from hackops.models import (
    AuditEntry,
    AuthToken,
    Invitation,
    Membership,
    OAuthIdentity,
    Organization,
    User,
)
from tests.accounts.helpers import bearer, verified_user
from tests.helpers import count_queries
from tests.orgs.test_members import create_org


async def seed(
    session: AsyncSession, connection: AsyncConnection, owner: User, org: Organization, n: int
) -> None:
    """n members, invitations, audit entries, organizations of the owner and tokens."""
    await connection.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    now = await db_now(session)
    for i in range(n):
        person = User(email=f"p{i}-{uuid.uuid4().hex[:6]}@example.com", name=f"P{i}")
        session.add(person)
        await session.flush()
        session.add(Membership(org_id=org.id, user_id=person.id, role="member"))
        session.add(
            Invitation(
                org_id=org.id,
                email=f"i{i}@example.com",
                role="member",
                token_hash=uuid.uuid4().hex,
                expires_at=now + timedelta(days=1),
            )
        )
        session.add(
            AuditEntry(org_id=org.id, actor_id=owner.id, action="test.seeded", resource_type="x")
        )
        other = Organization(slug=f"o{i}-{uuid.uuid4().hex[:6]}", name=f"O{i}")
        session.add(other)
        await session.flush()
        session.add(Membership(org_id=other.id, user_id=owner.id, role="member"))
        session.add(OAuthIdentity(user_id=owner.id, provider="github", subject=uuid.uuid4().hex))
        for kind in ("session", "api"):
            session.add(
                AuthToken(
                    user_id=owner.id,
                    kind=kind,
                    token_hash=uuid.uuid4().hex,
                    expires_at=now + timedelta(days=1),
                )
            )
    await session.flush()
    await connection.execute(text("SELECT set_config('hackops.platform_admin', '', true)"))


LISTS = [
    "/api/v1/organizations/acme/members",
    "/api/v1/organizations/acme/invitations",
    "/api/v1/organizations/acme/audit",
    "/api/v1/me/organizations",
    "/api/v1/me/sessions",
    "/api/v1/me/tokens",
    "/api/v1/me/identities",
]


@pytest.mark.parametrize("path", LISTS)
async def test_list_query_count_does_not_grow(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, path: str
) -> None:
    token = await verified_user(client, session, "owner@example.com")
    await create_org(client, token, "acme")
    owner = await session.scalar(select(User).where(User.email == "owner@example.com"))
    org = await session.scalar(select(Organization).where(Organization.slug == "acme"))
    assert owner is not None
    assert org is not None

    async def measure() -> tuple[int, int]:
        with count_queries(connection) as queries:
            response = await client.get(path, headers=bearer(token))
        assert response.status_code == 200, response.text
        body = response.json()
        items = body["items"] if isinstance(body, dict) else body
        return queries.count, len(items)

    await seed(session, connection, owner, org, 1)
    small_queries, small_items = await measure()
    await seed(session, connection, owner, org, 19)
    large_queries, large_items = await measure()
    assert large_items > small_items
    assert large_queries == small_queries
