"""What every factory shares: adding a row and flushing it, unique suffixes."""

from __future__ import annotations

import secrets
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

Row = TypeVar("Row")


def unique(length: int = 3) -> str:
    """A random hex suffix that keeps slugs, names and addresses apart between rows."""
    return secrets.token_hex(length)


async def insert(session: AsyncSession, model: type[Row], values: dict[str, Any]) -> Row:
    """Add a `model` row built from `values` and flush it (the database checks it now)."""
    row = model(**values)
    session.add(row)
    await session.flush()
    return row


async def add_in_savepoint(session: AsyncSession, obj: object) -> None:
    """Add and flush `obj` in a savepoint (rolled back if the database refuses it)."""
    async with session.begin_nested():
        session.add(obj)
        await session.flush()
