"""Browser side of OAuth sign-in: start (and link) redirect to the provider, the callback signs in.

What must survive the round trip to the provider (state, PKCE verifier, nonce, provider, where
to go next, and for a link flow which user asked) travels in a signed cookie that lives ten
minutes and is sent only to /auth/oauth. The callback accepts it once: it is cleared on success
and on every refusal.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from hackops.accounts.deps import ActorDep, CurrentUserDep, ServicesDep, set_session_cookie
from hackops.accounts.oauth import (
    OAuthFailed,
    OAuthStateInvalid,
    Provider,
    get_registry,
    get_transport,
)
from hackops.accounts.oauth_service import SignInOutcome, resolve_account
from hackops.browser import csrf_protect, flash
from hackops.config import Settings
from hackops.db import SessionDep
from hackops.errors import AppError
from hackops.models import User
from hackops.routing import Router
from hackops.web import kit

FLOW_COOKIE = "hackops_oauth"
FLOW_PATH = "/auth/oauth"
FLOW_MAX_AGE = 600  # seconds to complete the provider's sign-in

router = Router(dependencies=[Depends(csrf_protect)], include_in_schema=False)

NextQuery = Annotated[str | None, Query(alias="next")]


@dataclass(frozen=True)
class Flow:
    provider: str
    state: str
    code_verifier: str
    nonce: str
    next_path: str
    link_user_id: str | None = None


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt="oauth-flow")


def read_flow(request: Request, settings: Settings) -> Flow | None:
    """The flow this browser started, or None (missing, tampered with, expired, malformed)."""
    raw = request.cookies.get(FLOW_COOKIE)
    if not raw:
        return None
    try:
        data: Any = _serializer(settings).loads(raw, max_age=FLOW_MAX_AGE)
        return Flow(**data) if isinstance(data, dict) else None
    except (BadSignature, TypeError):
        return None


def safe_next(value: str | None) -> str:
    """A path on this site to return to; anything else (another host, a scheme) becomes "/"."""
    return kit.safe_next(value) or "/"


def _redirect_uri(settings: Settings, provider: Provider) -> str:
    return f"{settings.base_url}{FLOW_PATH}/{provider.name}/callback"


def _clear_flow_cookie(settings: Settings) -> str:
    response = Response()
    response.delete_cookie(
        FLOW_COOKIE, path=FLOW_PATH, httponly=True, secure=settings.secure_cookies, samesite="lax"
    )
    return response.headers["set-cookie"]


async def _begin(request: Request, name: str, next_path: str | None, user: User | None) -> Response:
    settings: Settings = request.app.state.settings
    registry = get_registry(request)
    provider = registry.get(name)
    flow = Flow(
        provider=provider.name,
        state=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(48),
        nonce=secrets.token_urlsafe(24),
        next_path=safe_next(next_path),
        link_user_id=str(user.id) if user is not None else None,
    )
    url = await registry.authorization_url(
        provider,
        redirect_uri=_redirect_uri(settings, provider),
        state=flow.state,
        code_verifier=flow.code_verifier,
        nonce=flow.nonce,
        transport=get_transport(request),
    )
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        FLOW_COOKIE,
        _serializer(settings).dumps(asdict(flow)),
        max_age=FLOW_MAX_AGE,
        path=FLOW_PATH,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
    )
    return response


@router.get("/auth/oauth/{provider}/start", name="oauth_start")
async def oauth_start(request: Request, provider: str, next_path: NextQuery = None) -> Response:
    return await _begin(request, provider, next_path, None)


@router.get("/auth/oauth/{provider}/link", name="oauth_link")
async def oauth_link(
    request: Request, provider: str, user: CurrentUserDep, next_path: NextQuery = None
) -> Response:
    return await _begin(request, provider, next_path, user)


MESSAGES = {
    SignInOutcome.SIGNED_IN: "Signed in with {label}.",
    SignInOutcome.REGISTERED: "Welcome! Your account was created with {label}.",
    SignInOutcome.LINKED: "Your {label} account is now linked; you are signed in.",
}
LINK_MESSAGES = {
    SignInOutcome.LINKED: "{label} is now linked to your account.",
    SignInOutcome.ALREADY_LINKED: "This {label} account was already linked to yours.",
}


UNPROVEN_LINK = (
    " Your email address is not confirmed yet: confirming it with a password reset or a sign-in"
    " link removes this link (nothing shows who made it). Link {label} again once your address"
    " is confirmed to keep it."
)


@router.get("/auth/oauth/{provider}/callback", name="oauth_callback")
async def oauth_callback(
    request: Request,
    provider: str,
    session: SessionDep,
    actor: ActorDep,
    services: ServicesDep,
) -> Response:
    settings: Settings = request.app.state.settings
    registry = get_registry(request)
    chosen = registry.get(provider)
    params = request.query_params
    try:
        flow = read_flow(request, settings)
        state = params.get("state") or ""
        if (
            flow is None
            or flow.provider != chosen.name
            or not hmac.compare_digest(state.encode(), flow.state.encode())
        ):
            raise OAuthStateInvalid
        linking = flow.link_user_id is not None
        if linking and (actor.user is None or str(actor.user.id) != flow.link_user_id):
            raise OAuthStateInvalid("You were signed out while linking; sign in and start again.")
        if error := params.get("error"):
            raise OAuthFailed(
                f"{chosen.label} did not sign you in.", details={"provider_error": error[:100]}
            )
        code = params.get("code")
        if not code:
            raise OAuthFailed
        profile = await registry.fetch_profile(
            chosen,
            redirect_uri=_redirect_uri(settings, chosen),
            code=code,
            code_verifier=flow.code_verifier,
            nonce=flow.nonce,
            transport=get_transport(request),
        )
        user, outcome = await resolve_account(
            session, actor, chosen, profile, link_to=actor.user if linking else None
        )
    except AppError as exc:
        exc.headers.setdefault("set-cookie", _clear_flow_cookie(settings))
        raise
    response = RedirectResponse(flow.next_path, status_code=303)
    response.delete_cookie(
        FLOW_COOKIE, path=FLOW_PATH, httponly=True, secure=settings.secure_cookies, samesite="lax"
    )
    if not linking:
        raw = await kit.session_token(
            session, actor, user, services, name=f"{chosen.label} sign-in"
        )
        set_session_cookie(response, raw, settings)
    message = (LINK_MESSAGES if linking else MESSAGES)[outcome].format(label=chosen.label)
    if linking and not user.email_verified:
        message += UNPROVEN_LINK.format(label=chosen.label)
    flash(request, message, "success")
    return response
