"""The request gate (`hackops.gate`, SQL `request_gate`, migration 0030) reads and sets exactly what
the reference dependency chain does: `auth_tokens.resolve_token` + `set_actor`, then
`load_event_access` / `load_org_access` and the pages' unread count, one query at a time.

A matrix of callers (anonymous; every role as bearer and as cookie; made-up, expired, revoked,
stale, read-only API tokens; disabled and deleted accounts; another tenant's owner; a platform
admin) x addresses (public, unlisted, draft and private events, an unknown event, a deleted
organization, another organization, an unknown one):

- framework-free: both paths in fresh sessions on the test's connection, comparing the caller,
  what each loader returns or raises, the actor and tenant left set, the token's `last_used_at`
  and the unread count — and the loaders after the gate spend no statement;
- over HTTP: the same app with the gate on and off (`Settings.request_gate`) answers every caller
  the same status, error code and JSON body on API reads and writes, and pages.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops import gate
from hackops.accounts.auth_tokens import resolve_token
from hackops.accounts.credentials import digest
from hackops.actor import Actor
from hackops.errors import AppError
from hackops.events.access import load_event_access
from hackops.models import User
from hackops.notifications.centre import unread_count
from hackops.orgs.access import load_org_access
from hackops.tenancy import set_actor, set_tenant
from tests.factories import (
    create_event,
    create_event_role,
    create_membership,
    create_notification,
    create_organization,
    create_registration,
    create_user,
)
from tests.helpers import count_queries, rollback_sessionmaker
from tests.people import sign_in_token

NOW = datetime.now(UTC)
ROLES = (
    "owner", "admin", "organizer", "member", "event_organizer", "judge", "mentor",
    "participant", "outsider", "platform_admin", "disabled", "deleted", "elsewhere",
)  # fmt: skip


@dataclass
class World:
    org: str
    gone: str
    other: str
    tokens: dict[str, str] = field(default_factory=dict)
    events: list[tuple[str, str]] = field(default_factory=list)
    orgs: list[str] = field(default_factory=list)


async def world(session: AsyncSession) -> World:
    org = await create_organization(session, slug=f"gate-{secrets.token_hex(3)}")
    gone = await create_organization(session, slug=f"gone-{secrets.token_hex(3)}")
    other = await create_organization(session, slug=f"other-{secrets.token_hex(3)}")
    w = World(org.slug, gone.slug, other.slug)
    published = {"published_at": NOW - timedelta(days=1)}
    events = {
        "public": await create_event(session, org, slug="public", **published),
        "unlisted": await create_event(
            session, org, slug="unlisted", visibility="unlisted", **published
        ),
        "draft": await create_event(session, org, slug="draft"),
        "private": await create_event(
            session, org, slug="private", visibility="private", **published
        ),
    }
    gone_event = await create_event(session, gone, slug="public", **published)
    elsewhere = await create_event(session, other, slug="public", **published)
    users: dict[str, User] = {}
    for name in ROLES:
        extra: dict[str, Any] = {}
        if name == "platform_admin":
            extra["is_platform_admin"] = True
        if name == "disabled":
            extra["disabled_at"] = NOW
        if name == "deleted":
            extra["deleted_at"] = NOW
        users[name] = await create_user(
            session, email=f"{name}-{secrets.token_hex(3)}@example.com", **extra
        )
        w.tokens[name] = await sign_in_token(session, users[name])
    for this in (org, gone):
        for name, role in (("owner", "owner"), ("admin", "admin"), ("organizer", "organizer"),
                           ("member", "member"), ("disabled", "organizer"),
                           ("deleted", "owner")):  # fmt: skip
            await create_membership(session, this, users[name], role=role)
    await create_membership(session, other, users["elsewhere"], role="owner")
    for event in (*events.values(), gone_event):
        for name, role in (("event_organizer", "organizer"), ("judge", "judge"),
                           ("mentor", "mentor"), ("judge", "mentor")):  # fmt: skip
            await create_event_role(session, event, users[name], role=role)
        await create_registration(session, event, users["participant"])
    await create_registration(session, elsewhere, users["participant"], status="waitlisted")
    for _ in range(3):
        await create_notification(session, users["participant"])
    await create_notification(session, users["organizer"], read_at=NOW)
    organizer = users["organizer"]
    w.tokens["expired"] = await sign_in_token(
        session, organizer, expires_at=NOW - timedelta(minutes=1)
    )
    w.tokens["revoked"] = await sign_in_token(session, organizer, revoked_at=NOW)
    w.tokens["stale"] = await sign_in_token(
        session, organizer, last_used_at=NOW - timedelta(hours=1)
    )
    w.tokens["never_used"] = await sign_in_token(session, users["participant"], last_used_at=None)
    w.tokens["read_only"] = "hko_" + secrets.token_urlsafe(24)
    await sign_in_token(
        session, organizer, kind="api", scopes=["read"], token_hash=digest(w.tokens["read_only"])
    )
    w.tokens["made_up"] = "not-a-token-" + secrets.token_urlsafe(16)
    await set_tenant(session, None)
    await set_actor(session, None)
    w.events = [(org.slug, slug) for slug in (*events, "no-such-event")]
    w.events += [(gone.slug, "public"), (other.slug, elsewhere.slug), ("no-such-org", "public")]
    w.orgs = [org.slug, gone.slug, other.slug, "no-such-org"]
    return w


def callers(w: World) -> list[tuple[str, str | None, bool]]:
    """(who, raw token, came as the cookie)."""
    found: list[tuple[str, str | None, bool]] = [("anonymous", None, False)]
    for name, raw in w.tokens.items():
        found += [(f"{name} (bearer)", raw, False), (f"{name} (cookie)", raw, True)]
    return found


# --- framework-free: the gate + the loaders vs the queries ------------------------------------


def _outcome_of_error(exc: AppError) -> tuple[str, str]:
    return ("refused", exc.code)


async def _load(
    session: AsyncSession, actor: Actor, org_slug: str, event_slug: str | None
) -> tuple[Any, ...]:
    """What the loaders a route with this address runs return or raise."""
    found: list[Any] = []
    if event_slug is not None:
        try:
            a = await load_event_access(session, actor, org_slug, event_slug)
            registration = a.registration
            found.append(
                (
                    *(a.org.id, a.event.id, a.event.name, a.org_role, sorted(a.event_roles)),
                    registration.id if registration else None,
                    registration.status if registration else None,
                    *(a.is_organizer, a.is_staff, a.sees_every_team),
                )
            )
        except AppError as exc:
            found.append(_outcome_of_error(exc))
    if actor.user is not None:
        try:
            o = await load_org_access(session, actor.user, actor, org_slug)
            found.append((o.org.id, o.org.name, o.role))
        except AppError as exc:
            found.append(_outcome_of_error(exc))
    return tuple(found)


async def _state(session: AsyncSession, raw: str | None) -> tuple[Any, ...]:
    """The transaction's actor and tenant settings and the token's `last_used_at`."""
    await session.flush()
    settings = (
        await session.execute(
            text(
                "SELECT current_setting('hackops.org_id', true),"
                " current_setting('hackops.user_id', true),"
                " current_setting('hackops.platform_admin', true),"
                " (SELECT last_used_at FROM auth_tokens WHERE token_hash = :h)"
            ),
            {"h": digest(raw) if raw else ""},
        )
    ).one()
    return tuple(settings)


Path = Callable[[AsyncSession, str | None, bool, str, str | None], Awaitable[tuple[Any, ...]]]


async def reference(
    session: AsyncSession, raw: str | None, cookie: bool, org_slug: str, event_slug: str | None
) -> tuple[Any, ...]:
    user = None
    token_id = None
    if raw:
        resolved = await resolve_token(session, raw)
        if resolved is None and not cookie:
            return ("invalid_token",)
        if resolved is not None:
            token, user = resolved
            token_id = token.id
            await set_actor(session, user.id, platform_admin=user.is_platform_admin)
    unread = await unread_count(session, user.id) if user is not None else None
    actor = Actor(user=user)
    loaded = await _load(session, actor, org_slug, event_slug)
    return (user.id if user else None, token_id, unread, loaded, await _state(session, raw))


async def through_the_gate(
    session: AsyncSession, raw: str | None, cookie: bool, org_slug: str, event_slug: str | None
) -> tuple[Any, ...]:
    needs = gate.Needs(org_slug, event_slug, unread=True)
    caller = await gate.run(session, digest(raw) if raw else None, bearer=not cookie, needs=needs)
    if caller.invalid:
        return ("invalid_token",)
    user = caller.user
    actor = Actor(user=user)
    with count_queries(await session.connection()) as log:
        loaded = await _load(session, actor, org_slug, event_slug)
    assert log.count == 0, log.statements  # the loaders took what the gate read
    token_id = caller.token.id if caller.token else None
    return (user.id if user else None, token_id, caller.unread, loaded, await _state(session, raw))


async def run_path(connection: AsyncConnection, path: Path, *args: Any) -> tuple[Any, ...]:
    """One path in a fresh session (fresh tenant context), undone afterwards."""
    maker = rollback_sessionmaker(connection)
    async with maker() as session:
        try:
            return await path(session, *args)
        finally:
            await session.rollback()


async def test_the_gate_reads_and_sets_what_the_loaders_do(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    w = await world(session)
    await session.commit()  # the world in the test's transaction; each path in a savepoint
    seen: dict[str, int] = {}
    targets: list[tuple[str, str | None]] = [*w.events, *((slug, None) for slug in w.orgs)]
    for who, raw, cookie in callers(w):
        for org_slug, event_slug in targets:
            args = (raw, cookie, org_slug, event_slug)
            expected = await run_path(connection, reference, *args)
            got = await run_path(connection, through_the_gate, *args)
            assert got == expected, (who, org_slug, event_slug)
            for loaded in expected[3] if len(expected) > 1 else ():
                kind = loaded[1] if loaded[0] == "refused" else "ok"
                seen[kind] = seen.get(kind, 0) + 1
            if expected == ("invalid_token",):
                seen["invalid_token"] = seen.get("invalid_token", 0) + 1
    # The matrix reaches every answer the loaders give.
    assert set(seen) == {"ok", "event_not_found", "organization_not_found", "invalid_token"}


# --- over HTTP: the same app with the gate on and off ----------------------------------------


def _answer(response: httpx2.Response) -> tuple[Any, ...]:
    kind = response.headers.get("content-type", "")
    body: Any = None
    if kind.startswith("application/json"):
        body = response.json()
    return (response.status_code, response.headers.get("location"), body)


async def same_answers(
    app: Any,
    client: httpx2.AsyncClient,
    w: World,
    requests: list[Request],
    *,
    cookie: bool,
    only: frozenset[str] | None = None,
) -> set[int | str]:
    """Every caller of `w` (bearer callers, or cookie callers) and the anonymous one send every
    request to the app without and with the gate: the same answers. Returns what was seen (the
    status, or the error code of a JSON error)."""
    with_gate = app.state.settings
    without = with_gate.model_copy(update={"request_gate": False})
    statuses: set[int | str] = set()
    try:
        for who, raw, from_cookie in callers(w):
            if raw is not None and from_cookie != cookie:
                continue
            if only is not None and who.split(" ")[0] not in only:
                continue
            headers = {"Authorization": f"Bearer {raw}"} if raw and not from_cookie else {}
            for method, url, body in requests:
                answers = []
                for settings in (without, with_gate):
                    app.state.settings = settings
                    client.cookies.clear()
                    if raw and from_cookie:
                        client.cookies.set("hackops_session", raw)
                    response = await client.request(method, url, headers=headers, json=body)
                    answers.append(_answer(response))
                assert answers[0] == answers[1], (who, method, url)
                status, _, body = answers[0]
                error = body.get("error") if isinstance(body, dict) else None
                statuses.add(error["code"] if error else status)
    finally:
        app.state.settings = with_gate
        client.cookies.clear()
    return statuses


Request = tuple[str, str, dict[str, Any] | None]
ME: list[Request] = [("GET", "/api/v1/me", None), ("PATCH", "/api/v1/me", {"bio": "Builds."})]


async def test_api_routes_answer_as_without_the_gate(
    app: Any, client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await world(session)
    requests = [*ME, ("GET", "/api/v1/me/notifications", None)]
    for org_slug, event_slug in w.events:
        api = f"/api/v1/organizations/{org_slug}/events/{event_slug}"
        requests += [("GET", api, None), ("GET", f"{api}/roles", None)]
    for org_slug in w.orgs:
        api = f"/api/v1/organizations/{org_slug}"
        requests += [("GET", f"{api}/settings", None), ("PATCH", api, {"name": "Renamed"})]
    statuses = await same_answers(app, client, w, requests, cookie=False)
    assert statuses >= {
        200, "not_authenticated", "invalid_token", "insufficient_scope", "insufficient_role",
        "event_not_found", "organization_not_found",
    }, statuses  # fmt: skip


async def test_pages_answer_as_without_the_gate(
    app: Any, client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await world(session)
    requests = list(ME)  # a cookie on the API: writes need the CSRF token
    for slug in ("public", "draft", "private", "no-such-event"):
        page = f"/orgs/{w.org}/events/{slug}"
        requests += [("GET", page, None), ("GET", f"{page}/admin", None)]
    requests.append(("GET", f"/orgs/{w.gone}/events/public", None))
    for org_slug in (w.org, w.gone):
        requests += [("GET", f"/orgs/{org_slug}", None), ("GET", f"/orgs/{org_slug}/members", None)]
    # Pages render (slow): the callers whose pages differ, not every token variant.
    who = frozenset(
        {"anonymous", "owner", "member", "event_organizer", "judge", "participant", "outsider",
         "platform_admin", "disabled", "elsewhere", "expired", "revoked", "made_up"}
    )  # fmt: skip
    statuses = await same_answers(app, client, w, requests, cookie=True, only=who)
    assert statuses >= {200, 303, 403, 404, "csrf_failed", "not_authenticated"}, statuses
