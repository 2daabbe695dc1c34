"""Every state-changing API call of accounts and organizations writes exactly one audit row.

`tests/security/audit.py` lists every write route with its audit action (a test checks the list
against the OpenAPI document); this scenario exercises the routes of accounts and organizations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import OAuthIdentity, User
from tests.accounts.helpers import PASSWORD, bearer, last_link, sign_in, sign_up, user_id
from tests.security.audit import AUDITED, Recorder, owned_by


async def test_every_write_route_writes_exactly_one_audit_row(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, app: Any
) -> None:
    r = Recorder(client, connection)
    call: Callable[..., Awaitable[httpx2.Response]] = r.call

    await call(
        "POST",
        "/api/v1/auth/register",
        expect="user.registered",
        json={"email": "ada@example.com", "password": PASSWORD, "name": "Ada"},
    )
    link = await last_link(session, "ada@example.com", "/verify-email")
    await call(
        "POST", "/api/v1/auth/verify-email", expect="user.email_verified", json={"token": link}
    )
    token = (
        await call(
            "POST",
            "/api/v1/auth/token",
            expect="session_token.created",
            data={"username": "ada@example.com", "password": PASSWORD},
        )
    ).json()["access_token"]
    auth = bearer(token)
    await call(
        "PATCH", "/api/v1/me", expect="user.profile_updated", headers=auth, json={"bio": "hi"}
    )
    created = await call(
        "POST",
        "/api/v1/me/tokens",
        expect="api_token.created",
        headers=auth,
        json={"name": "ci", "scopes": ["read"]},
    )
    await call(
        "DELETE",
        "/api/v1/me/tokens/{token_id}",
        f"/api/v1/me/tokens/{created.json()['id']}",
        expect="api_token.revoked",
        headers=auth,
    )
    other = await sign_in(client, "ada@example.com")
    sessions = (await client.get("/api/v1/me/sessions", headers=auth)).json()
    other_id = next(s["id"] for s in sessions if not s["current"])
    await call(
        "DELETE",
        "/api/v1/me/sessions/{token_id}",
        f"/api/v1/me/sessions/{other_id}",
        expect="session_token.revoked",
        headers=auth,
    )
    assert (await client.get("/api/v1/me", headers=bearer(other))).status_code == 401

    await call(
        "POST",
        "/api/v1/organizations",
        expect="organization.created",
        headers=auth,
        json={"slug": "acme", "name": "ACME"},
    )
    await call(
        "PATCH",
        "/api/v1/organizations/{slug}",
        "/api/v1/organizations/acme",
        expect="organization.updated",
        headers=auth,
        json={"name": "ACME Hack"},
    )
    await call(
        "POST",
        "/api/v1/organizations/{slug}/invitations",
        "/api/v1/organizations/acme/invitations",
        expect="invitation.created",
        headers=auth,
        json={"email": "bob@example.com", "role": "member"},
    )
    await sign_up(client, "bob@example.com", name="Bob")
    bob = await sign_in(client, "bob@example.com")
    invite = await last_link(session, "bob@example.com", "/invitations/accept")
    await call(
        "POST",
        "/api/v1/invitations/accept",
        expect="invitation.accepted",
        headers=bearer(bob),
        json={"org": "acme", "token": invite},
    )
    bob_id = str(await session.scalar(select(User.id).where(User.email == "bob@example.com")))
    await call(
        "PATCH",
        "/api/v1/organizations/{slug}/members/{user_id}",
        f"/api/v1/organizations/acme/members/{bob_id}",
        expect="membership.role_changed",
        headers=auth,
        json={"role": "organizer"},
    )
    second = await client.post(
        "/api/v1/organizations/acme/invitations", headers=auth, json={"email": "carol@example.com"}
    )
    await call(
        "DELETE",
        "/api/v1/organizations/{slug}/invitations/{invitation_id}",
        f"/api/v1/organizations/acme/invitations/{second.json()['id']}",
        expect="invitation.revoked",
        headers=auth,
    )
    await call(
        "DELETE",
        "/api/v1/organizations/{slug}/members/{user_id}",
        f"/api/v1/organizations/acme/members/{bob_id}",
        expect="membership.removed",
        headers=auth,
    )

    ada = await session.scalar(select(User).where(User.email == "ada@example.com"))
    assert ada is not None
    ada.is_platform_admin = True
    await session.flush()
    await call(
        "PATCH",
        "/api/v1/admin/organizations/{slug}",
        "/api/v1/admin/organizations/acme",
        expect="organization.plan_changed",
        headers=auth,
        json={"max_active_events": 10},
    )

    await call(
        "POST",
        "/api/v1/me/email",
        expect="user.email_changed",
        headers=bearer(bob),
        json={"password": PASSWORD, "new_email": "robert@example.com"},
    )
    await call(
        "POST",
        "/api/v1/me/password",
        expect="user.password_changed",
        headers=bearer(bob),
        json={"current_password": PASSWORD, "new_password": "bob's new passphrase"},
    )
    await call(
        "POST",
        "/api/v1/auth/password-reset",
        expect="user.password_reset_requested",
        json={"email": "robert@example.com"},
    )
    reset = await last_link(session, "robert@example.com", "/reset-password")
    await call(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        expect="user.password_reset",
        json={"token": reset, "new_password": "bob's third passphrase"},
    )

    identity = OAuthIdentity(user_id=ada.id, provider="github", subject="42", email=ada.email)
    session.add(identity)
    await session.flush()
    await call(
        "DELETE",
        "/api/v1/me/identities/{identity_id}",
        f"/api/v1/me/identities/{identity.id}",
        expect="identity.unlinked",
        headers=auth,
    )

    await sign_up(client, "dave@example.com")
    dave = {"id": await user_id(session, "dave@example.com")}
    dave_token = await sign_in(client, "dave@example.com")
    await call(
        "POST",
        "/api/v1/admin/users/{user_id}/disable",
        f"/api/v1/admin/users/{dave['id']}/disable",
        expect="user.disabled",
        headers=auth,
    )
    assert (await client.get("/api/v1/me", headers=bearer(dave_token))).status_code == 401

    await sign_up(client, "carol@example.com")
    carol_token = await sign_in(client, "carol@example.com")
    me = await client.get("/api/v1/me", headers=bearer(carol_token))
    assert me.json()["email_verified"] is False
    await call(
        "POST",
        "/api/v1/auth/verify-email/resend",
        expect="user.verification_requested",
        headers=bearer(carol_token),
    )
    await call(
        "POST", "/api/v1/auth/logout", expect="session_token.revoked", headers=bearer(carol_token)
    )
    carol_token = await sign_in(client, "carol@example.com")
    await call(
        "POST",
        "/api/v1/me/delete",
        expect="user.deleted",
        headers=bearer(carol_token),
        json={"password": PASSWORD},
    )

    assert owned_by(ACCOUNTS_AND_ORGS) - r.covered == set()


#: The route prefixes this scenario answers for (events, teams and tasks have their own).
ACCOUNTS_AND_ORGS = (
    "/api/v1/auth",
    "/api/v1/me",
    "/api/v1/invitations",
    "/api/v1/admin",
    "/api/v1/organizations",
)


async def test_every_write_route_is_listed_with_its_audit_action(app: Any) -> None:
    spec = app.openapi()
    writes = {
        (method, path)
        for path, ops in spec["paths"].items()
        for method in ops
        if method in {"post", "patch", "put", "delete"} and path.startswith("/api/")
    }
    assert writes - set(AUDITED) == set(), "add the new write routes to tests/security/audit.py"
    assert set(AUDITED) - writes == set(), "tests/security/audit.py lists routes that are gone"
