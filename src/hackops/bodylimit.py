"""Request bodies, bounded before anything parses them: one pure ASGI middleware.

- A declared `Content-Length` over the route's limit is answered 413 at once; the body is never
  read (not by FastAPI's JSON or form parsing, not by the CSRF check, not into /tmp).
- A body without a length (chunked), or with a false one, is counted as it streams; the chunk
  that crosses the limit is not passed on.
- A body that stops arriving (no byte for `BODY_TIMEOUT_SECONDS`) is answered 408.

In the last two cases the middleware answers the client itself and hands the application a
disconnected client (`http.disconnect`), so whatever the application does next reaches no one
and nothing half-read is ever processed as if it were whole. The answer is the usual error
envelope (JSON under /api, the error page elsewhere), rendered by `errors.render_error`.

Limits: `MAX_BODY_BYTES` (1 MiB) for every request, except the upload routes: a submission file
may be up to the `MAX_UPLOAD_BYTES` ceiling here, and the route holds it to its event's own
limit while streaming; the CSV import to its 5 MB plus form overhead.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hackops.config import Settings
from hackops.errors import render_error

MiB = 1024 * 1024
# registrations.csv_io.MAX_IMPORT_BYTES (5 MB), plus room for a multipart form's other parts.
IMPORT_BODY_BYTES = 6 * MiB
_SEGMENT = r"[^/]+"
_TEAM_FILES = rf"/events/{_SEGMENT}/teams/{_SEGMENT}/submission/files"
_IMPORT = rf"/events/{_SEGMENT}/registrations/import"


@dataclass(frozen=True)
class BodyRule:
    """Requests of `method` whose path matches `pattern` may send up to `limit` bytes."""

    method: str
    pattern: re.Pattern[str]
    limit: int


def rules_for(settings: Settings) -> tuple[BodyRule, ...]:
    uploads = settings.max_upload_bytes
    return (
        BodyRule("POST", re.compile(rf"^/api/v1/organizations/{_SEGMENT}{_TEAM_FILES}$"), uploads),
        BodyRule("POST", re.compile(rf"^/orgs/{_SEGMENT}{_TEAM_FILES}$"), uploads),
        BodyRule(
            "POST", re.compile(rf"^/api/v1/organizations/{_SEGMENT}{_IMPORT}$"), IMPORT_BODY_BYTES
        ),
        BodyRule(
            "POST",
            re.compile(rf"^/orgs/{_SEGMENT}/events/{_SEGMENT}/admin/registrations/import$"),
            IMPORT_BODY_BYTES,
        ),
    )


def _declared(scope: Scope) -> tuple[int | None, bool]:
    """The declared `Content-Length` (None: absent or not a number) and whether the request
    says a body follows at all (a length above 0, a `Transfer-Encoding`, or a broken length)."""
    length: int | None = None
    body = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            length = int(text) if text.isdigit() else None
            body = body or length != 0
        elif name == b"transfer-encoding":
            body = True
    return length, body


def _size(limit: int) -> str:
    if limit >= MiB and limit % MiB == 0:
        return f"{limit // MiB} MiB"
    return f"{limit} bytes"


class BodyLimitMiddleware:
    """Caps request bodies by size and by idle time (see the module notes)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        timeout_seconds: float,
        rules: Sequence[BodyRule] = (),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout_seconds = timeout_seconds
        self.rules = tuple(rules)

    @classmethod
    def options(cls, settings: Settings) -> dict[str, object]:
        """Keyword arguments for `app.add_middleware` from the settings."""
        return {
            "max_body_bytes": settings.max_body_bytes,
            "timeout_seconds": settings.body_timeout_seconds,
            "rules": rules_for(settings),
        }

    def limit_for(self, scope: Scope) -> int:
        method, path = scope.get("method", ""), scope.get("path", "")
        for rule in self.rules:
            if rule.method == method and rule.pattern.match(path):
                return rule.limit
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, has_body = _declared(scope)
        if not has_body:
            # Nothing to count or wait for (most GETs): no wrapper around receive and send.
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        if declared is not None and declared > limit:
            await _answer(scope, receive, send, 413, limit)
            return
        body = _Body(scope, receive, send, limit, self.timeout_seconds)
        await self.app(scope, body.receive, body.send)


class _Body:
    """The request's `receive`, counting and timing the body; answers 413/408 itself."""

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, limit: int, timeout: float
    ) -> None:
        self.scope, self._receive, self._send = scope, receive, send
        self.limit, self.timeout = limit, timeout
        self.received = 0
        self.complete = False
        self.refused = False
        self.started = False

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        if self.complete:  # after the body: waiting for a disconnect may take any time
            return await self._receive()
        try:
            async with asyncio.timeout(self.timeout):
                message = await self._receive()
        except TimeoutError:
            return await self._refuse(408)
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                return await self._refuse(413)
            self.complete = not message.get("more_body", False)
        return message

    async def send(self, message: Message) -> None:
        if self.refused:  # the client has had its answer; the application's goes nowhere
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def _refuse(self, status: int) -> Message:
        self.refused = True
        if not self.started:
            await _answer(self.scope, self._receive, self._send, status, self.limit)
        return {"type": "http.disconnect"}


async def _answer(scope: Scope, receive: Receive, send: Send, status: int, limit: int) -> None:
    request = Request(scope)
    if status == 413:
        code, message = (
            "payload_too_large",
            f"The request body is larger than the {_size(limit)} this address accepts.",
        )
        details: dict[str, int] | None = {"max_bytes": limit}
    else:
        code, message = (
            "request_timeout",
            "The request body stopped arriving; send it again on a steadier connection.",
        )
        details = None
    response = render_error(
        request, status, code, message, details, headers={"Connection": "close"}
    )
    await response(scope, receive, send)
