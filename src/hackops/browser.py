"""Browser-facing protections: CSRF (Origin check + signed double-submit token), flash messages
carried in a signed cookie, and security headers on every response."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer
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


def security_headers(*, docs: bool, secure: bool) -> tuple[tuple[bytes, bytes], ...]:
    """The headers every response carries unless it set its own, as raw ASGI pairs."""
    headers = [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("x-frame-options", "DENY"),
        ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
        ("cross-origin-opener-policy", "same-origin"),
        ("content-security-policy", DOCS_CSP if docs else PAGE_CSP),
    ]
    if secure:
        headers.append(("strict-transport-security", "max-age=31536000"))
    return tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers)


class BrowserStateMiddleware:
    """Writes the cookies the request asked for (CSRF token, flash) and the security headers.

    Pure ASGI and cheap on every response: the headers are encoded once, here, and added to the
    response's raw list where it did not set its own (one pass over its few headers); the
    cookies cost something only when a page asked for them (`csrf_token`, `flash`,
    `pop_flashes` leave their wish in the request's state).
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.flash_serializer = URLSafeSerializer(
            settings.secret_key.get_secret_value(), salt="flash"
        )
        secure = not settings.is_dev and settings.base_url.startswith("https")
        self.page_headers = security_headers(docs=False, secure=secure)
        self.docs_headers = security_headers(docs=True, secure=secure)
        self.cookie_flags = "; Path=/; SameSite=Lax" + ("; Secure" if secure else "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        defaults = self.docs_headers if scope["path"] == "/docs" else self.page_headers

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(pair for pair in defaults if pair[0] not in present)
                state = scope.get("state")
                if state:
                    headers.extend(self._cookies(state))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def _cookies(self, state: dict[str, Any]) -> list[tuple[bytes, bytes]]:
        flags = self.cookie_flags
        cookies: list[str] = []
        if token := state.get("set_csrf_cookie"):
            cookies.append(f"{CSRF_COOKIE}={token}; HttpOnly{flags}")
        if out := state.get("flash_out"):
            value = self.flash_serializer.dumps(out[-10:])
            cookies.append(f"{FLASH_COOKIE}={value}; HttpOnly{flags}")
        elif state.get("clear_flash_cookie"):
            cookies.append(f"{FLASH_COOKIE}=; Max-Age=0; HttpOnly{flags}")
        return [(b"set-cookie", cookie.encode("latin-1")) for cookie in cookies]
