"""The request gate: who is asking, and what they are to the organization and event the address
names, in ONE statement on the request's own transaction (the `request_gate` SQL function,
migration 0030), instead of the three to six the loaders spend one query at a time.

`accounts.deps.get_actor` runs it once per request. What it loads beyond the caller depends on the
route: the dependencies that load an organization, event or team (`events.deps.event_access`,
`orgs.deps.org_access`, `teams.deps.team_view`, the page dependencies in `web.deps`) are marked
with `loads(...)`, and a route whose dependency tree holds a mark has the gate fetch that part
too (`route_needs`, read once per route). The function sets the actor and the tenant for the rest
of the transaction, as `tenancy.set_actor`/`set_tenant` would, and returns the rows whole, built
here into the ORM objects the loaders would have read.

The gate decides nothing but the token: every rule stays in the loaders, which take what the gate
fetched for them (`take_event`, `take_org`, `take_team`) instead of querying — once, during the
dependencies (a second load of the same thing, or any load after a flush, a savepoint rollback
or `db.release`, queries as before). tests/accounts/test_request_gate.py and
tests/teams/test_gate_team.py hold both paths to the same answers over a matrix of callers and
addresses.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
import structlog
from psycopg_pool import AsyncConnectionPool, PoolClosed, PoolTimeout
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from hackops.db import get_session
from hackops.models import AuthToken, Event, Organization, Registration, Team, TeamMember, User
from hackops.rows import detached, fetch_one, hydrate, width
from hackops.tenancy import PREFETCH_KEY, note_tenant

log = structlog.get_logger("hackops.gate")

EVENT, ORG, TEAM, UNREAD = "event", "org", "team", "unread"
#: Not a mark: a route part meaning "something besides the caller uses the request's session".
SESSION = "session"
#: The mark of the dependency that resolves the caller (`accounts.deps.get_actor`).
CALLER = "caller"
_MARK = "__hackops_gate__"
MAX_SLUG = 63

F = TypeVar("F", bound=Callable[..., Any])


def loads(part: str) -> Callable[[F], F]:
    """Mark a dependency that loads `part` (EVENT: the `slug` and `event_slug` of the address;
    ORG: its `slug`, for a signed-in caller; TEAM: the event's team `team_id`, with the caller's
    membership; UNREAD: the caller's unread count), so the gate of a route that depends on it
    fetches that part in its one statement."""

    def mark(function: F) -> F:
        setattr(function, _MARK, part)
        return function

    return mark


def _parts(dependant: Any, found: set[str]) -> set[str]:
    part = getattr(dependant.call, _MARK, None)
    if part == CALLER:
        return found  # its own session is the gate's
    if part is not None:
        found.add(part)
    if dependant.call is get_session:
        found.add(SESSION)
    for sub in dependant.dependencies:
        _parts(sub, found)
    return found


_ROUTE_PARTS = "_hackops_gate_parts"


def route_parts(route: Any) -> frozenset[str]:
    """The parts a route's dependency tree loads (worked out once per route)."""
    parts: frozenset[str] | None = getattr(route, _ROUTE_PARTS, None)
    if parts is None:
        dependant = getattr(route, "dependant", None)
        parts = frozenset(_parts(dependant, set())) if dependant is not None else frozenset()
        setattr(route, _ROUTE_PARTS, parts)
    return parts


@dataclass(frozen=True)
class Needs:
    """What one request's gate fetches beyond the caller. `alone`: nothing else of the route
    uses the request's session (the caller is all it reads: `GET /api/v1/me`), so the gate may
    run on the autocommit read pool (`run_on_pool`)."""

    org_slug: str | None = None
    event_slug: str | None = None
    unread: bool = False
    alone: bool = False
    team_id: uuid.UUID | None = None


NOTHING = Needs()


def _slug(value: object) -> str | None:
    """A path value that could name something (a longer one, or one the driver refuses, is left
    to the route's own validation: the loader then queries, or never runs)."""
    if isinstance(value, str) and 0 < len(value) <= MAX_SLUG and "\x00" not in value:
        return value
    return None


def _uuid(value: object) -> uuid.UUID | None:
    """A path value that is a team's id (anything else is left to the route's validation)."""
    if isinstance(value, str) and len(value) <= 36:
        try:
            return uuid.UUID(value)
        except ValueError:
            return None
    return None


def route_needs(route: Any, path_params: dict[str, Any], method: str) -> Needs:
    parts = route_parts(route) if route is not None else frozenset({SESSION})
    if not parts:
        return Needs(alone=route is not None)
    org_slug = event_slug = None
    if EVENT in parts or ORG in parts:
        org_slug = _slug(path_params.get("slug"))
    if EVENT in parts and org_slug is not None:
        event_slug = _slug(path_params.get("event_slug"))
        if event_slug is None and ORG not in parts:
            org_slug = None
    team_id = _uuid(path_params.get("team_id")) if TEAM in parts and event_slug else None
    return Needs(
        org_slug, event_slug, UNREAD in parts and method in ("GET", "HEAD"), team_id=team_id
    )


# --- the statement ----------------------------------------------------------------------------

_ROWS: tuple[tuple[str, Any], ...] = (
    ("o_token", AuthToken),
    ("o_user", User),
    ("o_org", Organization),
    ("o_event", Event),
    ("o_registration", Registration),
    ("o_team", Team),
    ("o_membership", TeamMember),
)


def _statement(rows: int) -> str:
    """The gate's SELECT over the first `rows` of `_ROWS` (a caller-only read parses no null
    organization, event or registration columns), in the driver's syntax (`hackops.rows`)."""
    sql = ["g.o_outcome", "g.o_unread", "g.o_org_role", "g.o_event_roles"]
    for out, model in _ROWS[:rows]:
        sql.extend(f'(g.{out})."{column.name}"' for column in model.__table__.columns)
    # Column names from the models, values bound: nothing from a request is spliced in.
    return (
        f"SELECT {', '.join(sql)}"  # noqa: S608
        " FROM request_gate(%(token)s, %(bearer)s, %(org)s, %(event)s, %(unread)s, %(team)s) AS g"
    )


#: By what is asked: the caller only; with the organization; with the event; with a team too.
_CALLER, _WITH_ORG, _WITH_EVENT = _statement(2), _statement(3), _statement(5)
_WITH_TEAM = _statement(7)


def _objects(session: AsyncSession, values: tuple[Any, ...], rows: int) -> list[Any]:
    """The gate's objects from its row after the four leading values: None where a part's
    columns are null (nothing found, or not asked)."""
    found: list[Any] = []
    at = 4
    for _, model in _ROWS[:rows]:
        part = values[at : at + width(model)]
        at += len(part)
        found.append(None if part[0] is None else hydrate(session, model, part))
    return found


@dataclass(frozen=True)
class Prefetched:
    """What the gate read for a loader: None where there is none (or it was not looked up)."""

    org: Organization | None
    org_role: str | None
    event: Event | None = None
    event_roles: frozenset[str] = frozenset()
    registration: Registration | None = None


@dataclass(frozen=True)
class PrefetchedTeam:
    """What the gate read for the team loader: the live team of the event (None: no such team),
    and the caller's membership in it."""

    team: Team | None
    membership: TeamMember | None


@dataclass(frozen=True)
class Caller:
    """The gate's answer about the caller: `invalid` for a bearer token that does not resolve."""

    invalid: bool
    token: AuthToken | None
    user: User | None
    unread: int | None


async def run(
    session: AsyncSession, token_hash: str | None, *, bearer: bool, needs: Needs = NOTHING
) -> Caller:
    """Resolve the caller (and what `needs` names) in one statement; sets the actor and the tenant
    in the session's transaction and leaves what the loaders need for `take_event`/`take_org`/
    `take_team`."""
    statement, rows = (_CALLER, 2) if needs.org_slug is None else (_WITH_ORG, 3)
    if needs.event_slug is not None:
        statement, rows = (_WITH_EVENT, 5) if needs.team_id is None else (_WITH_TEAM, 7)
    row = await fetch_one(
        session,
        statement,
        {
            "token": token_hash,
            "bearer": bearer,
            "org": needs.org_slug,
            "event": needs.event_slug,
            "unread": needs.unread,
            "team": needs.team_id,
        },
    )
    assert row is not None  # the function returns one row whatever it finds
    outcome, unread, org_role, event_roles = row[:4]
    token, user, *rest = _objects(session, row, rows)
    org, event_, registration, team, membership = (*rest, None, None, None, None, None)[:5]
    if outcome == "invalid_token":
        return Caller(True, None, None, None)
    user_id = user.id if user is not None else None
    if needs.org_slug is not None and (needs.event_slug is not None or user is not None):
        if org is not None:
            note_tenant(session, org.id)
        store: dict[tuple[Any, ...], Prefetched | PrefetchedTeam] = {}
        if user is not None:
            store[(ORG, needs.org_slug, user_id)] = Prefetched(org, org_role)
        if needs.event_slug is not None:
            store[(EVENT, needs.org_slug, needs.event_slug, user_id)] = Prefetched(
                org, org_role, event_, frozenset(event_roles or ()), registration
            )
            if needs.team_id is not None and event_ is not None and user is not None:
                store[(TEAM, event_.id, needs.team_id, user_id)] = PrefetchedTeam(team, membership)
        session.info[PREFETCH_KEY] = store
    return Caller(False, token, user, None if unread is None else int(unread))


_POOL_COLUMNS = [
    f'(g.{out})."{column.name}"' for out, model in _ROWS[:2] for column in model.__table__.columns
]
_POOL_SQL = (
    f"SELECT g.o_outcome, {', '.join(_POOL_COLUMNS)}"  # noqa: S608 - model column names only
    " FROM request_gate(%(token)s, %(bearer)s, NULL, NULL, false) AS g"
)


async def run_on_pool(pool: AsyncConnectionPool, token_hash: str, *, bearer: bool) -> Caller | None:
    """The caller alone in one autocommit round trip on the raw read pool (no session, no
    BEGIN/COMMIT: the route reads nothing else; the token's touch commits with the statement).
    Objects are detached. None when the pool cannot answer: the caller takes the session path."""
    try:
        async with pool.connection() as conn:
            cursor = await conn.execute(_POOL_SQL, {"token": token_hash, "bearer": bearer})
            row = await cursor.fetchone()
    except (psycopg.Error, PoolTimeout, PoolClosed) as exc:
        log.warning("request_gate_pool_unavailable", error=str(exc))
        return None
    if row is None:
        return None
    if row[0] == "invalid_token":
        return Caller(True, None, None, None)
    width = len(AuthToken.__table__.columns)
    if row[1] is None:
        return Caller(False, None, None, None)
    # Built as `rows.hydrate` builds them, attached to no session (827 -> 694 µs of CPU for
    # `GET /api/v1/me` against the models' constructors, bench/request_profile.py).
    token = detached(AuthToken, row[1 : 1 + width])
    return Caller(False, token, detached(User, row[1 + width :]), None)


def _take(session: AsyncSession, key: tuple[Any, ...]) -> Any:
    store: dict[tuple[Any, ...], Any] | None = session.info.get(PREFETCH_KEY)
    if not store:
        return None
    return store.pop(key, None)


def take_event(
    session: AsyncSession, org_slug: str, event_slug: str, user_id: uuid.UUID | None
) -> Prefetched | None:
    """What the gate read for `load_event_access(org_slug, event_slug)` by this caller, once."""
    fetched: Prefetched | None = _take(session, (EVENT, org_slug, event_slug, user_id))
    return fetched


def take_org(session: AsyncSession, org_slug: str, user_id: uuid.UUID) -> Prefetched | None:
    """What the gate read for `load_org_access(org_slug)` by this caller, once."""
    fetched: Prefetched | None = _take(session, (ORG, org_slug, user_id))
    return fetched


def take_team(
    session: AsyncSession, event_id: uuid.UUID, team_id: uuid.UUID, user_id: uuid.UUID | None
) -> PrefetchedTeam | None:
    """What the gate read for `load_team(event, team_id)` by this caller, once."""
    fetched: PrefetchedTeam | None = _take(session, (TEAM, event_id, team_id, user_id))
    return fetched


@event.listens_for(Session, "after_flush")
def _stale_after_a_write(session: Session, context: Any) -> None:
    """A write may change what a loader would read (a new registration, a role): query again."""
    session.info.pop(PREFETCH_KEY, None)
