"""`registration_open_sql` (the registration statement's window check, decided under the
event's lock) says what `registration_open` says, for every combination of the fields it reads,
at the edges of each window."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.events.lifecycle import registration_open, registration_open_sql
from hackops.models import Event
from tests.helpers import frozen_time

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PAST = NOW - timedelta(days=1)
SECOND = timedelta(seconds=1)

PUBLISHED = [None, PAST]
ARCHIVED = [None, PAST]
RESULTS = [None, PAST]
#: (submissions_close_at, grace_minutes): none; closed; inside the grace; the grace's last
#: second; the deadline itself (closed).
SUBMISSIONS = [
    (None, 0),
    (NOW - timedelta(hours=1), 0),
    (NOW - timedelta(minutes=30), 60),
    (NOW - timedelta(minutes=60) + SECOND, 60),
    (NOW - timedelta(minutes=60), 60),
    (NOW + timedelta(hours=1), 0),
]
OPENS = [None, PAST, NOW, NOW + SECOND]
CLOSES = [None, PAST, NOW, NOW + SECOND]


async def test_the_sql_window_check_agrees_with_registration_open(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    cases = []
    for n, (published, archived, results, (close, grace), opens, closes) in enumerate(
        itertools.product(PUBLISHED, ARCHIVED, RESULTS, SUBMISSIONS, OPENS, CLOSES)
    ):
        event = Event(
            published_at=published,
            archived_at=archived,
            results_published_at=results,
            submissions_close_at=close,
            grace_minutes=grace,
            registration_opens_at=opens,
            registration_closes_at=closes,
        )
        cases.append((n, event, registration_open(event, NOW)))
    rows = [
        {
            "n": n,
            **{
                name: None if getattr(event, name) is None else getattr(event, name).isoformat()
                for name in (
                    "published_at",
                    "archived_at",
                    "results_published_at",
                    "submissions_close_at",
                    "registration_opens_at",
                    "registration_closes_at",
                )
            },
            "grace_minutes": event.grace_minutes,
        }
        for n, event, _ in cases
    ]
    async with frozen_time(connection, NOW):
        result = await session.execute(
            text(
                f"SELECT e.n, {registration_open_sql('e')} AS open"
                " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS e(n int,"
                " published_at timestamptz, archived_at timestamptz,"
                " results_published_at timestamptz, submissions_close_at timestamptz,"
                " grace_minutes int, registration_opens_at timestamptz,"
                " registration_closes_at timestamptz)"
            ),
            {"rows": json.dumps(rows)},
        )
        in_sql = dict(result.all())
    expected = {n: is_open for n, _, is_open in cases}
    assert in_sql == expected
    assert sum(expected.values()) > 0  # the matrix holds open windows, not only closed ones
