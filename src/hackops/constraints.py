"""Constraint violations as the errors they mean: the one place a constraint name becomes an error.

A service checks its rules first, for a clear error; the database constraints back those checks,
and a concurrent change the checks could not see fails on one of them. The service declares what
each constraint means to its caller, `{constraint name: error class or factory}`, and writes
inside `savepoint(session, errors)`:

- the writes run in a savepoint, so a violation rolls back only them and the transaction stays
  usable (the caller may still read, or answer with the error);
- a violation of a constraint named in `errors` becomes that error, raised from the
  `IntegrityError`;
- any other `IntegrityError` is re-raised unchanged, for the app's handler (409
  `constraint_violation`, `errors.py`), never a 500.

`refused_as(errors)` does the same translation without the savepoint (two round trips fewer),
for a write whose refusal ends the transaction: an API request answers with the error and rolls
back; a form that re-renders runs the call inside its own savepoint (`web.kit.attempt`).

The name is the driver's diagnostic (`constraint_name`): the constraint or unique index named in
the migration, or the CONSTRAINT a trigger raises with. Framework-free, below the domains.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

#: Constraint name -> what its violation means to the caller (an error class or a factory).
ConstraintErrors = Mapping[str, Callable[[], Exception]]


def constraint_name(exc: IntegrityError) -> str | None:
    """The violated constraint's name as PostgreSQL reports it, if it names one."""
    diag = getattr(exc.orig, "diag", None)
    name: str | None = getattr(diag, "constraint_name", None)
    return name


@asynccontextmanager
async def savepoint(session: AsyncSession, errors: ConstraintErrors) -> AsyncIterator[None]:
    """Run the block's writes in a savepoint; a violated constraint named in `errors` raises its
    error, any other `IntegrityError` propagates as it is."""
    try:
        async with session.begin_nested():
            yield
    except IntegrityError as exc:
        error = errors.get(constraint_name(exc) or "")
        if error is None:
            raise
        raise error() from exc


@contextmanager
def refused_as(errors: ConstraintErrors) -> Iterator[None]:
    """`savepoint`'s translation without the savepoint: after a refusal the transaction is
    aborted, so the caller must be about to roll back (or have its own savepoint)."""
    try:
        yield
    except IntegrityError as exc:
        error = errors.get(constraint_name(exc) or "")
        if error is None:
            raise
        raise error() from exc
