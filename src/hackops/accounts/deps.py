"""Who is calling: resolve the session cookie or bearer token, once per request.

- A browser sends the `hackops_session` cookie; an API client sends `Authorization: Bearer`.
- Unsafe API requests authenticated by the cookie must also pass the CSRF check, since a browser
  attaches cookies to cross-site requests.
- API tokens carry scopes: `read` allows safe methods (GET, HEAD, OPTIONS); `write` allows the
  rest and implies `read`; a token with neither may do nothing. Session tokens (sign-in) may
  do everything their user may. `SCOPES_DOC` says the same in the OpenAPI document.
- The two ways in are declared as OpenAPI security schemes (`bearerAuth`, `sessionCookie`):
  `get_actor` depends on them, so every route that reads the caller lists both and Swagger's
  Authorize button sends either.
The actor is recorded in the transaction for row-level security (`hackops.user_id`), by the
request gate's one statement (`hackops.gate`), which on a route that loads an organization or
event also reads that for its loader; `accounts.auth_tokens.resolve_token` is the same resolution
in ORM queries (the live socket, the idempotency middleware, and the reference the gate's
equivalence test compares with).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyCookie, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import gate
from hackops.accounts import auth_tokens, service
from hackops.accounts.credentials import digest
from hackops.actor import Actor, NotAuthenticated
from hackops.browser import SAFE_METHODS, csrf_protect
from hackops.config import Settings
from hackops.db import get_session, is_request_session
from hackops.errors import Forbidden, Unauthorized
from hackops.models import AuthToken, TokenKind, User
from hackops.tenancy import set_actor

SESSION_COOKIE = "hackops_session"
READ, WRITE = "read", "write"
SCOPES_DOC = (
    "Personal API tokens (`POST /api/v1/me/tokens`) carry scopes: `read` allows GET, HEAD and "
    "OPTIONS; `write` allows every method: `write` implies `read`. A token may only do what its "
    "user may; a refused scope is 403 `insufficient_scope`."
)

#: An operation's OpenAPI `security`: either scheme (every route that depends on `get_actor`).
SECURITY_REQUIREMENT: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"sessionCookie": []}]

bearer_scheme = HTTPBearer(
    scheme_name="bearerAuth",
    description="`Authorization: Bearer <token>`: a personal API token or a session token. "
    + SCOPES_DOC,
    auto_error=False,
)
session_cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="sessionCookie",
    description="The browser's sign-in session cookie (set when signing in). Unsafe requests "
    "authenticated by it must also pass the CSRF check (same origin and the `X-CSRF-Token` "
    "header matching the CSRF cookie); API clients use a bearer token instead.",
    auto_error=False,
)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def credentials(request: Request) -> tuple[str | None, bool]:
    """(raw token, came from the cookie)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else (None, False)


def invalid_token() -> Unauthorized:
    """A bearer token that is unknown, expired or revoked (a bad cookie is just anonymous)."""
    return Unauthorized(
        "The token is invalid, expired or revoked.",
        code="invalid_token",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def scope_allows(scopes: list[str], method: str) -> bool:
    """`write` implies `read`; safe methods need either, the others `write`."""
    if method in SAFE_METHODS:
        return READ in scopes or WRITE in scopes
    return WRITE in scopes


@gate.loads(gate.CALLER)
async def get_actor(request: Request) -> Actor:
    """The caller, resolved once per request by the gate's one statement (`hackops.gate`), which
    also sets them as the transaction's actor and, on a route that loads an organization or event,
    reads that for its loader and sets the tenant. The request's session is made only when that
    statement runs in it: a route that reads the caller alone answers from the read pool with no
    session at all (`actor_in`).

    The two ways of signing in (`bearer_scheme`, `session_cookie_scheme`) are not dependencies of
    this one: FastAPI would run both for every request (each a dependency to solve, the header and
    the cookies parsed again) only for the OpenAPI document, which `main._document_auth` writes
    from the routes that depend on this function instead."""
    return await actor_in(request, None)


async def actor_in(request: Request, session: AsyncSession | None) -> Actor:
    """`get_actor` in `session` (None: the request's own, made if the gate needs it)."""
    cached: Actor | None = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    raw, from_cookie = credentials(request)
    if request.app.state.settings.request_gate:
        token, user = await _through_the_gate(request, session, raw, from_cookie)
    else:
        token, user = await _by_queries(session or await get_session(request), raw, from_cookie)
    unsafe = request.method not in SAFE_METHODS
    if token is not None and unsafe and from_cookie and request.url.path.startswith("/api/"):
        await csrf_protect(request)
    api_token = token is not None and token.kind == TokenKind.API
    if api_token and token is not None and not scope_allows(token.scopes, request.method):
        raise Forbidden(
            "This token may only read."
            if READ in token.scopes
            else "This token has no scope that allows this request.",
            code="insufficient_scope",
        )
    actor = Actor(
        user=user, ip=client_ip(request), user_agent=request.headers.get("user-agent", "")[:400]
    )
    request.state.actor = actor
    request.state.auth_token = token
    return actor


async def _through_the_gate(
    request: Request, session: AsyncSession | None, raw: str | None, from_cookie: bool
) -> tuple[AuthToken | None, User | None]:
    """The caller in one statement, with what the route's loaders need (`hackops.gate`)."""
    needs = gate.NOTHING
    # A second resolve (`reauthenticate`, after `db.release`) reads the caller only.
    if not getattr(request.state, "gated", False):
        needs = gate.route_needs(request.scope.get("route"), request.path_params, request.method)
        request.state.gated = True
    if not raw and needs.event_slug is None:
        return None, None
    caller = None
    reads = request.app.state.db.reads
    own = session is None or is_request_session(request, session)
    if raw and needs.alone and reads is not None and own:
        # The caller is all the route reads: one autocommit round trip, no transaction.
        caller = await gate.run_on_pool(reads, digest(raw), bearer=not from_cookie)
    if caller is None:
        caller = await gate.run(
            session or await get_session(request),
            digest(raw) if raw else None,
            bearer=not from_cookie,
            needs=needs,
        )
    if caller.invalid:
        raise invalid_token()
    if caller.unread is not None:
        request.state.unread_total = caller.unread
    return caller.token, caller.user


async def _by_queries(
    session: AsyncSession, raw: str | None, from_cookie: bool
) -> tuple[AuthToken | None, User | None]:
    """The caller as `resolve_token` reads them, then set as the actor (`request_gate` off)."""
    if not raw:
        return None, None
    resolved = await auth_tokens.resolve_token(session, raw)
    if resolved is None:
        if not from_cookie:
            raise invalid_token()
        return None, None
    token, user = resolved
    await set_actor(session, user.id, platform_admin=user.is_platform_admin)
    return token, user


ActorDep = Annotated[Actor, Depends(get_actor)]


async def reauthenticate(request: Request, session: AsyncSession) -> Actor:
    """The caller again, in the session's new transaction after `db.release`: the token is
    resolved anew (one revoked meanwhile is refused) and the actor set for row-level security."""
    request.state.actor = None
    return await actor_in(request, session)


async def require_user(actor: ActorDep) -> User:
    if actor.user is None:
        raise NotAuthenticated(headers={"WWW-Authenticate": "Bearer"})
    return actor.user


CurrentUserDep = Annotated[User, Depends(require_user)]


async def require_platform_admin(user: CurrentUserDep) -> User:
    if not user.is_platform_admin:
        raise Forbidden("Platform administrators only.", code="platform_admin_only")
    return user


PlatformAdminDep = Annotated[User, Depends(require_platform_admin)]


def current_token(request: Request) -> AuthToken | None:
    return getattr(request.state, "auth_token", None)


def get_services(request: Request) -> service.Services:
    return request.app.state.account_services  # type: ignore[no-any-return]


ServicesDep = Annotated[service.Services, Depends(get_services)]


async def hashing_slot(services: ServicesDep) -> AsyncIterator[None]:
    """A password hashing slot for the whole request, taken before any dependency reads the
    database (list it first, in the route's `dependencies`): requests queued for hashing hold
    no pooled connection."""
    async with services.hasher.reserve():
        yield


def set_session_cookie(response: Response, raw_token: str, settings: Settings) -> None:
    """Attach a sign-in session to the browser: HttpOnly, SameSite=Lax, Secure outside dev."""
    response.set_cookie(
        SESSION_COOKIE,
        raw_token,
        max_age=settings.session_lifetime_days * 86400,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, secure=settings.secure_cookies, samesite="lax", path="/"
    )
