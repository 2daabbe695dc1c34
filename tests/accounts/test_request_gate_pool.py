"""A route whose only read is the caller (`GET /api/v1/me`) runs the request gate on the raw
autocommit read pool: one round trip, no transaction (`gate.run_on_pool`) — with the same answers
as the session path for every kind of caller, and the same token bookkeeping."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from sqlalchemy import select

from hackops.accounts.credentials import digest
from hackops.config import Settings
from hackops.db import Database
from hackops.main import create_app
from hackops.models import AuthToken
from tests.factories import create_user
from tests.people import sign_in_token

NOW = datetime.now(UTC)


def answer(response: httpx2.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


@pytest.mark.slow
async def test_me_reads_the_caller_on_the_read_pool_as_the_session_path_does(
    settings: Settings, committed_db: Database
) -> None:
    async with committed_db.transaction() as session:
        ada = await create_user(session, email=f"ada-{secrets.token_hex(3)}@example.com")
        off = await create_user(session, email=f"off-{secrets.token_hex(3)}@example.com")
        off.disabled_at = NOW
        tokens = {
            "live": await sign_in_token(session, ada),
            "stale": await sign_in_token(session, ada, last_used_at=NOW - timedelta(hours=1)),
            "expired": await sign_in_token(session, ada, expires_at=NOW - timedelta(minutes=1)),
            "revoked": await sign_in_token(session, ada, revoked_at=NOW),
            "disabled": await sign_in_token(session, off),
            "made_up": "not-a-token-" + secrets.token_urlsafe(8),
        }
        tokens["read_only"] = "hko_" + secrets.token_urlsafe(24)
        await sign_in_token(
            session, ada, kind="api", scopes=["read"], token_hash=digest(tokens["read_only"])
        )
    app = create_app(settings, database=committed_db)
    async with app.router.lifespan_context(app):
        reads = committed_db.reads
        assert reads is not None
        transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as client:
            seen = set()
            for name, raw in tokens.items():
                for cookie in (False, True):
                    headers = {} if cookie else {"Authorization": f"Bearer {raw}"}
                    client.cookies.clear()
                    if cookie:
                        client.cookies.set("hackops_session", raw)
                    before = reads.get_stats().get("requests_num", 0)
                    pooled = answer(await client.get("/api/v1/me", headers=headers))
                    assert reads.get_stats().get("requests_num", 0) == before + 1, name
                    committed_db.reads = None  # the session path, for the same caller
                    try:
                        by_session = answer(await client.get("/api/v1/me", headers=headers))
                    finally:
                        committed_db.reads = reads
                    assert pooled == by_session, (name, cookie)
                    seen.add(pooled[0])
            assert seen == {200, 401}
            # A write is not the caller alone: it takes the session (and the scope check).
            client.cookies.clear()
            denied = await client.patch(
                "/api/v1/me",
                json={"bio": "x"},
                headers={"Authorization": f"Bearer {tokens['read_only']}"},
            )
            assert denied.status_code == 403
            assert denied.json()["error"]["code"] == "insufficient_scope"
    async with committed_db.transaction() as session:
        stale = await session.scalar(
            select(AuthToken).where(AuthToken.token_hash == digest(tokens["stale"]))
        )
        assert stale is not None
        assert stale.last_used_at is not None
        assert stale.last_used_at > NOW - timedelta(minutes=5)  # touched, and committed
