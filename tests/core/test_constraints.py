"""`constraints.savepoint`: a violated constraint named in the mapping becomes its error, any other
violation propagates unchanged, and either way only the savepoint is rolled back."""

from __future__ import annotations

import pytest
from sqlalchemy import TextClause, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.constraints import constraint_name, savepoint
from hackops.errors import Conflict


class Taken(Conflict):
    code = "probe_taken"
    message = "Taken."


def violation(name: str, errcode: str = "unique_violation") -> TextClause:
    """A statement failing as a constraint (or a trigger raising with CONSTRAINT) named `name`."""
    return text(
        f"DO $$ BEGIN RAISE EXCEPTION 'probe' USING ERRCODE = '{errcode}',"
        f" CONSTRAINT = '{name}'; END $$"
    )


async def test_a_mapped_constraint_becomes_its_error_and_the_transaction_goes_on(
    session: AsyncSession,
) -> None:
    with pytest.raises(Taken) as raised:
        async with savepoint(session, {"uq_probe": Taken}):
            await session.execute(violation("uq_probe"))
    assert (raised.value.status_code, raised.value.code) == (409, "probe_taken")
    assert isinstance(raised.value.__cause__, IntegrityError)
    assert await session.scalar(text("SELECT 1")) == 1


async def test_a_trigger_raising_with_a_constraint_name_is_mapped_too(
    session: AsyncSession,
) -> None:
    with pytest.raises(Taken):
        async with savepoint(session, {"ck_probe": Taken}):
            await session.execute(violation("ck_probe", "check_violation"))


async def test_an_unmapped_constraint_propagates_unchanged(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError) as raised:
        async with savepoint(session, {"uq_probe": Taken}):
            await session.execute(violation("uq_other"))
    assert constraint_name(raised.value) == "uq_other"
    assert await session.scalar(text("SELECT 1")) == 1


async def test_other_errors_and_success_pass_through(session: AsyncSession) -> None:
    with pytest.raises(LookupError):
        async with savepoint(session, {"uq_probe": Taken}):
            raise LookupError
    async with savepoint(session, {"uq_probe": Taken}):
        assert await session.scalar(text("SELECT 2")) == 2
