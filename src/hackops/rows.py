"""Hot statements on the driver, in the session's transaction, their rows made into ORM objects.

SQLAlchemy's ORM execution of a statement costs about 0.7 M CPU instructions beyond the
driver's (the compiled-cache lookup, result metadata, a row processor per column per execution):
8 % of a registration (bench/request_profile.py under callgrind). The hottest statements (the
request gate's, the one-statement writes) are fixed texts with bound values, so they go to the
driver directly (`fetch_one`), and `hydrate` makes the object SQLAlchemy's loading would have
made: persistent in the session under its identity, the columns through their types' own result
processing (enums), with nothing pending, and with `refresh` (ORM's `populate_existing`) an
object already in the session takes the row's values. What stays SQLAlchemy's: the
transaction (the statement runs on the session's connection and transaction), pending changes
(flushed first, as autoflush would), and errors (a driver error is raised as SQLAlchemy's
`DBAPIError` for it, so `errors.py` answers it as before).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import exc, inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import configure_mappers
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.sql import sqltypes

from hackops.db import FINAL_WRITE, raw_connection

M = TypeVar("M")

_IDLE = TransactionStatus.IDLE
_NAMED = re.compile(r"(?<![:\w]):(\w+)")


def driver_sql(sql: str) -> str:
    """A text with SQLAlchemy's `:name` parameters as the driver's `%(name)s` (a `::` cast is
    left alone; a literal `%` would be doubled, and none of ours has one)."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


async def fetch_one(
    session: AsyncSession, sql: str, params: Mapping[str, Any], *, final: bool = False
) -> tuple[Any, ...] | None:
    """The first row of `sql` (driver syntax, `driver_sql`) in the session's transaction.

    As its transaction's first statement (the request gate, on every authenticated route), the
    BEGIN goes in the same round trip. `final`: the caller's last statement of the transaction.
    When the route allows it (`db.final_write_session`) and no savepoint is open, the COMMIT
    goes in the same round trip too (the driver's pipeline, one Sync: `_send`): the transaction
    ends with the statement, and the request's own commit then has nothing left to do."""
    rows = await _run(session, sql, params, final=final, every=False)
    return rows[0] if rows else None


async def fetch_all(
    session: AsyncSession, sql: str, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Every row of `sql` (driver syntax) in the session's transaction, as `fetch_one`."""
    return await _run(session, sql, params, final=False, every=True)


async def _run(
    session: AsyncSession, sql: str, params: Mapping[str, Any], *, final: bool, every: bool
) -> list[tuple[Any, ...]]:
    sync = session.sync_session
    if sync.new or sync.deleted or sync.dirty:
        await session.flush()
    commit = final and session.info.pop(FINAL_WRITE, False) and not session.in_nested_transaction()
    conn = await raw_connection(session)
    begin = not conn.autocommit and conn.pgconn.transaction_status == _IDLE
    cursor = conn.cursor()
    try:
        if begin or commit:
            # One round trip: BEGIN, the statement and COMMIT as the transaction needs them,
            # then one Sync (`_send`).
            async with conn.pipeline() as pipeline:
                if begin:
                    _send(conn, pipeline, conn._get_tx_start_command())
                await cursor.execute(sql, params)
                if commit:
                    _send(conn, pipeline, b"COMMIT")
        else:
            await cursor.execute(sql, params)
        if every:
            rows: list[tuple[Any, ...]] = await cursor.fetchall()
            return rows
        row = await cursor.fetchone()
        return [] if row is None else [row]
    except psycopg.Error as error:
        raise exc.DBAPIError.instance(
            sql, dict(params), error, psycopg.Error, dialect=session.get_bind().dialect
        ) from error
    finally:
        await cursor.close()


def _send(conn: Any, pipeline: Any, command: bytes) -> None:
    """Send `command` (BEGIN, COMMIT) in the open pipeline, answered at the pipeline's Sync.

    psycopg's own BEGIN (before a statement) and `commit()` in a pipeline each end with a Sync
    and wait for it: a round trip of their own. Sent here, the pipeline's exit sends its one
    Sync for everything. Sent to libpq at once, in order (psycopg has sent what it queued),
    and a BEGIN sent makes the transaction ACTIVE, so the statement's own start sends no other.
    The result is checked as psycopg checks its own commands' (`result_queue`: None)."""
    if pipeline.command_queue:
        raise RuntimeError("the pipeline has unsent commands")
    conn.pgconn.send_query_params(command, None)
    pipeline.result_queue.append(None)


class Compiled:
    """A Core statement (built once, at module level) compiled once for the driver: its SQL,
    and its bound values processed as SQLAlchemy would (the columns' types: JSON, enums)."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: Any = None
        self.sql = ""

    def params(self, session: AsyncSession, values: Mapping[str, Any]) -> dict[str, Any]:
        compiled = self._compiled
        if compiled is None:
            compiled = self.statement.compile(dialect=session.get_bind().dialect)
            if "POSTCOMPILE" in compiled.string:
                raise ValueError("a statement with expanding or literal parameters")
            self.sql, self._compiled = compiled.string, compiled
        params: dict[str, Any] = compiled.construct_params(values)
        for name, process in compiled._bind_processors.items():
            value = params.get(name)
            if value is not None:
                params[name] = process(value)
        return params

    async def fetch_one(
        self, session: AsyncSession, values: Mapping[str, Any], *, final: bool = False
    ) -> tuple[Any, ...] | None:
        """`rows.fetch_one` of this statement with `values` (compiled on first use)."""
        params = self.params(session, values)  # first: it sets `sql` on the first call
        return await fetch_one(session, self.sql, params, final=final)

    async def fetch_all(
        self, session: AsyncSession, values: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """`rows.fetch_all` of this statement with `values` (compiled on first use)."""
        params = self.params(session, values)
        return await fetch_all(session, self.sql, params)


_READERS: dict[type, tuple[tuple[str, Any], ...]] = {}


def _readers(model: type, dialect: Any) -> tuple[tuple[str, Any], ...]:
    readers = _READERS.get(model)
    if readers is None:
        # The mappers' attributes as a query or a constructor would have set them up (no
        # query or constructor may have run yet in this process).
        configure_mappers()
        table = model.__table__  # type: ignore[attr-defined]
        readers = tuple(
            (c.key, c.type._cached_result_processor(dialect, _type_code(c.type)))
            for c in table.columns
        )
        _READERS[model] = readers
    return readers


def _type_code(kind: Any) -> int | None:
    """The type code the driver reports for a column of `kind`, where SQLAlchemy's result
    processing depends on it (a numeric column: float or decimal); None elsewhere."""
    if isinstance(kind, sqltypes.Float):
        return FLOAT8_OID
    if isinstance(kind, sqltypes.Numeric):
        return NUMERIC_OID
    return None


FLOAT8_OID, NUMERIC_OID = 701, 1700


def width(model: type) -> int:
    """How many values of a row `hydrate` takes for `model` (its table's columns)."""
    return len(model.__table__.columns)  # type: ignore[attr-defined]


def _loaded(model: type, values: Sequence[Any], dialect: Any) -> dict[str, Any]:
    """The attributes of a row of `model`'s table's columns, through the columns' types."""
    return {
        key: value if read is None or value is None else read(value)
        for (key, read), value in zip(_readers(model, dialect), values, strict=True)
    }


_DIALECT = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]


def detached(model: type[M], values: Sequence[Any]) -> M:
    """The `model` object of a row, as `hydrate` builds it, attached to no session: for a read
    on the raw read pool that no session will see (`gate.run_on_pool`)."""
    loaded = _loaded(model, values, _DIALECT)  # first: it configures the mappers if need be
    instance = model.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    instance.__dict__.update(loaded)
    return instance  # type: ignore[no-any-return]


def hydrate(
    session: AsyncSession, model: type[M], values: Sequence[Any], *, refresh: bool = False
) -> M:
    """The `model` object of a row of its table's columns, in table order, as the ORM would
    have loaded it into `session` (the module's docstring)."""
    sync = session.sync_session
    loaded = _loaded(model, values, sync.get_bind().dialect)
    mapper = model.__mapper__  # type: ignore[attr-defined]
    identity = mapper.identity_key_from_primary_key(
        [loaded[column.key] for column in mapper.primary_key]
    )
    existing = sync.identity_map.get(identity)
    if existing is not None:
        if refresh:
            state = inspect(existing)
            existing.__dict__.update(loaded)
            state._commit_all(state.dict)
        return existing  # type: ignore[no-any-return]
    # As the ORM's loading attaches an object it has just read (`loading._instance`): the
    # identity, the session, the identity map, the loaded values as the committed state.
    instance = mapper.class_manager.new_instance()
    state = instance_state(instance)
    state.key = identity
    state.identity_token = None
    state.session_id = sync.hash_key
    sync.identity_map._add_unpresent(state, identity)
    instance.__dict__.update(loaded)
    state._commit_all(state.dict, sync.identity_map)
    return instance  # type: ignore[no-any-return]
