"""`hackops.rows`: a row fetched on the driver and hydrated is the object the ORM would have
loaded (every column, through its type), persistent in the session, the same identity."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

import pytest
from sqlalchemy import exc, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import (
    AuthToken,
    Evaluation,
    Event,
    Registration,
    Task,
    Team,
    TeamMember,
    User,
)
from hackops.rows import driver_sql, fetch_all, fetch_one, hydrate
from hackops.tenancy import set_actor
from tests.factories import (
    create_auth_token,
    create_evaluation,
    create_registration,
    create_task,
    create_team,
    create_user,
)


def _columns(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in type(obj).__table__.columns}


async def _by_orm(session: AsyncSession, model: Any, id_: Any) -> dict[str, Any]:
    await session.flush()
    session.expunge_all()
    obj = (await session.execute(select(model).where(model.id == id_))).scalar_one()
    values = _columns(obj)
    session.expunge_all()
    return values


async def test_hydrated_objects_equal_what_the_orm_loads(session: AsyncSession) -> None:
    user = await create_user(session)
    registration = await create_registration(
        session, user=user, answers={"size": "M", "diet": ["vegan"]}
    )
    token = await create_auth_token(session, user=user)
    evaluation = await create_evaluation(session, raw_score=71.25, scores={"c": 3.5})
    team = await create_team(session)
    task = await create_task(session, team)
    membership = (
        await session.execute(select(TeamMember).where(TeamMember.team_id == team.id))
    ).scalar_one()
    await set_actor(session, registration.user_id, platform_admin=True)
    cases = [
        (Event, registration.event_id),
        (Registration, registration.id),
        (User, registration.user_id),
        (AuthToken, token.id),
        (Evaluation, evaluation.id),  # a float column: the driver's type code decides
        (Team, team.id),
        (TeamMember, membership.id),  # an enum column (its role)
        (Task, task.id),  # enums and a date
    ]
    for model, id_ in cases:
        expected = await _by_orm(session, model, id_)
        table = model.__table__.name
        # the model's columns in its table's order (the database's own order may differ)
        columns = ", ".join(f'"{c.name}"' for c in model.__table__.columns)
        row = await fetch_one(
            session,
            driver_sql(f"SELECT {columns} FROM {table} WHERE id = :id"),
            {"id": id_},
        )
        assert row is not None
        obj = hydrate(session, model, row)
        assert _columns(obj) == expected, model
        assert {k: type(v) for k, v in _columns(obj).items()} == {
            k: type(v) for k, v in expected.items()
        }, model
        state = inspect(obj)
        assert state.persistent
        assert not state.modified
        # the same identity: the ORM's own query returns this very object
        again = (await session.execute(select(model).where(model.id == id_))).scalar_one()
        assert again is obj
        # refresh takes the row's values into the object the session holds
        row2 = await fetch_one(
            session,
            driver_sql(f"SELECT {columns} FROM {table} WHERE id = :id"),
            {"id": id_},
        )
        assert hydrate(session, model, row2 or (), refresh=True) is obj


async def test_a_driver_error_is_sqlalchemys_and_pending_changes_are_flushed_first(
    session: AsyncSession,
) -> None:
    registration = await create_registration(session)
    await set_actor(session, registration.user_id, platform_admin=True)
    registration.answers = {"changed": True}  # pending: the statement must see it
    row = await fetch_one(
        session,
        driver_sql("SELECT answers FROM registrations WHERE id = :id"),
        {"id": registration.id},
    )
    assert row == ({"changed": True},)
    await session.execute(text("SAVEPOINT before_error"))
    with pytest.raises(exc.IntegrityError):
        await fetch_one(
            session,
            driver_sql("INSERT INTO users (id, email) VALUES (:id, :email) RETURNING id"),
            {"id": registration.user_id, "email": "dup@example.org"},
        )
    await session.execute(text("ROLLBACK TO SAVEPOINT before_error"))


async def test_fetch_all_reads_every_row_in_the_sessions_transaction(
    session: AsyncSession,
) -> None:
    first = await create_user(session)
    second = await create_user(session)  # not committed: only this transaction sees them
    rows = await fetch_all(
        session,
        driver_sql("SELECT id FROM users WHERE id = ANY(:ids) ORDER BY email"),
        {"ids": [first.id, second.id]},
    )
    assert sorted(r[0] for r in rows) == sorted([first.id, second.id])
    nobody = await fetch_all(
        session, driver_sql("SELECT id FROM users WHERE id = :id"), {"id": uuid.uuid4()}
    )
    assert nobody == []


def test_the_first_hydrate_of_a_process_configures_the_mappers() -> None:
    """A fresh process whose first ORM work is a hydrate (the first request's gate)."""
    code = (
        "from sqlalchemy import inspect\n"
        "from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine\n"
        "from hackops.models import User\n"
        "from hackops.rows import hydrate, width\n"
        "import uuid\n"
        "session = AsyncSession(create_async_engine('postgresql+psycopg://nobody@127.0.0.1/none'))\n"
        "values = [None] * width(User)\n"
        "keys = [c.key for c in User.__table__.columns]\n"
        "values[keys.index('id')] = uuid.uuid4()\n"
        "user = hydrate(session, User, values)\n"
        "assert inspect(user).persistent\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr
