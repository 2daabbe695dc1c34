"""The one helper every state-changing service calls: an audit row in the same transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.models import AuditEntry

#: Keys that never reach the log, whatever a caller passes.
SECRET_KEYS = frozenset({"password", "new_password", "current_password", "token", "secret", "code"})


def _scrub(details: dict[str, Any]) -> dict[str, Any]:
    return {k: ("[redacted]" if k in SECRET_KEYS else v) for k, v in details.items()}


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    resource_type: str,
    resource_id: uuid.UUID | str | None = None,
    org_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        org_id=org_id,
        actor_id=actor.user.id if actor.user is not None else None,
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id) if resource_id is not None else None,
        details=_scrub(details or {}),
        ip=actor.ip,
        user_agent=actor.user_agent[:400],
    )
    session.add(entry)
    await session.flush()
    return entry
