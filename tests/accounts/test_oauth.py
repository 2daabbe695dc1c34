"""OAuth sign-in end to end: the real app, the real Authlib exchange (PKCE) and id_token checks,
against fake GitHub, Google and Microsoft served by an `httpx2.MockTransport`."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx2
import pytest
import time_machine
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.db import Database, db_now
from hackops.main import create_app
from hackops.models import AuditEntry, AuthToken, OAuthIdentity, User
from hackops.web.accounts.oauth import FLOW_COOKIE, safe_next
from tests.accounts.helpers import bearer, last_link, sign_in, sign_up, user_id
from tests.conftest import make_settings
from tests.helpers import count_queries, database_on, serving

CALLBACK = "http://testserver/auth/oauth/{}/callback"
CLIENTS = {
    "github": ("gh-client", "gh-secret"),
    "google": ("google-client", "google-secret"),
    "microsoft": ("ms-client", "ms-secret"),
}
GOOGLE_ISSUER = "https://accounts.google.com"
MS = "https://login.microsoftonline.com"
MS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
OIDC = {
    "google": {
        "issuer": GOOGLE_ISSUER,
        "discovery": f"{GOOGLE_ISSUER}/.well-known/openid-configuration",
        "authorization_endpoint": f"{GOOGLE_ISSUER}/o/oauth2/v2/auth",
        "token_endpoint": "https://oauth2.googleapis.com/token",
        "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
    },
    "microsoft": {
        "issuer": MS + "/{tenantid}/v2.0",
        "discovery": f"{MS}/common/v2.0/.well-known/openid-configuration",
        "authorization_endpoint": f"{MS}/common/oauth2/v2.0/authorize",
        "token_endpoint": f"{MS}/common/oauth2/v2.0/token",
        "jwks_uri": f"{MS}/common/discovery/v2.0/keys",
    },
}
AUTHORIZE = {
    "github": "https://github.com/login/oauth/authorize",
    **{name: doc["authorization_endpoint"] for name, doc in OIDC.items()},
}


@cache
def signing_key(kid: str = "fake-key-1") -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


@dataclass
class Grant:
    provider: str
    challenge: str
    nonce: str | None
    person: dict[str, Any]


@dataclass
class FakeProviders:
    """Authorization servers and APIs of GitHub, Google and Microsoft, as far as sign-in goes."""

    grants: dict[str, Grant] = field(default_factory=dict)
    github_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: int = 0
    tamper: dict[str, Any] = field(default_factory=dict)  # id_token claims to override
    sign_with: RSAKey | None = None  # a key that is not in the JWKS
    down: bool = False  # every call times out

    def authorize(self, location: str, person: dict[str, Any]) -> tuple[str, str]:
        """The person signs in at the provider, which redirects back with a code and the state."""
        parts = urlsplit(location)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        provider = next(name for name, url in AUTHORIZE.items() if location.startswith(url + "?"))
        assert query["client_id"] == CLIENTS[provider][0]
        assert query["response_type"] == "code"
        assert query["redirect_uri"] == CALLBACK.format(provider)
        assert query["code_challenge_method"] == "S256"
        assert len(query["state"]) >= 32
        if provider == "github":
            assert query["scope"] == "read:user user:email"
            assert "nonce" not in query
        else:
            assert query["scope"] == "openid email profile"
            assert len(query["nonce"]) >= 24
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(provider, query["code_challenge"], query.get("nonce"), person)
        return code, query["state"]

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        if self.down:
            raise httpx2.ConnectTimeout("timed out", request=request)
        url = str(request.url).split("?")[0]
        if url == "https://github.com/login/oauth/access_token":
            grant = self._redeem(request, "github")
            if grant is None:  # GitHub answers errors with 200 and an error body
                return httpx2.Response(200, json={"error": "bad_verification_code"})
            token = secrets.token_urlsafe(16)
            self.github_tokens[token] = grant.person
            return httpx2.Response(200, json={"access_token": token, "token_type": "bearer"})
        if url.startswith("https://api.github.com/user"):
            person = self.github_tokens.get(
                request.headers.get("authorization", "").removeprefix("Bearer ")
            )
            if person is None:
                return httpx2.Response(401, json={"message": "Bad credentials"})
            if url.endswith("/emails"):
                return httpx2.Response(200, json=person["emails"])
            return httpx2.Response(200, json={k: v for k, v in person.items() if k != "emails"})
        for name, doc in OIDC.items():
            if url == doc["discovery"]:
                return httpx2.Response(
                    200,
                    json={
                        **{k: v for k, v in doc.items() if k != "discovery"},
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "response_types_supported": ["code"],
                    },
                )
            if url == doc["jwks_uri"]:
                return httpx2.Response(200, json={"keys": [signing_key().as_dict(private=False)]})
            if url == doc["token_endpoint"]:
                grant = self._redeem(request, name)
                if grant is None:
                    return httpx2.Response(400, json={"error": "invalid_grant"})
                return httpx2.Response(
                    200,
                    json={
                        "access_token": secrets.token_urlsafe(16),
                        "token_type": "Bearer",
                        "expires_in": 3600,
                        "id_token": self._id_token(name, grant),
                    },
                )
        return httpx2.Response(404, json={"error": "unknown fake endpoint"})

    def _redeem(self, request: httpx2.Request, provider: str) -> Grant | None:
        """Check client authentication, the code, the redirect URI and the PKCE verifier."""
        self.token_requests += 1
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if provider == "github":  # GitHub documents the secret in the form (client_secret_post)
            sent = (form.get("client_id"), form.get("client_secret"))
        else:  # Google and Microsoft: HTTP Basic, the discovery default
            scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
            client_id, _, secret = base64.b64decode(encoded or "Og==").decode().partition(":")
            sent = (unquote(client_id), unquote(secret)) if scheme == "Basic" else (None, None)
        if sent != CLIENTS[provider]:
            return None
        grant = self.grants.pop(form.get("code", ""), None)
        if (
            grant is None
            or grant.provider != provider
            or form.get("grant_type") != ("authorization_code")
        ):
            return None
        if form.get("redirect_uri") != CALLBACK.format(provider):
            return None
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
            return None
        return grant

    def _id_token(self, provider: str, grant: Grant) -> str:
        now = int(time.time())
        issuer = OIDC[provider]["issuer"].replace("{tenantid}", MS_TENANT)
        claims = {
            "iss": issuer,
            "aud": CLIENTS[provider][0],
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            **({"tid": MS_TENANT} if provider == "microsoft" else {}),
            **grant.person,
            **self.tamper,
        }
        key = self.sign_with or signing_key()
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def github_person(
    email: str = "octo@example.com", *, verified: bool = True, user_id: int = 101
) -> dict[str, Any]:
    return {
        "id": user_id,
        "login": f"octo{user_id}",
        "name": "Octo Cat",
        "email": None,
        "avatar_url": f"https://avatars.example/{user_id}",
        "emails": [
            {"email": "noreply@users.github.example", "primary": False, "verified": True},
            {"email": email, "primary": True, "verified": verified},
        ],
    }


def google_person(email: str, *, verified: bool = True, sub: str = "g-1") -> dict[str, Any]:
    return {"sub": sub, "email": email, "email_verified": verified, "name": "Ada Lovelace"}


@pytest.fixture
def fake() -> FakeProviders:
    return FakeProviders()


@pytest.fixture
async def web(
    database_url: str,
    storage_dir: Path,
    bound_database: Database,
    connection: AsyncConnection,
    fake: FakeProviders,
) -> AsyncIterator[httpx2.AsyncClient]:
    """A browser on an app with all three providers enabled, inside the test's transaction."""
    settings = make_settings(
        database_url,
        storage_dir,
        **{
            f"oauth_{name}_{part}": value
            for name, (client_id, secret) in CLIENTS.items()
            for part, value in (("client_id", client_id), ("client_secret", secret))
        },
    )
    app = create_app(settings, database=database_on(bound_database.engine, connection))
    app.state.oauth_transport = httpx2.MockTransport(fake.handler)
    async with serving(app) as http:
        yield http


async def login(
    http: httpx2.AsyncClient,
    fake: FakeProviders,
    provider: str,
    person: dict[str, Any],
    *,
    action: str = "start",
    next_path: str = "/",
) -> httpx2.Response:
    start = await http.get(f"/auth/oauth/{provider}/{action}", params={"next": next_path})
    assert start.status_code == 303, start.text
    code, state = fake.authorize(start.headers["location"], person)
    return await http.get(f"/auth/oauth/{provider}/callback", params={"code": code, "state": state})


async def audit_rows(
    session: AsyncSession, connection: AsyncConnection
) -> list[tuple[str, str | None]]:
    """Every audit row of the test, oldest first: (action, details' provider or via)."""
    await connection.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    rows = await session.execute(
        select(AuditEntry.action, AuditEntry.details).order_by(AuditEntry.id)
    )
    return [(action, details.get("provider") or details.get("via")) for action, details in rows]


async def count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def refused(response: httpx2.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert f"<code>{code}</code>" in response.text
    assert "hackops_session" not in response.headers.get("set-cookie", "")


async def test_github_login_creates_an_account_and_signs_in(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession, connection: AsyncConnection
) -> None:
    start = await web.get("/auth/oauth/github/start", params={"next": "/events?page=2"})
    assert start.status_code == 303
    flow_cookie = start.headers["set-cookie"]
    assert flow_cookie.startswith(f"{FLOW_COOKIE}=")
    assert "HttpOnly" in flow_cookie
    assert "Max-Age=600" in flow_cookie
    assert "Path=/auth/oauth" in flow_cookie
    assert "SameSite=lax" in flow_cookie
    code, state = fake.authorize(start.headers["location"], github_person("Octo@Example.com"))

    done = await web.get("/auth/oauth/github/callback", params={"code": code, "state": state})
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/events?page=2"
    assert f'{FLOW_COOKIE}=""; expires=' in done.headers["set-cookie"]
    me = await web.get("/api/v1/me")
    assert me.status_code == 200
    assert (me.json()["email"], me.json()["email_verified"], me.json()["name"]) == (
        "octo@example.com",
        True,
        "Octo Cat",
    )
    landing = await web.get("/")
    assert "Welcome! Your account was created with GitHub." in landing.text

    user = await session.scalar(select(User))
    assert user is not None
    assert user.password_hash is None
    identity = await session.scalar(select(OAuthIdentity))
    assert identity is not None
    assert (identity.user_id, identity.provider, identity.subject, identity.email) == (
        user.id,
        "github",
        "101",
        "octo@example.com",
    )
    assert identity.profile == {
        "login": "octo101",
        "name": "Octo Cat",
        "avatar_url": "https://avatars.example/101",
    }
    assert await audit_rows(session, connection) == [
        ("user.registered", "github"),
        ("identity.linked", "github"),
        ("session_token.created", None),
    ]
    assert fake.token_requests == 1


async def test_second_github_login_reuses_the_account(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession, connection: AsyncConnection
) -> None:
    first = await login(web, fake, "github", github_person())
    assert first.status_code == 303
    web.cookies.clear()
    second = await login(web, fake, "github", github_person("changed@example.com"))
    assert second.status_code == 303
    assert (await web.get("/api/v1/me")).json()["email"] == "octo@example.com"
    assert "Signed in with GitHub." in (await web.get("/")).text
    assert (await count(session, User), await count(session, OAuthIdentity)) == (1, 1)
    assert await count(session, AuthToken) == 2
    assert await audit_rows(session, connection) == [
        ("user.registered", "github"),
        ("identity.linked", "github"),
        ("session_token.created", None),
        ("session_token.created", None),
    ]


async def verified_account(web: httpx2.AsyncClient, session: AsyncSession, email: str) -> str:
    """A password account whose address was confirmed through the mailed link; its user id."""
    await sign_up(web, email)
    token = await last_link(session, email, "/verify-email")
    assert (await web.post("/api/v1/auth/verify-email", json={"token": token})).status_code == 200
    return await user_id(session, email)


async def test_oidc_login_links_to_the_account_with_the_same_verified_email(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession, connection: AsyncConnection
) -> None:
    user_id = await verified_account(web, session, "ada@example.com")
    done = await login(web, fake, "google", google_person(" ADA@example.com"))
    assert done.status_code == 303, done.text
    me = (await web.get("/api/v1/me")).json()
    assert me["id"] == user_id
    identities = (await web.get("/api/v1/me/identities")).json()
    assert [(i["provider"], i["email"]) for i in identities] == [("google", "ada@example.com")]
    assert await count(session, User) == 1
    assert (await audit_rows(session, connection))[-2:] == [
        ("identity.linked", "google"),
        ("session_token.created", None),
    ]


async def test_unverified_provider_email_never_links_to_an_existing_account(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession, connection: AsyncConnection
) -> None:
    await verified_account(web, session, "ada@example.com")
    before = await audit_rows(session, connection)
    github = await login(web, fake, "github", github_person("ada@example.com", verified=False))
    refused(github, 403, "oauth_email_unverified")
    google = await login(web, fake, "google", google_person("ada@example.com", verified=False))
    refused(google, 403, "oauth_email_unverified")
    # Microsoft does not vouch for the email claim: no email_verified, no match.
    microsoft = await login(web, fake, "microsoft", {"sub": "ms-1", "email": "ada@example.com"})
    refused(microsoft, 403, "oauth_email_unverified")
    assert (await count(session, User), await count(session, OAuthIdentity)) == (1, 0)
    assert await audit_rows(session, connection) == before


async def test_verified_email_does_not_link_to_an_unconfirmed_account(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession, connection: AsyncConnection
) -> None:
    """Anyone can register someone else's address; only a confirmed one is trusted to match."""
    await sign_up(web, "ada@example.com")
    before = await audit_rows(session, connection)
    refused(
        await login(web, fake, "google", google_person("ada@example.com")), 409, "oauth_email_taken"
    )
    assert await count(session, OAuthIdentity) == 0
    assert await audit_rows(session, connection) == before


async def test_microsoft_login_checks_the_tenant_issuer(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession, connection: AsyncConnection
) -> None:
    # A tenant that vouches for the address (without it: `test_oauth_ownership`).
    person = {
        "sub": "ms-7",
        "email": "grace@contoso.example",
        "email_verified": True,
        "name": "Grace",
    }
    done = await login(web, fake, "microsoft", person)
    assert done.status_code == 303, done.text
    me = (await web.get("/api/v1/me")).json()
    assert (me["email"], me["email_verified"]) == ("grace@contoso.example", True)
    identity = await session.scalar(select(OAuthIdentity))
    assert identity is not None
    assert (identity.provider, identity.subject) == ("microsoft", "ms-7")
    assert identity.profile == {"name": "Grace", "tid": MS_TENANT}
    assert [a for a, _ in await audit_rows(session, connection)] == [
        "user.registered",
        "identity.linked",
        "session_token.created",
    ]


async def test_a_token_from_another_microsoft_tenant_is_refused(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession
) -> None:
    # The issuer names tenant MS_TENANT; the tid claim says another one.
    fake.tamper = {"tid": "72f988bf-86f1-41af-91ab-2d7cd011db47"}
    response = await login(web, fake, "microsoft", {"sub": "ms-8", "email": "e@example.com"})
    refused(response, 400, "oauth_failed")
    assert await count(session, User) == 0


async def test_an_unreachable_provider_is_refused(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession
) -> None:
    fake.down = True
    refused(await web.get("/auth/oauth/google/start"), 400, "oauth_failed")
    fake.down = False
    start = await web.get("/auth/oauth/github/start")
    code, state = fake.authorize(start.headers["location"], github_person())
    fake.down = True
    response = await web.get("/auth/oauth/github/callback", params={"code": code, "state": state})
    refused(response, 400, "oauth_failed")
    assert await count(session, User) == 0


async def test_tampered_missing_or_expired_state_is_refused_and_writes_nothing(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession, connection: AsyncConnection
) -> None:
    person = github_person()

    async def attempt(change: str) -> httpx2.Response:
        web.cookies.clear()
        start = await web.get("/auth/oauth/github/start")
        code, state = fake.authorize(start.headers["location"], person)
        provider = "github"
        if change == "state":
            state = state[:-2] + ("AA" if not state.endswith("AA") else "BB")
        elif change == "no_state":
            state = ""
        elif change == "no_cookie":
            web.cookies.clear()
        elif change == "tampered_cookie":
            value = web.cookies[FLOW_COOKIE]
            web.cookies.set(
                FLOW_COOKIE, value[:10] + ("x" if value[10] != "x" else "y") + value[11:]
            )
        elif change == "other_provider":
            provider = "google"
        params = {"code": code, "state": state}
        if change == "expired":
            with time_machine.travel(time.time() + 601, tick=False):
                return await web.get(f"/auth/oauth/{provider}/callback", params=params)
        return await web.get(f"/auth/oauth/{provider}/callback", params=params)

    for change in (
        "state",
        "no_state",
        "no_cookie",
        "tampered_cookie",
        "other_provider",
        "expired",
    ):
        response = await attempt(change)
        refused(response, 400, "oauth_state_invalid")
        assert f'{FLOW_COOKIE}=""' in response.headers["set-cookie"], change
    assert fake.token_requests == 0
    assert (await count(session, User), await count(session, OAuthIdentity)) == (0, 0)
    assert await count(session, AuthToken) == 0
    assert await audit_rows(session, connection) == []


async def test_provider_errors_and_failed_exchanges_are_refused(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession, connection: AsyncConnection
) -> None:
    start = await web.get("/auth/oauth/github/start")
    _, state = fake.authorize(start.headers["location"], github_person())
    denied = await web.get(
        "/auth/oauth/github/callback", params={"error": "access_denied", "state": state}
    )
    refused(denied, 400, "oauth_failed")

    start = await web.get("/auth/oauth/github/start")
    _, state = fake.authorize(start.headers["location"], github_person())
    wrong_code = await web.get(
        "/auth/oauth/github/callback", params={"code": "not-issued", "state": state}
    )
    refused(wrong_code, 400, "oauth_failed")
    assert fake.token_requests == 1
    assert await count(session, User) == 0
    assert await audit_rows(session, connection) == []


@pytest.mark.parametrize(
    "tamper",
    [
        {"nonce": "replayed-from-another-login"},
        {"aud": "someone-elses-client"},
        {"iss": "https://evil.example"},
        {"exp": 1_000_000_000},
        {"iat": int(time.time()) + 3600},
        {"sign_with_another_key": True},
    ],
    ids=["nonce", "audience", "issuer", "expired", "future", "signature"],
)
async def test_id_token_must_verify(
    web: httpx2.AsyncClient,
    fake: FakeProviders,
    session: AsyncSession,
    connection: AsyncConnection,
    tamper: dict[str, Any],
) -> None:
    claims = dict(tamper)
    if claims.pop("sign_with_another_key", False):
        fake.sign_with = signing_key("not-published")
    fake.tamper = claims
    response = await login(web, fake, "google", google_person("ada@example.com"))
    refused(response, 400, "oauth_failed")
    assert (await count(session, User), await count(session, OAuthIdentity)) == (0, 0)
    assert await audit_rows(session, connection) == []


async def test_linking_while_signed_in(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession, connection: AsyncConnection
) -> None:
    other = await login(web, fake, "github", github_person("someone@example.com", user_id=202))
    assert other.status_code == 303
    web.cookies.clear()
    await sign_up(web, "ada@example.com")
    ada_id = await user_id(session, "ada@example.com")
    web.cookies.set("hackops_session", await sign_in(web, "ada@example.com"))
    before = len(await audit_rows(session, connection))

    # An unverified, different address: linking needs no email match, the session proves who.
    linked = await login(
        web, fake, "github", github_person("ada-gh@example.org", verified=False), action="link"
    )
    assert linked.status_code == 303, linked.text
    assert "hackops_session" not in linked.headers["set-cookie"]
    assert "GitHub is now linked to your account." in (await web.get("/")).text
    identities = (await web.get("/api/v1/me/identities")).json()
    assert [(i["provider"], i["email"]) for i in identities] == [("github", "ada-gh@example.org")]
    assert (await audit_rows(session, connection))[before:] == [("identity.linked", "github")]

    taken = await login(web, fake, "github", github_person(user_id=202), action="link")
    refused(taken, 409, "identity_taken")
    again = await login(web, fake, "github", github_person(), action="link")
    assert again.status_code == 303
    assert "already linked" in (await web.get("/")).text
    assert (await audit_rows(session, connection))[before:] == [("identity.linked", "github")]
    assert (await web.get("/api/v1/me")).json()["id"] == ada_id

    start = await web.get("/auth/oauth/google/link")
    code, state = fake.authorize(start.headers["location"], google_person("ada@example.com"))
    web.cookies.delete("hackops_session")
    signed_out = await web.get("/auth/oauth/google/callback", params={"code": code, "state": state})
    refused(signed_out, 400, "oauth_state_invalid")
    web.cookies.clear()
    assert (await web.get("/auth/oauth/google/link")).status_code == 401


async def test_unlinking_the_last_sign_in_method_is_refused(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession, connection: AsyncConnection
) -> None:
    assert (await login(web, fake, "github", github_person())).status_code == 303
    auth = bearer(web.cookies["hackops_session"])
    (github,) = (await web.get("/api/v1/me/identities")).json()
    last = await web.delete(f"/api/v1/me/identities/{github['id']}", headers=auth)
    assert last.status_code == 409
    assert last.json()["error"]["code"] == "last_sign_in_method"

    assert (
        await login(web, fake, "google", google_person("x@example.com"), action="link")
    ).status_code == 303
    google = (await web.get("/api/v1/me/identities")).json()[1]
    assert google["provider"] == "google"
    assert (
        await web.delete(f"/api/v1/me/identities/{github['id']}", headers=auth)
    ).status_code == 204
    assert [i["provider"] for i in (await web.get("/api/v1/me/identities")).json()] == ["google"]
    refused_last = await web.delete(f"/api/v1/me/identities/{google['id']}", headers=auth)
    assert refused_last.status_code == 409
    gone = await web.delete(f"/api/v1/me/identities/{github['id']}", headers=auth)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "identity_not_found"
    assert [a for a, _ in await audit_rows(session, connection)][-2:] == [
        "identity.linked",
        "identity.unlinked",
    ]


async def test_someone_elses_identity_is_not_found(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession
) -> None:
    await login(web, fake, "github", github_person(user_id=1))
    (theirs,) = (await web.get("/api/v1/me/identities")).json()
    web.cookies.clear()
    await sign_up(web, "ada@example.com")
    token = await sign_in(web, "ada@example.com")
    response = await web.delete(f"/api/v1/me/identities/{theirs['id']}", headers=bearer(token))
    assert response.status_code == 404
    assert await count(session, OAuthIdentity) == 1


async def test_password_users_may_unlink_their_only_identity(
    web: httpx2.AsyncClient, fake: FakeProviders
) -> None:
    await sign_up(web, "ada@example.com")
    token = await sign_in(web, "ada@example.com")
    web.cookies.set("hackops_session", token)
    await login(web, fake, "github", github_person(), action="link")
    (identity,) = (await web.get("/api/v1/me/identities")).json()
    response = await web.delete(f"/api/v1/me/identities/{identity['id']}", headers=bearer(token))
    assert response.status_code == 204


async def test_disabled_account_cannot_sign_in(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession
) -> None:
    await login(web, fake, "github", github_person())
    user = await session.scalar(select(User))
    assert user is not None
    user.disabled_at = await db_now(session)
    await session.flush()
    web.cookies.clear()
    refused(await login(web, fake, "github", github_person()), 403, "account_disabled")
    assert await count(session, AuthToken) == 1


async def test_unknown_or_disabled_provider_is_not_found(
    web: httpx2.AsyncClient, client: httpx2.AsyncClient
) -> None:
    assert (await web.get("/auth/oauth/gitlab/start")).status_code == 404
    assert (await web.get("/auth/oauth/gitlab/callback")).status_code == 404
    # The shared test app has no provider configured.
    assert (await client.get("/auth/oauth/github/start")).status_code == 404
    assert (await client.get("/api/v1/auth/providers")).json() == []


async def test_providers_lists_the_enabled_ones(web: httpx2.AsyncClient) -> None:
    response = await web.get("/api/v1/auth/providers")
    assert response.status_code == 200
    assert response.json() == [
        {
            "name": name,
            "label": label,
            "start_url": f"/auth/oauth/{name}/start",
            "link_url": f"/auth/oauth/{name}/link",
        }
        for name, label in (("github", "GitHub"), ("google", "Google"), ("microsoft", "Microsoft"))
    ]


async def test_next_must_be_a_local_path(web: httpx2.AsyncClient, fake: FakeProviders) -> None:
    response = await login(web, fake, "github", github_person(), next_path="https://evil.example/")
    assert response.headers["location"] == "/"
    cases = {
        "/teams/42?tab=members#top": "/teams/42?tab=members#top",
        "//evil.example/x": "/",
        "/\\evil.example": "/",
        "https://evil.example": "/",
        "javascript:alert(1)": "/",
        "/ok\r\nSet-Cookie: x=1": "/",
        "": "/",
        "/" + "a" * 2001: "/",
    }
    assert {value: safe_next(value) for value in cases} == cases


async def test_listing_identities_costs_the_same_for_1_or_20(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession, connection: AsyncConnection
) -> None:
    await login(web, fake, "github", github_person())
    user = await session.scalar(select(User))
    assert user is not None
    await web.get("/api/v1/me")  # the session's first use records last_used_at: not measured
    costs = []
    for total in (1, 20):
        existing = await count(session, OAuthIdentity)
        for n in range(existing, total):
            session.add(OAuthIdentity(user_id=user.id, provider="google", subject=f"g-{n}"))
        await session.flush()
        with count_queries(connection) as queries:
            response = await web.get("/api/v1/me/identities")
        assert len(response.json()) == total
        costs.append(queries.count)
    assert costs[0] == costs[1]


async def test_state_cookie_lasts_ten_minutes(web: httpx2.AsyncClient, fake: FakeProviders) -> None:
    start = await web.get("/auth/oauth/github/start")
    code, state = fake.authorize(start.headers["location"], github_person())
    with time_machine.travel(time.time() + timedelta(minutes=9).total_seconds(), tick=False):
        done = await web.get("/auth/oauth/github/callback", params={"code": code, "state": state})
    assert done.status_code == 303
