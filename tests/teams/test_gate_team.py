"""The request gate reads the team a team route names (migration 0038) as `teams.access.load_team`
would read it: a matrix of callers (members, captains, another team's captain, a registered
participant, an organizer, a mentor, an outsider, a platform admin, anonymous) x teams (their
own, another, a disbanded one, one of another event, an unknown id):

- framework-free: both paths in fresh sessions, comparing what the team loader returns or
  raises — and after the gate, the event and team loaders spend no statement;
- over HTTP: the team routes answer every caller the same with the gate on and off.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops import gate
from hackops.accounts.auth_tokens import resolve_token
from hackops.accounts.credentials import digest
from hackops.actor import Actor
from hackops.errors import AppError
from hackops.events.access import load_event_access
from hackops.models import User
from hackops.teams.access import load_team
from hackops.tenancy import set_actor, set_tenant
from tests.accounts.test_request_gate import World, run_path, same_answers
from tests.factories import (
    create_event,
    create_event_role,
    create_organization,
    create_registration,
    create_team,
    create_team_member,
    create_user,
)
from tests.helpers import count_queries
from tests.people import sign_in_token

NOW = datetime.now(UTC)
PEOPLE = (
    "captain", "member", "other_captain", "participant", "organizer", "mentor", "outsider",
    "platform_admin",
)  # fmt: skip


async def team_world(session: AsyncSession) -> tuple[World, dict[str, uuid.UUID]]:
    org = await create_organization(session, slug=f"teams-{secrets.token_hex(3)}")
    published = {"published_at": NOW - timedelta(days=1)}
    event = await create_event(session, org, slug="hack", **published)
    other = await create_event(session, org, slug="other", **published)
    users: dict[str, User] = {}
    w = World(org.slug, "", "")
    for name in PEOPLE:
        users[name] = await create_user(
            session,
            email=f"{name}-{secrets.token_hex(3)}@example.com",
            is_platform_admin=name == "platform_admin",
        )
        w.tokens[name] = await sign_in_token(session, users[name])
    for name in ("captain", "member", "other_captain", "participant"):
        await create_registration(session, event, users[name])
    await create_event_role(session, event, users["organizer"], role="organizer")
    await create_event_role(session, event, users["mentor"], role="mentor")
    own = await create_team(session, event, users["captain"])
    await create_team_member(session, own, users["member"])
    another = await create_team(session, event, users["other_captain"])
    disbanded = await create_team(session, event, disbanded_at=NOW)
    elsewhere = await create_team(session, other)
    await set_tenant(session, None)
    await set_actor(session, None)
    w.events = [(org.slug, "hack")]
    teams = {
        "own": own.id,
        "another": another.id,
        "disbanded": disbanded.id,
        "elsewhere": elsewhere.id,
        "unknown": uuid.uuid4(),
    }
    return w, teams


async def _load(
    session: AsyncSession, actor: Actor, org_slug: str, team_id: uuid.UUID
) -> tuple[Any, ...]:
    try:
        access = await load_event_access(session, actor, org_slug, "hack")
        view = await load_team(session, access, team_id)
    except AppError as exc:
        return ("refused", exc.code)
    membership = view.membership
    return (view.team.id, view.team.name, membership.role if membership else None)


async def reference(
    session: AsyncSession, raw: str | None, org_slug: str, team_id: uuid.UUID
) -> tuple[Any, ...]:
    user = None
    if raw:
        resolved = await resolve_token(session, raw)
        assert resolved is not None
        user = resolved[1]
        await set_actor(session, user.id, platform_admin=user.is_platform_admin)
    return await _load(session, Actor(user=user), org_slug, team_id)


async def through_the_gate(
    session: AsyncSession, raw: str | None, org_slug: str, team_id: uuid.UUID
) -> tuple[Any, ...]:
    needs = gate.Needs(org_slug, "hack", team_id=team_id)
    caller = await gate.run(session, digest(raw) if raw else None, bearer=True, needs=needs)
    actor = Actor(user=caller.user)
    with count_queries(await session.connection()) as log:
        loaded = await _load(session, actor, org_slug, team_id)
    if raw is not None:  # anonymous: the gate reads no team (the loader asks, and refuses)
        assert log.count == 0, log.statements  # the loaders took what the gate read
    return loaded


async def test_the_gate_reads_the_team_the_loader_would(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    w, teams = await team_world(session)
    await session.commit()  # the world in the test's transaction; each path in a savepoint
    seen: set[Any] = set()
    paths: tuple[Any, Any] = (reference, through_the_gate)
    for who, raw in [("anonymous", None), *w.tokens.items()]:
        for name, team_id in teams.items():
            args = (raw, w.org, team_id)
            expected = await run_path(connection, paths[0], *args)
            got = await run_path(connection, paths[1], *args)
            assert got == expected, (who, name)
            seen.add(expected[1] if expected[0] == "refused" else expected[2] or "seen")
    # The matrix reaches every answer: a captain's and a member's view, a non-member's, 404.
    assert seen == {"captain", "member", "seen", "team_not_found"}, seen


def test_a_team_route_asks_the_gate_for_its_team() -> None:
    """`route_needs` of a route that loads a team: the team's id from the path (a value that is
    no id is left to the route's validation)."""

    class Route:
        dependant = None
        _hackops_gate_parts = frozenset({gate.EVENT, gate.TEAM, gate.SESSION})  # as worked out

    route = Route()
    team_id = uuid.uuid4()
    params = {"slug": "acme", "event_slug": "hack", "team_id": str(team_id)}
    assert gate.route_needs(route, params, "POST").team_id == team_id
    assert gate.route_needs(route, {**params, "team_id": "not-an-id"}, "POST").team_id is None
    assert gate.route_needs(route, {**params, "event_slug": None}, "POST").team_id is None


async def test_team_routes_answer_as_without_the_gate(
    app: Any, client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w, teams = await team_world(session)
    api = f"/api/v1/organizations/{w.org}/events/hack"
    requests: list[tuple[str, str, dict[str, Any] | None]] = []
    for team_id in teams.values():
        requests += [
            ("GET", f"{api}/teams/{team_id}", None),
            ("GET", f"{api}/teams/{team_id}/submission", None),
        ]
    requests.append(("GET", f"{api}/teams/not-an-id", None))
    statuses = await same_answers(app, client, w, requests, cookie=False)
    expected = {200, "team_not_found", "submission_not_found", "validation_error"}
    assert statuses == expected, statuses
