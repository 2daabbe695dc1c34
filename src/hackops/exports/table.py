"""What every export dataset is written from: a `Table` (column names, then rows read as they
are written) and how its rows are read.

Each dataset's rows come from ONE statement read through a server-side cursor in batches of
`BATCH` rows (`AsyncSession.stream` with `yield_per`, `stream_rows`): the process holds one batch
at a time, however large the event, and the rows are consistent with each other (a statement
reads one snapshot, so READ COMMITTED is enough; no REPEATABLE READ transaction is needed).
Columns are selected, not ORM objects: nothing accumulates in the session.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncSession

#: Rows fetched from the server-side cursor at a time.
BATCH = 500


class Dataset(enum.StrEnum):
    RESULTS = "results"
    EVALUATIONS = "evaluations"
    SUBMISSIONS = "submissions"
    TEAMS = "teams"
    JUDGES = "judges"
    REGISTRATIONS = "registrations"


Row = Sequence[Any]


@dataclass(frozen=True)
class Table:
    """A dataset ready to write: its column names and its rows, read as they are written."""

    dataset: Dataset
    columns: list[str]
    rows: AsyncIterator[Row]


def when(value: datetime | None) -> str:
    """A moment as ISO 8601 with its offset (UTC as the database gives it), "" for none."""
    return value.isoformat() if value is not None else ""


def unique_names(names: Sequence[str], taken: Sequence[str] = ()) -> list[str]:
    """Column names as given, a repeated one (two questions with one label) numbered: "Size (2)"."""
    seen = set(taken)
    out = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name} ({n})"
        seen.add(candidate)
        out.append(candidate)
    return out


async def stream_rows(
    session: AsyncSession, query: Executable, shape: Callable[[Any], Row]
) -> AsyncIterator[Row]:
    """The rows of `query`, fetched `BATCH` at a time through a server-side cursor."""
    result = await session.stream(query.execution_options(yield_per=BATCH))
    try:
        async for row in result:
            yield shape(row)
    finally:
        await result.close()


async def rows_of(rows: Sequence[Row]) -> AsyncIterator[Row]:
    """Rows already read (a small table, as the results), as the iterator a `Table` takes."""
    for row in rows:
        yield row
