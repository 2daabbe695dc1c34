"""The one helper every state-changing service calls: an audit row in the same transaction."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Insert, bindparam, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.errors import ValidationFailed
from hackops.models import AuditEntry, new_id

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
        **entry_values(
            actor,
            action,
            resource_type=resource_type,
            resource_id=resource_id,
            org_id=org_id,
            details=details,
        )
    )
    session.add(entry)
    await session.flush()
    return entry


#: The columns an audit row is written with, as `audit_params` names their bound values.
AUDIT_COLUMNS = (
    "id", "org_id", "actor_id", "action", "resource_type", "resource_id", "details", "ip",
    "user_agent",
)  # fmt: skip


def audit_row(resource_id: ColumnElement[Any] | None = None) -> Insert:
    """The audit row `record` writes, as a statement with bound parameters (`audit_…`, values
    from `audit_params`), to send as a CTE of the write it records: one round trip instead of
    two. Build it once (module level) and reuse it: the statement's construction and cache key
    are then paid once per process. `resource_id` may be a SQL expression over the write's
    RETURNING (an id the database chose). Never RETURNING (see `AuditEntry`)."""
    columns = AuditEntry.__table__.c
    values: dict[str, Any] = {
        name: bindparam(f"audit_{name}", type_=columns[name].type) for name in AUDIT_COLUMNS
    }
    if resource_id is not None:
        values["resource_id"] = resource_id
    return insert(AuditEntry).values(values)


def entry_values(
    actor: Actor,
    action: str,
    *,
    resource_type: str,
    resource_id: uuid.UUID | str | None = None,
    org_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns of the row `record` writes, for a statement that writes it itself together
    with its change (`audit_params`; as JSON in `registrations.write`): the same scrubbing,
    clipping and actor. `id` is chosen here; `created_at` is the database's."""
    return {
        "id": new_id(),
        "org_id": org_id,
        "actor_id": actor.user.id if actor.user is not None else None,
        "action": action,
        "resource_type": resource_type,
        "resource_id": str(resource_id) if resource_id is not None else None,
        "details": _scrub(details or {}),
        "ip": actor.ip,
        "user_agent": actor.user_agent[:400],
    }


def audit_params(
    actor: Actor,
    action: str,
    *,
    resource_type: str,
    resource_id: uuid.UUID | str | None = None,
    org_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The values of `audit_row`'s parameters: what `record` would write."""
    values = entry_values(
        actor,
        action,
        resource_type=resource_type,
        resource_id=resource_id,
        org_id=org_id,
        details=details,
    )
    return {f"audit_{name}": value for name, value in values.items()}


class BadCursor(ValidationFailed):
    code = "invalid_cursor"
    message = "The pagination cursor is not valid; start again without it."


def encode_cursor(entry: AuditEntry) -> str:
    raw = f"{entry.created_at.isoformat()}|{entry.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, _, ident = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
        return datetime.fromisoformat(created), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor from exc


async def list_entries(
    session: AsyncSession,
    *,
    org_id: uuid.UUID | None,
    actor_id: uuid.UUID | None = None,
    action: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[AuditEntry], str | None]:
    """Newest first, keyset-paginated. `org_id=None` lists every organization (platform admins;
    row-level security decides what is visible)."""
    query = select(AuditEntry)
    if org_id is not None:
        query = query.where(AuditEntry.org_id == org_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if resource_type is not None:
        query = query.where(AuditEntry.resource_type == resource_type)
    if resource_id is not None:
        query = query.where(AuditEntry.resource_id == resource_id)
    if since is not None:
        query = query.where(AuditEntry.created_at >= since)
    if until is not None:
        query = query.where(AuditEntry.created_at < until)
    if cursor is not None:
        created, ident = decode_cursor(cursor)
        query = query.where(tuple_(AuditEntry.created_at, AuditEntry.id) < tuple_(created, ident))
    rows = list(
        await session.scalars(
            query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit + 1)
        )
    )
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor
