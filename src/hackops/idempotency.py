"""Idempotency keys: writes an API client can retry safely (Stripe's semantics).

A signed-in client sends `Idempotency-Key: <1-255 printable ASCII characters>` (a UUID is a good
choice) with a `POST` or `PATCH` under `/api/v1`. The first request with a key runs and its
response (status, the headers that describe it, body) is stored with the key for 24 hours. A
retry with the same key and the same request (SHA-256 of method, path with query, body) gets
the stored response without running again, marked `Idempotent-Replayed: true`. The same key
with another request is 422 `idempotency_key_reused`; a retry while the first still runs is
409 `idempotency_key_in_use` (with `Retry-After`). A malformed key is 400
`idempotency_key_invalid`.

Scope: keys belong to the person (the user of the session cookie or bearer token, so two tokens
of one person share keys, two people never do). Anonymous requests (register, sign-in, sign-in
links) have the key checked for syntax and otherwise ignored: keyed by the key alone, one
stranger could replay another's response (sign-in answers carry a session token); keyed by
address, people behind one NAT would. Those routes are safe to repeat anyway.

What is stored: 2xx and 4xx, like Stripe, except 401, 403, 408 and 429 (the caller's
credentials or pace, not the request, were refused: a retry after fixing them must run). 5xx
and exceptions are never stored: the claim is released and the client may retry. A refused
request wrote nothing (its transaction rolled back), so storing its answer only keeps answers
consistent. A replay does not re-check authorization: the response was already shown to the
same person and nothing is written.

Lifecycle of a key (table `idempotency_keys`, one row per (user, key)):

1. The body is read first, spooled (1 MiB in memory, the rest on disk) and hashed, with no
   database connection held while the client sends (uploads work; the body-limit middleware,
   outside this one, caps the size). It is then replayed to the application unchanged.
2. Claim, in its own short committed transaction: resolve the caller's token, then
   `INSERT … ON CONFLICT (user_id, key) DO UPDATE … WHERE <the row is expired>`, so the
   database alone decides who holds the key. An expired row is a completed one older than 24 h
   or an in-progress one older than 60 s (its request died). No row returned: read the row and
   answer 422 (other fingerprint), 409 (in progress) or the replay (completed).
3. The request runs. `TransactionalRoute` calls `before_commit` (see `db.CommitParticipant`):
   the row becomes `completed` with the response IN THE REQUEST'S OWN TRANSACTION, guarded by
   `claim = <this request's claim id>`, so the write and its stored response commit together.
4. Afterwards: a storable answer that did not come through step 3 (an error rendered after the
   rollback, no route) is stored in a short transaction of its own; anything else releases the
   claim (the row is deleted, guarded by the claim id).

Why the same transaction (decided so): a stored response committed separately after the write
can be lost to a crash or a lost connection in between, and after the claim timeout the retry
would run the write a second time. Committed together there is never a write without its stored
response nor a stored response without its write; the cost is one UPDATE in the request's
transaction.

Failure cases:

- Identical requests at once: the unique index serializes the claim INSERTs; one wins, the others
  get 409 (or the replay, if the winner committed first).
- Crash or kill before the commit: nothing committed; the row stays `in_progress`; retries get 409
  for up to 60 s, then the next one re-claims the key and runs.
- Crash after the commit, before the client read the answer: the retry is replayed.
- Commit outcome unknown (connection lost during COMMIT): both the write and the response
  committed (retry replays) or neither (retry re-claims after 60 s).
- A request that outlives its 60 s claim: a retry may re-claim the key; the first request's
  completion then matches no row, so it raises 409 and rolls its write back: exactly one of the
  two commits. If the first already completed (row locked), the re-claim waits for its commit and
  sees the completed row: replay.
- The database is down at the claim: 503 `database_unavailable`, nothing ran. Down at the release
  or the late store: logged; the row expires after 60 s.
- The client leaves while sending the body: nothing is claimed.
- A streaming response (none on POST/PATCH today) has no body at commit time: it is stored after
  it was sent (the weaker, separate-transaction guarantee).
- Deleting an account deletes its keys (foreign key, cascade); `maintenance.prune_idempotency_keys`
  deletes rows older than 24 h every hour (expired rows are treated as absent until then).
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any, cast

import psycopg
import structlog
from fastapi import FastAPI
from sqlalchemy import CursorResult, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hackops.accounts.auth_tokens import resolve_token
from hackops.accounts.deps import credentials
from hackops.db import Database
from hackops.errors import Conflict, render_error
from hackops.models import IdempotencyKey, IdempotencyState, new_id

log = structlog.get_logger("hackops.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = frozenset({"POST", "PATCH"})
API_PREFIX = "/api/v1/"
MAX_KEY_LENGTH = 255
REPLAY_WINDOW = timedelta(hours=24)
CLAIM_TIMEOUT = timedelta(seconds=60)
#: Caller-side refusals: a retry after fixing credentials or pace must run, so never stored.
UNSTORED_STATUSES = frozenset({401, 403, 408, 429})
#: The response headers a replay repeats; the outer middleware add the rest afresh.
STORED_HEADERS = frozenset(
    {"content-type", "content-disposition", "content-language", "location", "etag", "link"}
)
SPOOL_MEMORY_BYTES = 1024 * 1024
REPLAY_CHUNK_BYTES = 64 * 1024

KEY_MESSAGE = (
    f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, sent once"
    " (a random UUID is a good choice)."
)


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    message = (
        "A request with this Idempotency-Key is still being processed; retry in a moment to get"
        " its response."
    )


def storable(status: int) -> bool:
    return status < 500 and status not in UNSTORED_STATUSES


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Reused:
    method: str
    path: str


class InProgress:
    pass


@dataclass(slots=True)
class Claim:
    """This request holds the key; takes part in the request's commit (`db.CommitParticipant`)."""

    row_id: uuid.UUID
    token: uuid.UUID
    pending: bool = False  # completed in the request's transaction, not committed yet
    stored: bool = False  # ... and committed
    lost: bool = False  # another request re-claimed the key meanwhile

    async def before_commit(self, session: AsyncSession, response: Response) -> None:
        body = getattr(response, "body", None)
        if not storable(response.status_code) or not isinstance(body, bytes):
            return
        headers = kept_headers(response.headers.items())
        if not await complete(session, self, response.status_code, headers, body):
            self.lost = True
            raise IdempotencyKeyInUse(headers={"Retry-After": "1"})
        self.pending = True

    def committed(self) -> None:
        self.stored = self.pending


Outcome = Claim | Replay | Reused | InProgress


def kept_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items if name.lower() in STORED_HEADERS}


def _expired() -> Any:
    now = func.app_now()
    return or_(
        and_(
            IdempotencyKey.state == IdempotencyState.IN_PROGRESS.value,
            IdempotencyKey.created_at <= now - CLAIM_TIMEOUT,
        ),
        IdempotencyKey.created_at <= now - REPLAY_WINDOW,
    )


async def claim_key(
    session: AsyncSession,
    user_id: uuid.UUID,
    key: str,
    *,
    fingerprint: str,
    method: str,
    path: str,
) -> Outcome:
    """Claim `key` for this request (the database decides), or say why not. Caller commits."""
    for _ in range(3):  # the row may be pruned between the INSERT and the SELECT
        token = uuid.uuid4()
        stmt = insert(IdempotencyKey).values(
            id=new_id(),
            user_id=user_id,
            key=key,
            fingerprint=fingerprint,
            request_method=method,
            request_path=path,
            claim=token,
            state=IdempotencyState.IN_PROGRESS.value,
        )
        fresh = stmt.excluded
        upsert = stmt.on_conflict_do_update(
            index_elements=[IdempotencyKey.user_id, IdempotencyKey.key],
            set_={
                "fingerprint": fresh.fingerprint,
                "request_method": fresh.request_method,
                "request_path": fresh.request_path,
                "claim": fresh.claim,
                "state": fresh.state,
                "response_status": None,
                "response_headers": None,
                "response_body": None,
                "created_at": func.app_now(),
                "completed_at": None,
            },
            where=_expired(),
        ).returning(IdempotencyKey.id)
        claimed = (await session.execute(upsert)).scalar_one_or_none()
        if claimed is not None:
            return Claim(row_id=claimed, token=token)
        row = (
            await session.execute(
                select(
                    IdempotencyKey.fingerprint,
                    IdempotencyKey.state,
                    IdempotencyKey.request_method,
                    IdempotencyKey.request_path,
                    IdempotencyKey.response_status,
                    IdempotencyKey.response_headers,
                    IdempotencyKey.response_body,
                ).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
            )
        ).first()
        if row is None:
            continue
        if row.fingerprint != fingerprint:
            return Reused(row.request_method, row.request_path)
        if row.state == IdempotencyState.IN_PROGRESS.value or row.response_status is None:
            return InProgress()
        return Replay(row.response_status, dict(row.response_headers or {}), row.response_body)
    return InProgress()


async def complete(
    session: AsyncSession, claim: Claim, status: int, headers: dict[str, str], body: bytes
) -> bool:
    """Store the response on the claimed row; False when the claim was lost (re-claimed)."""
    result = await session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.id == claim.row_id,
            IdempotencyKey.claim == claim.token,
            IdempotencyKey.state == IdempotencyState.IN_PROGRESS.value,
        )
        .values(
            state=IdempotencyState.COMPLETED.value,
            response_status=status,
            response_headers=headers,
            response_body=body,
            completed_at=func.app_now(),
        )
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


async def release(session: AsyncSession, claim: Claim) -> None:
    """Give the key up (the request failed): the next retry runs."""
    await session.execute(
        delete(IdempotencyKey)
        .where(
            IdempotencyKey.id == claim.row_id,
            IdempotencyKey.claim == claim.token,
            IdempotencyKey.state == IdempotencyState.IN_PROGRESS.value,
        )
        .execution_options(synchronize_session=False)
    )


async def prune_expired(session: AsyncSession) -> int:
    """Delete keys past their 24 h window; how many."""
    result = await session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.created_at <= func.app_now() - REPLAY_WINDOW)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


# --- the middleware ----------------------------------------------------------------------------


def request_digest(method: str, path: str) -> Any:
    """The fingerprint's SHA-256, fed the method and the path with query; the body follows."""
    return hashlib.sha256(f"{method}\n{path}\n".encode())


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
        if raw_token is None:  # anonymous: see the module docstring
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
