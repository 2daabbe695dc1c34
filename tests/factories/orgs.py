"""Organizations (the tenants), their members and invitations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import new_secret
from hackops.models import Invitation, Membership, Organization, User
from hackops.tenancy import set_tenant
from tests.factories.accounts import create_user
from tests.factories.rows import insert, unique


async def create_organization(session: AsyncSession, **overrides: Any) -> Organization:
    suffix = unique()
    values: dict[str, Any] = {"slug": f"org-{suffix}", "name": f"Organization {suffix}"}
    values.update(overrides)
    return await insert(session, Organization, values)


async def create_membership(
    session: AsyncSession,
    org: Organization | None = None,
    user: User | None = None,
    **overrides: Any,
) -> Membership:
    """`user` is a member of `org` (role `member` unless overridden); the tenant becomes `org`."""
    org = org or await create_organization(session)
    user = user or await create_user(session)
    await set_tenant(session, org.id)
    values: dict[str, Any] = {"org_id": org.id, "user_id": user.id, "role": "member"}
    values.update(overrides)
    return await insert(session, Membership, values)


async def create_org_invitation(
    session: AsyncSession, org: Organization | None = None, **overrides: Any
) -> Invitation:
    """A pending invitation to join `org` as a member, valid for a week."""
    org = org or await create_organization(session)
    await set_tenant(session, org.id)
    values: dict[str, Any] = {
        "org_id": org.id,
        "email": f"invited-{unique(4)}@example.com",
        "role": "member",
        "token_hash": new_secret()[1],
        "expires_at": datetime.now(UTC) + timedelta(days=7),
    }
    values.update(overrides)
    return await insert(session, Invitation, values)
