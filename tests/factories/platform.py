"""Rows of the platform's edges: outgoing mail, the audit log, stored idempotent responses."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import AuditEntry, IdempotencyKey, OutboundEmail, PublicVersion, User
from tests.factories.accounts import create_user
from tests.factories.rows import insert, unique


async def create_outbound_email(session: AsyncSession, **overrides: Any) -> OutboundEmail:
    """An unsent mail."""
    values: dict[str, Any] = {
        "to_address": f"someone-{unique(4)}@example.com",
        "subject": "Hello",
        "body_text": "Hello there.",
    }
    values.update(overrides)
    return await insert(session, OutboundEmail, values)


async def create_audit_entry(session: AsyncSession, **overrides: Any) -> AuditEntry:
    """A platform-wide entry (no organization, no actor): tenant entries pass `org_id` with the
    tenant set. The log is append-only, so the row is not read back."""
    values: dict[str, Any] = {"action": "test.recorded", "resource_type": "test"}
    values.update(overrides)
    return await insert(session, AuditEntry, values)


async def create_idempotency_key(
    session: AsyncSession, user: User | None = None, **overrides: Any
) -> IdempotencyKey:
    """`user`'s key whose first request is still running (claimed, no response yet)."""
    user = user or await create_user(session)
    values: dict[str, Any] = {
        "user_id": user.id,
        "key": f"key-{unique(4)}",
        "fingerprint": "0" * 64,
        "request_method": "POST",
        "request_path": "/api/v1/me/tasks",
        "claim": uuid.uuid4(),
        "state": "in_progress",
    }
    values.update(overrides)
    return await insert(session, IdempotencyKey, values)


async def create_public_version(session: AsyncSession, **overrides: Any) -> PublicVersion:
    """A public page scope's version counter (triggers keep the real ones; this one is named
    for no event)."""
    values: dict[str, Any] = {"scope": f"test:{unique(8)}", "version": 1}
    values.update(overrides)
    return await insert(session, PublicVersion, values)
