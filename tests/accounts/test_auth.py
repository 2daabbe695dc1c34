from __future__ import annotations

from datetime import timedelta

import httpx2
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.db import db_now
from hackops.models import AuditEntry, User
from tests.accounts.helpers import PASSWORD, bearer, last_link, sign_in, sign_up
from tests.helpers import frozen_time


async def test_register_normalizes_email_and_refuses_duplicates(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    created = await sign_up(client, "admin@example.com")
    assert created["email"] == "admin@example.com"
    for variant in (
        " Admin@Example.com",
        "admin@example.com ",
        "ａｄｍｉｎ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    ):
        response = await client.post(
            "/api/v1/auth/register", json={"email": variant, "password": PASSWORD}
        )
        # The same answer as a fresh address (test_registration_enumeration).
        assert (response.status_code, response.json()) == (202, created), variant
    count = await session.scalar(select(func.count()).select_from(User))
    assert count == 1


async def test_register_rejects_weak_passwords_and_bad_emails(client: httpx2.AsyncClient) -> None:
    cases = [
        ({"email": "a@example.com", "password": "short"}, "password_too_short"),
        ({"email": "a@example.com", "password": "password123"}, "password_too_common"),
        ({"email": "a@example.com", "password": "a@example.com"}, "password_is_email"),
        ({"email": "not-an-email", "password": PASSWORD}, "invalid_email"),
    ]
    for body, code in cases:
        response = await client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == code


async def test_register_rejects_mass_assignment(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    for extra in ({"is_platform_admin": True}, {"role": "owner"}, {"org_id": "x"}):
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": "m@example.com", "password": PASSWORD, **extra},
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"
    assert await session.scalar(select(func.count()).select_from(User)) == 0


async def test_sign_in_use_token_and_logout(client: httpx2.AsyncClient) -> None:
    await sign_up(client, "ada@example.com")
    token = await sign_in(client, " ADA@example.com")
    me = await client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.com"
    assert (await client.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204
    after = await client.get("/api/v1/me", headers=bearer(token))
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "invalid_token"


async def test_wrong_password_and_unknown_account_look_the_same(client: httpx2.AsyncClient) -> None:
    await sign_up(client, "ada@example.com")
    wrong = await client.post(
        "/api/v1/auth/token", data={"username": "ada@example.com", "password": "nope nope nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/token", data={"username": "bob@example.com", "password": "nope nope nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_disabled_account_is_refused_on_the_next_request(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await sign_up(client, "ada@example.com")
    token = await sign_in(client, "ada@example.com")
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    user = await session.scalar(select(User).where(User.email == "ada@example.com"))
    assert user is not None
    user.disabled_at = await db_now(session)
    await session.flush()
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 401


async def test_verification_token_is_single_use_and_superseded(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await sign_up(client, "ada@example.com")
    first = await last_link(session, "ada@example.com", "/verify-email")
    token = await sign_in(client, "ada@example.com")
    resend = await client.post("/api/v1/auth/verify-email/resend", headers=bearer(token))
    assert resend.status_code == 202
    second = await last_link(session, "ada@example.com", "/verify-email")
    assert second != first

    stale = await client.post("/api/v1/auth/verify-email", json={"token": first})
    assert stale.status_code == 400
    assert stale.json()["error"]["code"] == "invalid_token"
    ok = await client.post("/api/v1/auth/verify-email", json={"token": second})
    assert ok.status_code == 200
    assert ok.json()["email_verified"] is True
    again = await client.post("/api/v1/auth/verify-email", json={"token": second})
    assert again.status_code == 400


async def test_reset_token_expires_after_30_minutes(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    await sign_up(client, "ada@example.com")
    now = await db_now(session)
    async with frozen_time(connection, now):
        await client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
        link = await last_link(session, "ada@example.com", "/reset-password")
    async with frozen_time(connection, now + timedelta(minutes=31)):
        late = await client.post(
            "/api/v1/auth/password-reset/confirm",
            json={"token": link, "new_password": "a brand new passphrase"},
        )
    assert late.status_code == 400
    assert late.json()["error"]["code"] == "invalid_token"


async def test_reset_answers_the_same_and_revokes_sessions(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await sign_up(client, "ada@example.com")
    token = await sign_in(client, "ada@example.com")
    known = await client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
    unknown = await client.post("/api/v1/auth/password-reset", json={"email": "zed@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()

    link = await last_link(session, "ada@example.com", "/reset-password")
    new_password = "a brand new passphrase"
    done = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": link, "new_password": new_password}
    )
    assert done.status_code == 200
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 401
    reused = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": link, "new_password": new_password}
    )
    assert reused.status_code == 400
    await sign_in(client, "ada@example.com", new_password)


async def test_password_change_invalidates_pending_reset_links(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await sign_up(client, "ada@example.com")
    token = await sign_in(client, "ada@example.com")
    await client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
    link = await last_link(session, "ada@example.com", "/reset-password")
    changed = await client.post(
        "/api/v1/me/password",
        headers=bearer(token),
        json={"current_password": PASSWORD, "new_password": "another fine passphrase"},
    )
    assert changed.status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    stale = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": link, "new_password": "yet another passphrase"},
    )
    assert stale.status_code == 400


async def test_11th_attempt_from_one_address_is_refused_even_with_the_right_password(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await sign_up(client, "ada@example.com")
    for _ in range(10):
        response = await client.post(
            "/api/v1/auth/token", data={"username": "ada@example.com", "password": "wrong guess!"}
        )
        assert response.status_code == 401
    locked = await client.post(
        "/api/v1/auth/token", data={"username": "ada@example.com", "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert locked.json()["error"]["code"] == "rate_limited"

    await client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
    link = await last_link(session, "ada@example.com", "/reset-password")
    await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": link, "new_password": "recovered passphrase"},
    )
    await sign_in(client, "ada@example.com", "recovered passphrase")


async def test_at_most_five_reset_mails_per_address_per_hour(client: httpx2.AsyncClient) -> None:
    await sign_up(client, "ada@example.com")
    for _ in range(5):
        ok = await client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
        assert ok.status_code == 202, ok.text
    sixth = await client.post("/api/v1/auth/password-reset", json={"email": "ADA@example.com"})
    assert sixth.status_code == 429
    assert "retry-after" in sixth.headers


async def test_api_tokens_have_scopes_and_can_be_revoked(client: httpx2.AsyncClient) -> None:
    await sign_up(client, "ada@example.com")
    session_token = await sign_in(client, "ada@example.com")
    created = await client.post(
        "/api/v1/me/tokens",
        headers=bearer(session_token),
        json={"name": "ci", "scopes": ["read"], "expires_in_days": 7},
    )
    assert created.status_code == 201
    api_token = created.json()["token"]
    assert api_token.startswith("hko_")
    assert (await client.get("/api/v1/me", headers=bearer(api_token))).status_code == 200
    write = await client.patch("/api/v1/me", headers=bearer(api_token), json={"name": "Eve"})
    assert write.status_code == 403
    assert write.json()["error"]["code"] == "insufficient_scope"
    listed = await client.get("/api/v1/me/tokens", headers=bearer(session_token))
    assert [t["name"] for t in listed.json()] == ["ci"]
    token_id = created.json()["id"]
    revoked = await client.delete(f"/api/v1/me/tokens/{token_id}", headers=bearer(session_token))
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer(api_token))).status_code == 401


async def test_profile_export_and_delete(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    await sign_up(client, "ada@example.com")
    token = await sign_in(client, "ada@example.com")
    patched = await client.patch(
        "/api/v1/me",
        headers=bearer(token),
        json={"name": "Ada L.", "skills": ["python", "rust"], "links": ["https://ada.dev"]},
    )
    assert patched.status_code == 200
    assert patched.json()["skills"] == ["python", "rust"]
    export = (await client.get("/api/v1/me/export", headers=bearer(token))).json()
    assert export["profile"]["name"] == "Ada L."
    assert {a["action"] for a in export["activity"]} >= {"user.registered", "user.profile_updated"}

    deleted = await client.post(
        "/api/v1/me/delete", headers=bearer(token), json={"password": PASSWORD}
    )
    assert deleted.status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 401
    row = await session.scalar(select(User).where(User.email.like("deleted-%")))
    assert row is not None
    assert (row.name, row.password_hash, row.skills) == ("", None, [])
    # The history stays, pointing at the anonymous row (read as the owner: RLS hides it).
    await connection.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    actions = set(
        (
            await session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == row.id))
        ).all()
    )
    assert {"user.registered", "user.deleted"} <= actions


async def test_cookie_authenticated_api_writes_need_the_csrf_token(
    client: httpx2.AsyncClient,
) -> None:
    await sign_up(client, "ada@example.com")
    token = await sign_in(client, "ada@example.com")
    client.cookies.set("hackops_session", token)
    assert (await client.get("/api/v1/me")).status_code == 200  # reads need nothing more
    body = {"name": "cookie", "scopes": ["read"]}
    forged = await client.post("/api/v1/me/tokens", json=body)
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "csrf_failed"
    page = await client.get("/")  # any page issues the CSRF cookie
    assert page.status_code == 200
    csrf = client.cookies["hackops_csrf"]
    ok = await client.post("/api/v1/me/tokens", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    cross = await client.post(
        "/api/v1/me/tokens",
        json=body,
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
