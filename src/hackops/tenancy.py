"""The tenant and actor of the current transaction, as PostgreSQL row-level security sees them.

Set with `set_config(..., true)` (the `SET LOCAL` form): it lasts until the transaction ends and
never leaks to the next user of a pooled connection. Policies read it through `current_org_id()`,
`current_app_user_id()` and `is_platform_admin()` (see the 0002 migration).
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_TENANT_KEY = "hackops.tenant"
#: What `hackops.gate` read for the loaders of this transaction (gone with the tenant it set).
PREFETCH_KEY = "hackops.gate"


async def set_tenant(session: AsyncSession, org_id: uuid.UUID | None) -> None:
    """Make `org_id` the tenant of the session's transaction (None clears it)."""
    value = "" if org_id is None else str(org_id)
    if session.info.get(_TENANT_KEY) == value:
        return
    await session.execute(text("SELECT set_config('hackops.org_id', :v, true)"), {"v": value})
    session.info[_TENANT_KEY] = value


def note_tenant(session: AsyncSession, org_id: uuid.UUID) -> None:
    """`org_id` was made the tenant by a statement of its own (`hackops.gate`)."""
    session.info[_TENANT_KEY] = str(org_id)


def forget_tenant(session: AsyncSession) -> None:
    """After a rollback to a savepoint undid set_config(): the next set_tenant() must run."""
    session.info.pop(_TENANT_KEY, None)
    session.info.pop(PREFETCH_KEY, None)


_USER_ID = "hackops.user_id"
_PLATFORM_ADMIN = "hackops.platform_admin"


def _actor_values(user_id: uuid.UUID | None, platform_admin: bool) -> dict[str, str]:
    return {
        "user_id": "" if user_id is None else str(user_id),
        "admin": "on" if platform_admin else "",
    }


async def set_actor(
    session: AsyncSession, user_id: uuid.UUID | None, *, platform_admin: bool = False
) -> None:
    """Record who acts in this transaction (their own rows become visible to them)."""
    await session.execute(
        text(
            f"SELECT set_config('{_USER_ID}', :user_id, true),"
            f" set_config('{_PLATFORM_ADMIN}', :admin, true)"
        ),
        _actor_values(user_id, platform_admin),
    )


async def set_actor_on(
    conn: psycopg.AsyncConnection[Any],
    user_id: uuid.UUID | None,
    *,
    platform_admin: bool = False,
) -> None:
    """`set_actor` on a raw driver connection, inside the transaction it has open (a
    connection of its own that takes many small transactions: the event bus relay)."""
    await conn.execute(
        f"SELECT set_config('{_USER_ID}', %(user_id)s, true),"
        f" set_config('{_PLATFORM_ADMIN}', %(admin)s, true)",
        _actor_values(user_id, platform_admin),
    )
