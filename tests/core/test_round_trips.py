"""Round trips to the database, counted on the wire (libpq's protocol trace of the app's own
pooled connections, real commits): a transaction's BEGIN goes with its first statement, a final
write's COMMIT with the write, each group answered at one Sync (`rows._run`). A registration is
two round trips: the request gate with the BEGIN, the write with the COMMIT."""

from __future__ import annotations

import ctypes
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from psycopg import pq
from sqlalchemy import event, exc, text

from hackops.config import Settings
from hackops.db import FINAL_WRITE, Database
from hackops.main import create_app
from hackops.rows import fetch_one
from tests.helpers import serving
from tests.registrations.test_final_write import _event_and_people

pytestmark = pytest.mark.slow

_LIBC = ctypes.CDLL(None)


@asynccontextmanager
async def wire(database: Database) -> AsyncIterator[list[list[str]]]:
    """What the app's connections send while the block runs, as round trips: the frontend's
    messages (type and text), cut after each Sync or simple Query (each waits for its answer)."""
    trips: list[list[str]] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "trace"
        with path.open("w") as out:

            def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
                pgconn = dbapi_connection.driver_connection.pgconn
                pgconn.trace(os.dup(out.fileno()))
                pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

            def on_checkin(dbapi_connection: Any, record: Any) -> None:
                dbapi_connection.driver_connection.pgconn.untrace()
                _LIBC.fflush(None)  # each checkout's messages in order, before the next one's

            engine = database.engine.sync_engine
            event.listen(engine, "checkout", on_checkout)
            event.listen(engine, "checkin", on_checkin)
            try:
                yield trips
            finally:
                event.remove(engine, "checkout", on_checkout)
                event.remove(engine, "checkin", on_checkin)
                _LIBC.fflush(None)  # libpq writes the trace through a buffered FILE
        messages: list[tuple[str, str, str]] = []  # direction, type, text
        for line in path.read_text().splitlines():
            direction, _, kind, *rest = [*line.split("\t"), "", ""]
            if direction in ("F", "B"):
                messages.append((direction, kind, " ".join(rest).strip()))
            else:  # a statement's text goes on over lines
                direction, kind, so_far = messages[-1]
                messages[-1] = (direction, kind, f"{so_far} {line.strip()}")
        trip: list[str] = []
        for direction, kind, text_ in messages:
            if direction == "B" or kind == "Flush":
                continue
            trip.append(f"{kind} {text_}".strip())
            if kind in ("Sync", "Query"):
                trips.append(trip)
                trip = []
        assert not trip, f"sent without waiting for an answer: {trip}"


def _has(trip: list[str], text_: str) -> bool:
    return any(text_ in message for message in trip)


async def test_a_registration_is_two_round_trips(
    settings: Settings, committed_db: Database
) -> None:
    base, tokens = await _event_and_people(committed_db, 1)
    app = create_app(settings, database=committed_db)
    async with serving(app) as http:
        async with wire(committed_db) as trips:
            response = await http.post(
                base, json={"answers": {}}, headers={"Authorization": f"Bearer {tokens[0]}"}
            )
        assert response.status_code == 201, response.text
        mine = await http.get(base + "/me", headers={"Authorization": f"Bearer {tokens[0]}"})
    assert mine.json()["status"] == "registered"
    assert len(trips) == 2, trips
    gate, write = trips
    assert (_has(gate, '"BEGIN"'), _has(gate, "request_gate"), _has(gate, '"COMMIT"')) == (
        True,
        True,
        False,
    ), gate
    assert (_has(write, "INSERT INTO registrations"), _has(write, '"COMMIT"')) == (True, True)


async def test_a_first_statement_that_fails_leaves_the_session_usable(
    committed_db: Database,
) -> None:
    """BEGIN and a failing statement in one round trip: the driver's error is SQLAlchemy's, the
    transaction is rolled back, and the session's next statement begins a new one (with its
    BEGIN in its own round trip again)."""
    async with committed_db.sessionmaker() as session, wire(committed_db) as trips:
        with pytest.raises(exc.DBAPIError, match="division by zero"):
            await fetch_one(session, "SELECT 1 / 0", {})
        await session.rollback()
        row = await fetch_one(session, "SELECT txid_current_if_assigned() IS NULL", {})
        assert row == (True,)
        assert (await session.execute(text("SELECT 1"))).scalar_one() == 1  # the same transaction
        await session.rollback()
    failed, *rest = trips
    assert [m.split(" ")[0] for m in failed] == ["Parse", "Bind", "Describe", "Execute"] * 2 + [
        "Sync"
    ]
    assert (_has(failed, '"BEGIN"'), _has(failed, "1 / 0")) == (True, True), failed
    (next_first,) = [trip for trip in rest if _has(trip, "txid_current_if_assigned")]
    assert (_has(next_first, '"BEGIN"'), next_first[-1]) == (True, "Sync"), next_first
    assert sum(_has(trip, '"BEGIN"') for trip in trips) == 2, trips


async def test_a_final_write_as_first_statement_commits_in_the_same_round_trip(
    committed_db: Database, admin_engine: Any
) -> None:
    async with committed_db.sessionmaker() as session, wire(committed_db) as trips:
        session.info[FINAL_WRITE] = True
        row = await fetch_one(
            session, "SELECT txid_current()::text, pg_current_xact_id_if_assigned()", {}, final=True
        )
        assert row is not None
        await session.commit()  # nothing left to commit
    assert len(trips) == 1, trips
    assert (_has(trips[0], '"BEGIN"'), _has(trips[0], '"COMMIT"')) == (True, True), trips
    async with admin_engine.connect() as conn:
        status = await conn.scalar(text("SELECT txid_status(CAST(:x AS bigint))"), {"x": row[0]})
    assert status == "committed"
