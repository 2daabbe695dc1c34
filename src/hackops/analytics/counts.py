"""A labelled count, the figure every dashboard section is made of, and how a section reads the
rows of one of its statements (`analytics.service`, `analytics.judging`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class Count:
    label: str
    value: int


async def fetch_rows(session: AsyncSession, sql: str, **params: Any) -> list[Any]:
    """Every row of one statement (fixed text, bound parameters)."""
    return list((await session.execute(text(sql), params)).all())
