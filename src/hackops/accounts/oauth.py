"""Sign-in with GitHub, Google and Microsoft: the provider registry, the code exchange, and the
services that turn a provider's answer into an account (sign in, register, link, unlink).

- A provider is enabled when its client id and secret are set. GitHub is plain OAuth 2 (the
  person comes from its REST API); Google and Microsoft are OpenID Connect, configured by their
  discovery documents, and their id_token is verified against the provider's JWKS: signature,
  issuer, audience, expiry and the nonce sent with the authorization request.
- The code exchange uses Authlib's `AsyncOAuth2Client` with PKCE (S256). Every outbound call has
  an httpx2 timeout and the whole exchange a deadline. `transport` (tests: an
  `httpx2.MockTransport` standing in for the provider) replaces only the network.
- The id_token is verified with joserfc, the JOSE library Authlib itself depends on and points
  to: `authlib.jose` is deprecated in Authlib 1.x and removed in 2.0.
- A provider address counts only when the provider vouches for it (`email_verified`, GitHub's
  verified primary address): otherwise it neither makes an account nor signs into or links to one
  (`OAuthEmailUnverified`, the same answer whether or not an account uses it). Microsoft does not
  verify the `email` claim, so its 'common' tenant is refused unless the token says so. Accounts
  are matched by email only when the local account proved the address too: an unconfirmed local
  account could have been registered by anyone (pre-hijacking).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx2
import structlog
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import Request
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from hackops.config import Settings
from hackops.errors import AppError, Conflict, Forbidden, NotFound

log = structlog.get_logger("hackops.oauth")

HTTP_TIMEOUT = httpx2.Timeout(10.0, connect=5.0)
EXCHANGE_DEADLINE = 20.0  # seconds for discovery + token + profile/JWKS, all together
METADATA_TTL = 3600.0  # discovery documents and JWKS are cached this long per process
ID_TOKEN_LEEWAY = 60  # seconds of clock skew tolerated on exp/iat/nbf
ID_TOKEN_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256"})

GITHUB_AUTHORIZE_URL = "https://github.com/login/oauth/authorize"
GITHUB_ACCESS_TOKEN_URL = "https://github.com/login/oauth/access_token"  # noqa: S105 - a URL
GITHUB_USER_URL = "https://api.github.com/user"
GITHUB_EMAILS_URL = "https://api.github.com/user/emails"
GOOGLE_DISCOVERY_URL = "https://accounts.google.com/.well-known/openid-configuration"
MICROSOFT_DISCOVERY_URL = (
    "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
)


class OAuthFailed(AppError):
    status_code = 400
    code = "oauth_failed"
    message = "Signing in with the provider failed; try again."


class OAuthStateInvalid(AppError):
    status_code = 400
    code = "oauth_state_invalid"
    message = "This sign-in attempt is invalid or has expired; start again."


class OAuthEmailMissing(OAuthFailed):
    code = "oauth_email_missing"
    message = "The provider did not share an email address; make one available and try again."


class OAuthEmailUnverified(Forbidden):
    """The provider gave an address without confirming it (Microsoft's `common` tenant, an OpenID
    provider that sends no `email_verified`): it names nobody, so it makes or opens no account.
    The same answer whether or not an account uses the address."""

    code = "oauth_email_unverified"
    message = (
        "Your sign-in provider did not confirm that this address is yours, so we cannot sign you"
        " in or create an account with it. Sign up with a password (or, if you have an account,"
        " log in with your password or a sign-in link), then link the provider from your account"
        " page."
    )


class OAuthEmailNotLinkable(Conflict):
    code = "oauth_email_taken"
    message = (
        "An account with this email address already exists. Sign in to it (reset the password if"
        " needed), then link this provider from your account."
    )


class IdentityTaken(Conflict):
    code = "identity_taken"
    message = "This provider account is already linked to another HackOps account."


class AccountDisabled(Forbidden):
    code = "account_disabled"
    message = "This account is disabled."


class LastSignInMethod(Conflict):
    code = "last_sign_in_method"
    message = "This is your only way to sign in; set a password or link another provider first."


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str
    discovery_url: str | None = None  # OpenID Connect
    authorize_url: str | None = None  # plain OAuth 2
    access_token_url: str | None = None
    client_auth_method: str = "client_secret_basic"  # OIDC: what discovery offers wins

    @property
    def is_oidc(self) -> bool:
        return self.discovery_url is not None


def configured_providers(settings: Settings) -> dict[str, Provider]:
    """The enabled providers, in display order."""
    providers: dict[str, Provider] = {}

    def credentials(client_id: str | None, secret: Any) -> tuple[str, str] | None:
        value = secret.get_secret_value() if secret is not None else ""
        return (client_id, value) if client_id and value else None

    if creds := credentials(settings.oauth_github_client_id, settings.oauth_github_client_secret):
        providers["github"] = Provider(
            "github",
            "GitHub",
            *creds,
            scope="read:user user:email",
            authorize_url=GITHUB_AUTHORIZE_URL,
            access_token_url=GITHUB_ACCESS_TOKEN_URL,
            client_auth_method="client_secret_post",  # what GitHub documents
        )
    if creds := credentials(settings.oauth_google_client_id, settings.oauth_google_client_secret):
        providers["google"] = Provider(
            "google",
            "Google",
            *creds,
            scope="openid email profile",
            discovery_url=GOOGLE_DISCOVERY_URL,
        )
    if creds := credentials(
        settings.oauth_microsoft_client_id, settings.oauth_microsoft_client_secret
    ):
        tenant = quote(settings.oauth_microsoft_tenant, safe="")
        providers["microsoft"] = Provider(
            "microsoft",
            "Microsoft",
            *creds,
            scope="openid email profile",
            discovery_url=MICROSOFT_DISCOVERY_URL.format(tenant=tenant),
        )
    return providers


@dataclass(frozen=True)
class ProviderProfile:
    """Who the provider says the person is."""

    subject: str
    email: str | None
    email_verified: bool
    name: str
    details: dict[str, str]  # kept on the identity: small display fields, never tokens


@dataclass(frozen=True)
class OidcMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]
    client_auth_method: str


class _Invalid(Exception):
    """A provider answer we cannot accept; reported as `oauth_failed`."""


# The failures of a provider round trip: refusals, outages, timeouts and malformed answers
# (KeyError/TypeError come from JSON of the wrong shape). Each is logged, then `oauth_failed`.
_EXCHANGE_ERRORS = (
    OAuthError,
    httpx2.HTTPError,
    JoseError,
    ValueError,
    KeyError,
    TypeError,
    TimeoutError,
    _Invalid,
)


class OAuthRegistry:
    """The enabled providers plus a per-process cache of OIDC discovery documents and JWKS."""

    def __init__(self, providers: dict[str, Provider]) -> None:
        self.providers = providers
        self._metadata: dict[str, tuple[float, OidcMetadata]] = {}
        self._jwks: dict[str, tuple[float, KeySet]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> OAuthRegistry:
        return cls(configured_providers(settings))

    def get(self, name: str) -> Provider:
        provider = self.providers.get(name)
        if provider is None:
            raise NotFound("There is no such sign-in provider.", code="oauth_provider_not_found")
        return provider

    async def authorization_url(
        self,
        provider: Provider,
        *,
        redirect_uri: str,
        state: str,
        code_verifier: str,
        nonce: str,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> str:
        try:
            async with asyncio.timeout(EXCHANGE_DEADLINE):
                if provider.is_oidc:
                    url = (await self._oidc_metadata(provider, transport)).authorization_endpoint
                else:
                    url = str(provider.authorize_url)
        except _EXCHANGE_ERRORS as exc:
            log.warning("oauth_discovery_failed", provider=provider.name, error=repr(exc))
            raise OAuthFailed(f"{provider.label} is unreachable right now; try again.") from exc
        extra = {"nonce": nonce} if provider.is_oidc else {}
        async with self._client(provider, transport, redirect_uri) as client:
            uri, _ = client.create_authorization_url(
                url, state=state, code_verifier=code_verifier, **extra
            )
        return str(uri)

    async def fetch_profile(
        self,
        provider: Provider,
        *,
        redirect_uri: str,
        code: str,
        code_verifier: str,
        nonce: str,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> ProviderProfile:
        """Exchange the code (with the PKCE verifier) and learn who signed in."""
        try:
            async with (
                asyncio.timeout(EXCHANGE_DEADLINE),
                self._client(provider, transport, redirect_uri) as client,
            ):
                if provider.is_oidc:
                    metadata = await self._oidc_metadata(provider, transport)
                    client.token_endpoint_auth_method = metadata.client_auth_method
                    token = await client.fetch_token(
                        metadata.token_endpoint, code=code, code_verifier=code_verifier
                    )
                    id_token = token.get("id_token")
                    if not isinstance(id_token, str):
                        raise _Invalid("no id_token in the token response")
                    claims = await self._verify_id_token(
                        provider, metadata, id_token, nonce, transport
                    )
                    return _oidc_profile(claims)
                await client.fetch_token(
                    provider.access_token_url, code=code, code_verifier=code_verifier
                )
                return await _github_profile(client)
        except _EXCHANGE_ERRORS as exc:
            log.warning("oauth_exchange_failed", provider=provider.name, error=repr(exc))
            raise OAuthFailed(f"Signing in with {provider.label} failed; try again.") from exc

    def _client(
        self,
        provider: Provider,
        transport: httpx2.AsyncBaseTransport | None,
        redirect_uri: str | None = None,
    ) -> Any:
        return AsyncOAuth2Client(
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            token_endpoint_auth_method=provider.client_auth_method,
            scope=provider.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=HTTP_TIMEOUT,
            transport=transport,
            follow_redirects=False,
        )

    async def _get_json(
        self, url: str, transport: httpx2.AsyncBaseTransport | None
    ) -> dict[str, Any]:
        async with httpx2.AsyncClient(timeout=HTTP_TIMEOUT, transport=transport) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            body = response.json()
        if not isinstance(body, dict):
            raise _Invalid(f"{url} did not answer with a JSON object")
        return body

    async def _oidc_metadata(
        self, provider: Provider, transport: httpx2.AsyncBaseTransport | None
    ) -> OidcMetadata:
        cached = self._metadata.get(provider.name)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        doc = await self._get_json(str(provider.discovery_url), transport)
        endpoints = {}
        for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = doc.get(key)
            if not isinstance(value, str) or not value.startswith("https://"):
                raise _Invalid(f"discovery document: {key} missing or not https")
            endpoints[key] = value
        offered = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = tuple(a for a in offered if a in ID_TOKEN_ALGORITHMS) or ("RS256",)
        # Without the field the default is client_secret_basic (OpenID Connect Discovery 1.0).
        methods = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth_method = next(
            (m for m in ("client_secret_basic", "client_secret_post") if m in methods), None
        )
        if auth_method is None:
            raise _Invalid("discovery document: no client secret authentication offered")
        metadata = OidcMetadata(**endpoints, algorithms=algorithms, client_auth_method=auth_method)
        self._metadata[provider.name] = (time.monotonic() + METADATA_TTL, metadata)
        return metadata

    async def _keys(
        self,
        provider: Provider,
        metadata: OidcMetadata,
        transport: httpx2.AsyncBaseTransport | None,
        *,
        refresh: bool,
    ) -> KeySet:
        cached = self._jwks.get(provider.name)
        if not refresh and cached is not None and cached[0] > time.monotonic():
            return cached[1]
        doc = await self._get_json(metadata.jwks_uri, transport)
        keys = KeySet.import_key_set(doc)  # type: ignore[arg-type]
        self._jwks[provider.name] = (time.monotonic() + METADATA_TTL, keys)
        return keys

    async def _verify_id_token(
        self,
        provider: Provider,
        metadata: OidcMetadata,
        id_token: str,
        nonce: str,
        transport: httpx2.AsyncBaseTransport | None,
    ) -> dict[str, Any]:
        keys = await self._keys(provider, metadata, transport, refresh=False)
        try:
            token = jwt.decode(id_token, keys, algorithms=list(metadata.algorithms))
        except InvalidKeyIdError:  # the provider rotated its keys since we cached them
            keys = await self._keys(provider, metadata, transport, refresh=True)
            token = jwt.decode(id_token, keys, algorithms=list(metadata.algorithms))
        claims = dict(token.claims)
        issuer = metadata.issuer
        if "{tenantid}" in issuer:  # Microsoft's multi-tenant endpoints: one issuer per tenant
            tenant = claims.get("tid")
            if not isinstance(tenant, str) or not tenant or "/" in tenant:
                raise _Invalid("id_token: no tenant id")
            issuer = issuer.replace("{tenantid}", tenant)
        jwt.JWTClaimsRegistry(
            leeway=ID_TOKEN_LEEWAY,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": provider.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        ).validate(claims)
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != provider.client_id:
            raise _Invalid("id_token: several audiences and azp is not this client")
        sent = claims.get("nonce")
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
            raise _Invalid("id_token: nonce mismatch")
        return claims


def _text(value: Any, limit: int = 500) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _oidc_profile(claims: dict[str, Any]) -> ProviderProfile:
    email = claims.get("email")
    details = {
        key: _text(claims.get(key))
        for key in ("name", "preferred_username", "picture", "hd", "tid")
        if _text(claims.get(key))
    }
    return ProviderProfile(
        subject=str(claims["sub"]),
        email=email if isinstance(email, str) and email else None,
        email_verified=claims.get("email_verified") is True,
        name=_text(claims.get("name"), 200),
        details=details,
    )


async def _github_profile(client: Any) -> ProviderProfile:
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    user_response = await client.get(GITHUB_USER_URL, headers=headers)
    user_response.raise_for_status()
    user = user_response.json()
    emails_response = await client.get(GITHUB_EMAILS_URL, headers=headers)
    emails_response.raise_for_status()
    emails = emails_response.json()
    if not isinstance(user, dict) or not isinstance(emails, list):
        raise _Invalid("GitHub: unexpected profile shape")
    subject = user.get("id")
    if not isinstance(subject, int) or isinstance(subject, bool):
        raise _Invalid("GitHub: no numeric user id")
    # The primary address only: GitHub also lists secondary and noreply addresses.
    primary = next((e for e in emails if isinstance(e, dict) and e.get("primary") is True), None)
    email = _text(primary.get("email"), 320) if primary else _text(user.get("email"), 320)
    details = {key: _text(user.get(key)) for key in ("login", "name", "avatar_url", "html_url")}
    return ProviderProfile(
        subject=str(subject),
        email=email or None,
        email_verified=primary is not None and primary.get("verified") is True,
        name=_text(user.get("name"), 200) or _text(user.get("login"), 200),
        details={k: v for k, v in details.items() if v},
    )


# --- accounts ----------------------------------------------------------------------------------


# --- per-app wiring ------------------------------------------------------------------------------


def get_registry(request: Request) -> OAuthRegistry:
    """The app's registry, built from its settings on first use (its caches live with the app)."""
    registry: OAuthRegistry | None = getattr(request.app.state, "oauth_registry", None)
    if registry is None:
        registry = OAuthRegistry.from_settings(request.app.state.settings)
        request.app.state.oauth_registry = registry
    return registry


def get_transport(request: Request) -> httpx2.AsyncBaseTransport | None:
    """The HTTP transport override for provider calls (tests only; None means the network).

    Each exchange's client closes its transport when done: use a stateless one (MockTransport).
    """
    return getattr(request.app.state, "oauth_transport", None)
