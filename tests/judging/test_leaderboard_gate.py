"""The leaderboard's one-statement gate (`leaderboard_gate`, migration 0011) decides exactly what
the request path decides (`get_actor` → `load_event_access` → `organizer_access`).

Every caller of a matrix (roles, bad/expired/revoked tokens, disabled users, bearer and cookie)
reads the board of every target (public, draft and private events, unknown ones, a deleted
organization) twice — the second time from the warm cache — and gets the same status and error
code as the organizers' ranking route, which runs the normal dependency chain."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import digest
from hackops.config import Settings
from hackops.db import Database
from hackops.main import create_app
from hackops.models import AuthToken, EventRoleGrant, Membership, Organization
from hackops.tenancy import set_tenant
from tests.factories import create_event, create_organization, create_registration, create_user
from tests.people import sign_in_token

NOW = datetime.now(UTC)


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)
    targets: list[tuple[str, str]] = field(default_factory=list)


async def world(session: AsyncSession) -> World:
    w = World()
    org = await create_organization(session, slug=f"gate-{secrets.token_hex(3)}")
    gone = await create_organization(session, slug=f"gone-{secrets.token_hex(3)}")
    other = await create_organization(session, slug=f"other-{secrets.token_hex(3)}")
    published = {"published_at": NOW - timedelta(days=1)}
    public = await create_event(session, org, slug="public", **published)
    draft = await create_event(session, org, slug="draft")
    private = await create_event(session, org, slug="private", visibility="private", **published)
    gone_event = await create_event(session, gone, slug="public", **published)
    elsewhere = await create_event(session, other, slug="public", **published)
    gone.deleted_at = NOW
    users = {}
    for name in (
        "owner", "admin", "organizer", "member", "event_organizer", "judge", "mentor",
        "participant", "outsider", "platform_admin", "disabled", "elsewhere",
    ):  # fmt: skip
        extra: dict[str, Any] = {}
        if name == "platform_admin":
            extra["is_platform_admin"] = True
        if name == "disabled":
            extra["disabled_at"] = NOW
        users[name] = await create_user(
            session, email=f"{name}-{secrets.token_hex(3)}@example.com", **extra
        )
        w.tokens[name] = await sign_in_token(session, users[name], scopes=["read"])
    for this in (org, gone):
        await set_tenant(session, this.id)
        for name, role in (("owner", "owner"), ("admin", "admin"), ("organizer", "organizer"),
                           ("member", "member"), ("disabled", "organizer")):  # fmt: skip
            session.add(Membership(org_id=this.id, user_id=users[name].id, role=role))
    await set_tenant(session, other.id)
    session.add(Membership(org_id=other.id, user_id=users["elsewhere"].id, role="owner"))
    await set_tenant(session, org.id)
    for event in (public, draft, private):
        for name, role in (("event_organizer", "organizer"), ("judge", "judge"),
                           ("mentor", "mentor")):  # fmt: skip
            session.add(
                EventRoleGrant(org_id=org.id, event_id=event.id, user_id=users[name].id, role=role)
            )
        await create_registration(session, event, users["participant"])
    await session.flush()
    w.tokens["expired"] = await sign_in_token(
        session, users["organizer"], scopes=["read"], expires_at=NOW - timedelta(minutes=1)
    )
    w.tokens["revoked"] = await sign_in_token(
        session, users["organizer"], scopes=["read"], revoked_at=NOW
    )
    w.tokens["made_up"] = "not-a-token-" + secrets.token_urlsafe(16)
    w.targets = [
        (org.slug, "public"),
        (org.slug, "draft"),
        (org.slug, "private"),
        (org.slug, "no-such-event"),
        (gone.slug, gone_event.slug),
        (other.slug, elsewhere.slug),
        ("no-such-org", "public"),
    ]
    await set_tenant(session, None)
    return w


def outcome(response: httpx2.Response) -> tuple[int, str | None]:
    code = None
    if response.status_code >= 400:
        code = response.json().get("error", {}).get("code")
    return response.status_code, code


async def compare_with_the_request_path(
    client: httpx2.AsyncClient, w: World
) -> dict[tuple[int, str | None], int]:
    """Every caller x every target, cold then warm: the board's answer equals the ranking
    route's (status and error code). Returns how often each answer was seen."""
    callers: list[tuple[str, dict[str, str], dict[str, str]]] = [("anonymous", {}, {})]
    for name, raw in w.tokens.items():
        callers.append((f"{name} (bearer)", {"Authorization": f"Bearer {raw}"}, {}))
        callers.append((f"{name} (cookie)", {}, {"hackops_session": raw}))
    seen: dict[tuple[int, str | None], int] = {}
    for round_ in ("cold", "warm"):
        for org_slug, event_slug in w.targets:
            base = f"/api/v1/organizations/{org_slug}/events/{event_slug}/judging"
            for who, headers, cookies in callers:
                client.cookies.clear()
                client.cookies.update(cookies)
                board = outcome(await client.get(f"{base}/leaderboard", headers=headers))
                client.cookies.clear()
                client.cookies.update(cookies)
                reference = outcome(await client.get(f"{base}/ranking", headers=headers))
                assert board == reference, (round_, who, org_slug, event_slug)
                seen[board] = seen.get(board, 0) + 1
    client.cookies.clear()
    # The matrix reaches every outcome: organizers read, staff are told no, the rest see nothing.
    assert {status for status, _ in seen} == {200, 401, 403, 404}
    # rounds x transports-or-targets x callers:
    # made-up, expired, revoked and a disabled user's bearer tokens, on every target;
    assert seen[(401, "invalid_token")] == 2 * len(w.targets) * 4
    # judges and mentors (bearer and cookie) on the organization's three events;
    assert seen[(403, "not_an_organizer")] == 2 * 2 * 2 * 3
    # owner, admin, organizer, event organizer and platform admin on the three events, plus the
    # platform admin and the other organization's owner on that organization's event.
    assert seen[(200, None)] == 2 * 2 * (5 * 3 + 2)
    return seen


async def test_the_gate_decides_as_the_request_path_for_every_caller(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """In a test's rolled-back transaction: the gate runs in the request's session."""
    await compare_with_the_request_path(client, await world(session))


@pytest.mark.slow
async def test_the_raw_pool_gate_decides_as_the_request_path(
    settings: Settings, committed_db: Database
) -> None:
    """With committed data the app opens its raw-driver read pool and the gate runs there
    (autocommit, one round trip); same answers for the whole matrix, and a value the driver
    refuses (NUL) falls back to the session path's clear error."""
    app = create_app(settings, database=committed_db)
    async with app.router.lifespan_context(app):
        assert committed_db.reads is not None
        async with committed_db.transaction() as session:
            w = await world(session)
        transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as client:
            before = committed_db.reads.get_stats().get("requests_num", 0)
            await compare_with_the_request_path(client, w)
            assert committed_db.reads.get_stats().get("requests_num", 0) > before
            org_slug, _ = w.targets[0]
            nul = await client.get(
                f"/api/v1/organizations/{org_slug}/events/pub%00lic/judging/leaderboard",
                headers={"Authorization": f"Bearer {w.tokens['organizer']}"},
            )
            assert 400 <= nul.status_code < 500, nul.text
    assert committed_db.reads is None  # closed with the app


async def test_a_hit_touches_the_token_and_sets_the_tenant_like_the_request_path(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    w = await world(session)
    org_slug, event_slug = w.targets[0]
    url = f"/api/v1/organizations/{org_slug}/events/{event_slug}/judging/leaderboard"
    headers = {"Authorization": f"Bearer {w.tokens['organizer']}"}
    assert (await client.get(url, headers=headers)).status_code == 200  # warms the cache
    token = await session.scalar(
        select(AuthToken).where(AuthToken.token_hash == digest(w.tokens["organizer"]))
    )
    assert token is not None
    token.last_used_at = NOW - timedelta(hours=1)
    await session.flush()
    hit = await client.get(url, headers=headers)
    assert hit.status_code == 200
    await session.refresh(token)
    assert token.last_used_at is not None
    assert token.last_used_at > NOW - timedelta(minutes=5)
    org = await session.scalar(select(Organization).where(Organization.slug == org_slug))
    assert org is not None
    gate = (
        await session.execute(
            text(
                "SELECT o_outcome, o_org_id, current_setting('hackops.org_id'),"
                " current_setting('hackops.user_id')"
                " FROM leaderboard_gate(:h, true, :o, :e)"
            ),
            {"h": digest(w.tokens["organizer"]), "o": org_slug, "e": event_slug},
        )
    ).one()
    assert gate[0] == "ok"
    assert gate[1] == org.id
    assert gate[2] == str(org.id)
    assert gate[3] == str(token.user_id)
