"""The `idempotency_keys` table: claim a key, complete or release the claim, prune; the rules
and failure cases are in the package docstring (`hackops.idempotency`)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from hackops.errors import Conflict
from hackops.models import IdempotencyKey, IdempotencyState, new_id

REPLAY_WINDOW = timedelta(hours=24)
CLAIM_TIMEOUT = timedelta(seconds=60)
#: Caller-side refusals: a retry after fixing credentials or pace must run, so never stored.
UNSTORED_STATUSES = frozenset({401, 403, 408, 429})
#: The response headers a replay repeats; the outer middleware add the rest afresh.
STORED_HEADERS = frozenset(
    {"content-type", "content-disposition", "content-language", "location", "etag", "link"}
)


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    message = (
        "A request with this Idempotency-Key is still being processed; retry in a moment to get"
        " its response."
    )


def storable(status: int) -> bool:
    return status < 500 and status not in UNSTORED_STATUSES


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
            IdempotencyKey.state == IdempotencyState.IN_PROGRESS,
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
            state=IdempotencyState.IN_PROGRESS,
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
        if row.state == IdempotencyState.IN_PROGRESS or row.response_status is None:
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
            IdempotencyKey.state == IdempotencyState.IN_PROGRESS,
        )
        .values(
            state=IdempotencyState.COMPLETED,
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
            IdempotencyKey.state == IdempotencyState.IN_PROGRESS,
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


def request_digest(method: str, path: str) -> Any:
    """The fingerprint's SHA-256, fed the method and the path with query; the body follows."""
    return hashlib.sha256(f"{method}\n{path}\n".encode())
