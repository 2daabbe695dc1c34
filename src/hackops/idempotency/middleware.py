"""The ASGI middleware that applies the idempotency rules to POST and PATCH under /api/v1, and
the header's OpenAPI documentation; the rules and failure cases are in the package docstring
(`hackops.idempotency`)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import IO, Any

import psycopg
import structlog
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hackops.accounts.auth_tokens import resolve_token
from hackops.accounts.deps import credentials
from hackops.db import Database
from hackops.errors import render_error
from hackops.idempotency.store import (
    Claim,
    IdempotencyKeyInUse,
    InProgress,
    Outcome,
    Replay,
    Reused,
    claim_key,
    complete,
    kept_headers,
    release,
    request_digest,
    storable,
)

log = structlog.get_logger("hackops.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = frozenset({"POST", "PATCH"})
API_PREFIX = "/api/v1/"
MAX_KEY_LENGTH = 255
SPOOL_MEMORY_BYTES = 1024 * 1024
REPLAY_CHUNK_BYTES = 64 * 1024

KEY_MESSAGE = (
    f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, sent once"
    " (a random UUID is a good choice)."
)


def parse_key(values: list[bytes]) -> str | None:
    """The key when well-formed (sent once, 1-255 printable ASCII characters), else None."""
    if len(values) != 1 or not 1 <= len(values[0]) <= MAX_KEY_LENGTH:
        return None
    if any(byte < 0x20 or byte > 0x7E for byte in values[0]):
        return None
    return values[0].decode("ascii")


class SpooledBody:
    """The request body read once (1 MiB in memory, the rest on disk) and hashed, then replayed
    to the application as if it came from the client."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - see close()
            max_size=SPOOL_MEMORY_BYTES
        )
        self.size = 0

    async def read(self, receive: Receive, digest: Any) -> bool:
        """False when the client left before sending the whole body."""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return False
            chunk: bytes = message.get("body", b"")
            if chunk:
                digest.update(chunk)
                self.file.write(chunk)
                self.size += len(chunk)
            if not message.get("more_body", False):
                self.file.seek(0)
                return True

    def replay(self, receive: Receive) -> Receive:
        done = False

        async def replayed() -> Message:
            nonlocal done
            if done:
                return await receive()
            chunk = self.file.read(REPLAY_CHUNK_BYTES)
            done = self.file.tell() >= self.size
            return {"type": "http.request", "body": chunk, "more_body": not done}

        return replayed

    def close(self) -> None:
        self.file.close()


@dataclass(slots=True)
class Captured:
    """What the application answered (for the store after the fact)."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    finished: bool = False

    def record(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = kept_headers(
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
            )
        elif message["type"] == "http.response.body":
            self.body.extend(message.get("body", b""))
            self.finished = not message.get("more_body", False)


def _database_down(exc: Exception) -> bool:
    if isinstance(exc, PoolTimeout):
        return True
    assert isinstance(exc, DBAPIError)
    return exc.connection_invalidated or isinstance(exc.orig, psycopg.OperationalError)


class IdempotencyMiddleware:
    """Applies the rules above to POST and PATCH under /api/v1 (innermost middleware, so a
    replay gets the security headers and request id of its own request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in METHODS
            or not scope["path"].startswith(API_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        values = [v for k, v in scope.get("headers", []) if k == b"idempotency-key"]
        if not values:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        key = parse_key(values)
        if key is None:
            await render_error(request, 400, "idempotency_key_invalid", KEY_MESSAGE)(
                scope, receive, send
            )
            return
        raw_token, _ = credentials(request)
        if raw_token is None:  # anonymous: see hackops.idempotency
            await self.app(scope, receive, send)
            return
        body = SpooledBody()
        try:
            await self._with_key(scope, receive, send, request, key, raw_token, body)
        finally:
            body.close()

    async def _with_key(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request: Request,
        key: str,
        raw_token: str,
        body: SpooledBody,
    ) -> None:
        method: str = scope["method"]
        query = scope.get("query_string", b"").decode("latin-1")
        path = scope["path"] + (f"?{query}" if query else "")
        digest = request_digest(method, path)
        if not await body.read(receive, digest):
            return
        database: Database = scope["app"].state.db
        try:
            outcome = await self._claim(database, raw_token, key, digest.hexdigest(), method, path)
        except (DBAPIError, PoolTimeout) as exc:
            if not _database_down(exc):
                raise
            log.error("idempotency_claim_failed", error=str(exc))
            response = render_error(
                request,
                503,
                "database_unavailable",
                "The database is unavailable; try again shortly.",
                headers={"Retry-After": "5"},
            )
            await response(scope, receive, send)
            return
        if outcome is None:  # the token resolves to nobody: the route answers 401
            await self.app(scope, body.replay(receive), send)
            return
        if isinstance(outcome, Claim):
            await self._run(scope, body.replay(receive), send, database, outcome)
            return
        await self._answer(outcome, request)(scope, receive, send)

    @staticmethod
    def _answer(outcome: Replay | Reused | InProgress, request: Request) -> Response:
        if isinstance(outcome, Replay):
            headers = {**outcome.headers, REPLAYED_HEADER: "true"}
            return Response(outcome.body, status_code=outcome.status, headers=headers)
        if isinstance(outcome, Reused):
            return render_error(
                request,
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request; use a new key"
                " for a new request.",
                {"method": outcome.method, "path": outcome.path},
            )
        in_use = IdempotencyKeyInUse(headers={"Retry-After": "1"})
        return render_error(request, 409, in_use.code, in_use.message, None, in_use.headers)

    @staticmethod
    async def _claim(
        database: Database, raw_token: str, key: str, fingerprint: str, method: str, path: str
    ) -> Outcome | None:
        async with database.sessionmaker() as session:
            resolved = await resolve_token(session, raw_token)
            if resolved is None:
                return None
            outcome = await claim_key(
                session, resolved[1].id, key, fingerprint=fingerprint, method=method, path=path
            )
            await session.commit()
            return outcome

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, database: Database, claim: Claim
    ) -> None:
        scope.setdefault("state", {})["commit_participant"] = claim
        captured = Captured()

        async def capture(message: Message) -> None:
            if not claim.stored:  # stored with the commit: nothing left to keep
                captured.record(message)
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            if not claim.stored:
                await _finish(database, claim, None)
            raise
        if claim.stored or claim.lost:
            return
        keep = captured.finished and storable(captured.status)
        await _finish(database, claim, captured if keep else None)


async def _finish(database: Database, claim: Claim, captured: Captured | None) -> None:
    """Store the answer (a refusal, after its rollback) or release the key; best effort: if the
    database is gone, the claim expires after CLAIM_TIMEOUT."""
    try:
        async with database.sessionmaker() as session:
            if captured is None:
                await release(session, claim)
            else:
                headers, body = captured.headers, bytes(captured.body)
                await complete(session, claim, captured.status, headers, body)
            await session.commit()
    except Exception as exc:
        log.warning("idempotency_finish_failed", error=str(exc), stored=captured is not None)


# --- the OpenAPI document ----------------------------------------------------------------------

HEADER_DOC = (
    "Makes this write safe to retry (signed-in callers; ignored for anonymous ones). The first"
    " response is kept for 24 hours; a retry with the same key and the same request gets it back"
    f" with `{REPLAYED_HEADER}: true` and changes nothing. Errors 5xx, 401, 403, 408 and 429"
    " are not kept. Same key, other request: 422 `idempotency_key_reused`; while the first"
    " request runs: 409 `idempotency_key_in_use`; malformed: 400 `idempotency_key_invalid`."
)
PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": HEADER_DOC,
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[\\x20-\\x7E]+$",
    },
}
ERRORS = {"400": "Bad request", "409": "Conflict", "422": "Validation error"}


def document(schema: dict[str, Any]) -> None:
    """Add the header and its errors to every POST and PATCH operation under /api/v1."""
    envelope = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(API_PREFIX):
            continue
        for method, operation in operations.items():
            if method.upper() not in METHODS:
                continue
            operation.setdefault("parameters", []).append(PARAMETER)
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                responses.setdefault(status, {"description": description, "content": envelope})


def install(app: FastAPI) -> None:
    """Register the middleware (call before the other middleware: it must be innermost) and
    document the header in the OpenAPI document."""
    app.add_middleware(IdempotencyMiddleware)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document(generate())
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]
