"""Plain async factories: each creates one row with sensible defaults, overridable by keyword."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Organization


async def create_organization(session: AsyncSession, **overrides: Any) -> Organization:
    suffix = secrets.token_hex(3)
    values: dict[str, Any] = {"slug": f"org-{suffix}", "name": f"Organization {suffix}"}
    values.update(overrides)
    org = Organization(**values)
    session.add(org)
    await session.flush()
    return org
