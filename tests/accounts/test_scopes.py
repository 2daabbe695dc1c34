"""API token scopes and how /docs declares them: `write` implies `read` (documented in the API
description), a token with neither reads nothing; the OpenAPI document declares the bearer token
and the session cookie as security schemes, and every route that reads the caller lists them,
so Swagger's Authorize button works."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import new_secret
from hackops.models import AuthToken
from tests.accounts.helpers import bearer, verified_user

SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer"},
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "hackops_session"},
}


async def api_token(client: httpx2.AsyncClient, owner: str, *scopes: str) -> str:
    created = await client.post(
        "/api/v1/me/tokens", headers=bearer(owner), json={"name": "ci", "scopes": list(scopes)}
    )
    assert created.status_code == 201, created.text
    return str(created.json()["token"])


async def test_write_implies_read_and_read_only_tokens_only_read(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    owner = await verified_user(client, session, "scopes@example.com")
    me = (await client.get("/api/v1/me", headers=bearer(owner))).json()
    write = await api_token(client, owner, "write")
    read = await api_token(client, owner, "read")
    assert (await client.get("/api/v1/me", headers=bearer(write))).status_code == 200
    assert (await client.get("/api/v1/me", headers=bearer(read))).status_code == 200
    change = {"name": "Renamed"}
    assert (await client.patch("/api/v1/me", headers=bearer(write), json=change)).status_code == 200
    refused = await client.patch("/api/v1/me", headers=bearer(read), json=change)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "insufficient_scope")
    # A token with no scope at all (older rows, or made outside the API) may do nothing.
    raw, hashed = new_secret()
    session.add(
        AuthToken(
            user_id=me["id"],
            kind="api",
            token_hash=hashed,
            scopes=[],
            expires_at=datetime.now(UTC) + timedelta(days=1),
            last_used_at=datetime.now(UTC) + timedelta(days=1),
        )
    )
    await session.flush()
    nothing = await client.get("/api/v1/me", headers=bearer(raw))
    assert (nothing.status_code, nothing.json()["error"]["code"]) == (403, "insufficient_scope")


def test_the_openapi_document_declares_bearer_and_cookie_security(app: Any) -> None:
    spec = app.openapi()
    schemes = spec["components"]["securitySchemes"]
    for name, declared in SCHEMES.items():
        assert {k: schemes[name].get(k) for k in declared} == declared, name
    assert "`write` implies `read`" in spec["info"]["description"]
    assert "`write` implies `read`" in schemes["bearerAuth"]["description"]
    wanted = [{"bearerAuth": []}, {"sessionCookie": []}]
    optional = [*wanted, {}]  # the route also serves anonymous callers
    me = spec["paths"]["/api/v1/me"]
    assert me["get"]["security"] == wanted
    assert me["patch"]["security"] == wanted
    event = spec["paths"]["/api/v1/organizations/{slug}/events/{event_slug}"]
    assert event["get"]["security"] == optional  # a public event needs no sign-in
    board = "/api/v1/organizations/{slug}/events/{event_slug}/judging/leaderboard"
    assert spec["paths"][board]["get"]["security"] == optional  # reads the token itself
    secured = [
        (path, method)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if op.get("security") in (wanted, optional)
    ]
    assert len(secured) > 150
    assert len([s for s in secured if spec["paths"][s[0]][s[1]]["security"] == wanted]) > 30
    for path, method in secured:  # a bad bearer token is always a documented 401
        assert "401" in spec["paths"][path][method]["responses"], (method, path)
    # Routes that never read the caller do not claim to.
    assert "security" not in spec["paths"]["/health"]["get"]
    assert "security" not in spec["paths"]["/api/v1/files/{token}"]["get"]
