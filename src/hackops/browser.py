"""Browser-facing protections: CSRF (Origin check + signed double-submit token), flash messages
carried in a signed cookie, and security headers on every response."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hackops.config import Settings
from hackops.errors import AppError

CSRF_COOKIE = "hackops_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
FLASH_COOKIE = "hackops_flash"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FLASH_CATEGORIES = frozenset({"info", "success", "warning", "error"})

PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI's page bootstraps itself with an inline script.
DOCS_CSP = PAGE_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")


class CsrfFailed(AppError):
    status_code = 403
    code = "csrf_failed"
    message = "The form was rejected as a possible cross-site request; reload the page and retry."


def _serializer(request: Request, salt: str) -> URLSafeSerializer:
    settings: Settings = request.app.state.settings
    return URLSafeSerializer(settings.secret_key.get_secret_value(), salt=salt)


def csrf_token(request: Request) -> str:
    """The token for this browser's forms; issues a new signed cookie when there is none."""
    state = request.scope.setdefault("state", {})
    if "csrf_token" in state:
        return str(state["csrf_token"])
    cookie = request.cookies.get(CSRF_COOKIE)
    serializer = _serializer(request, "csrf")
    token = None
    if cookie:
        try:
            serializer.loads(cookie)
            token = cookie
        except BadSignature:
            token = None
    if token is None:
        token = serializer.dumps(secrets.token_urlsafe(32))
        state["set_csrf_cookie"] = token
    state["csrf_token"] = token
    return token


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


async def csrf_protect(request: Request) -> None:
    """Dependency for page routers: unsafe methods need a same-origin request and the token."""
    if request.method in SAFE_METHODS:
        return
    settings: Settings = request.app.state.settings
    allowed = {_origin_of(settings.base_url), _origin_of(str(request.base_url))}
    origin = request.headers.get("origin")
    if origin is None and (referer := request.headers.get("referer")):
        origin = _origin_of(referer)
    if origin is not None and origin.lower() not in allowed:
        raise CsrfFailed(details={"reason": "origin_mismatch"})
    # Everything decidable from the headers is decided before the body is touched: a request
    # this check refuses never has its form parsed (nor its files spooled to disk).
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie:
        raise CsrfFailed(details={"reason": "token_missing_or_wrong"})
    try:
        _serializer(request, "csrf").loads(cookie)
    except BadSignature as exc:
        raise CsrfFailed(details={"reason": "token_invalid"}) from exc
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        # Same origin and a genuine cookie: the form is read (bounded by bodylimit.py).
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(cookie, sent):
        raise CsrfFailed(details={"reason": "token_missing_or_wrong"})


def flash(request: Request, message: str, category: str = "info") -> None:
    """Queue a message for the next page this browser renders."""
    if category not in FLASH_CATEGORIES:
        raise ValueError(f"unknown flash category {category!r}")
    state = request.scope.setdefault("state", {})
    state.setdefault("flash_out", []).append({"category": category, "message": message})


def pop_flashes(request: Request) -> list[dict[str, str]]:
    """The messages queued for this browser; they are shown once."""
    state = request.scope.setdefault("state", {})
    if "flashes_in" in state:
        return list(state["flashes_in"])
    messages: list[dict[str, str]] = []
    cookie = request.cookies.get(FLASH_COOKIE)
    if cookie:
        state["clear_flash_cookie"] = True
        try:
            loaded: Any = _serializer(request, "flash").loads(cookie)
            if isinstance(loaded, list):
                messages = [
                    {"category": str(m.get("category")), "message": str(m.get("message"))}
                    for m in loaded
                    if isinstance(m, dict) and m.get("category") in FLASH_CATEGORIES
                ]
        except BadSignature:
            messages = []
    state["flashes_in"] = messages
    return messages


class BrowserStateMiddleware:
    """Writes the cookies the request asked for (CSRF token, flash) and the security headers."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.flash_serializer = URLSafeSerializer(
            settings.secret_key.get_secret_value(), salt="flash"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        secure = not self.settings.is_dev and self.settings.base_url.startswith("https")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault(
                    "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
                )
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault(
                    "Content-Security-Policy", DOCS_CSP if path == "/docs" else PAGE_CSP
                )
                if secure:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                state = scope.get("state", {})
                flags = "; Path=/; SameSite=Lax" + ("; Secure" if secure else "")
                if token := state.get("set_csrf_cookie"):
                    headers.append("Set-Cookie", f"{CSRF_COOKIE}={token}; HttpOnly{flags}")
                if out := state.get("flash_out"):
                    value = self.flash_serializer.dumps(out[-10:])
                    headers.append("Set-Cookie", f"{FLASH_COOKIE}={value}; HttpOnly{flags}")
                elif state.get("clear_flash_cookie"):
                    headers.append("Set-Cookie", f"{FLASH_COOKIE}=; Max-Age=0; HttpOnly{flags}")
            await send(message)

        await self.app(scope, receive, send_wrapper)
