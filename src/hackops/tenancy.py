"""The tenant and actor of the current transaction, as PostgreSQL row-level security sees them.

Set with `set_config(..., true)` (the `SET LOCAL` form): it lasts until the transaction ends and
never leaks to the next user of a pooled connection. Policies read it through `current_org_id()`,
`current_app_user_id()` and `is_platform_admin()` (see the 0002 migration).
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_TENANT_KEY = "hackops.tenant"


async def set_tenant(session: AsyncSession, org_id: uuid.UUID | None) -> None:
    """Make `org_id` the tenant of the session's transaction (None clears it)."""
    value = "" if org_id is None else str(org_id)
    if session.info.get(_TENANT_KEY) == value:
        return
    await session.execute(text("SELECT set_config('hackops.org_id', :v, true)"), {"v": value})
    session.info[_TENANT_KEY] = value


def forget_tenant(session: AsyncSession) -> None:
    """After a rollback to a savepoint undid set_config(): the next set_tenant() must run."""
    session.info.pop(_TENANT_KEY, None)


async def set_actor(
    session: AsyncSession, user_id: uuid.UUID | None, *, platform_admin: bool = False
) -> None:
    """Record who acts in this transaction (their own rows become visible to them)."""
    await session.execute(
        text(
            "SELECT set_config('hackops.user_id', :user_id, true),"
            " set_config('hackops.platform_admin', :admin, true)"
        ),
        {
            "user_id": "" if user_id is None else str(user_id),
            "admin": "on" if platform_admin else "",
        },
    )
