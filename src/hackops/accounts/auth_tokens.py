"""Session and API tokens: opaque secrets handed to the client once, stored only as their
SHA-256 digest, resolved on every request, listed and revoked by their owner. Creation and
revocation are audited in the same transaction."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import digest, new_secret
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import NotFound
from hackops.models import AuthToken, TokenKind, User

TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)
API_SCOPES = frozenset({"read", "write"})


async def create_token(
    session: AsyncSession,
    actor: Actor,
    user: User,
    *,
    kind: TokenKind,
    lifetime: timedelta,
    name: str = "",
    scopes: frozenset[str] = API_SCOPES,
) -> tuple[str, AuthToken]:
    raw, hashed = new_secret()
    if kind is TokenKind.API:
        raw = f"hko_{raw}"
        hashed = digest(raw)
    now = await db_now(session)
    token = AuthToken(
        user_id=user.id,
        kind=kind.value,
        token_hash=hashed,
        name=name,
        scopes=sorted(scopes),
        expires_at=now + lifetime,
        ip=actor.ip,
        user_agent=actor.user_agent[:400],
    )
    session.add(token)
    await session.flush()
    await record(
        session,
        Actor(user, actor.ip, actor.user_agent),
        f"{kind.value}_token.created",
        resource_type="auth_token",
        resource_id=token.id,
        details={"name": name},
    )
    return raw, token


async def resolve_token(session: AsyncSession, raw: str) -> tuple[AuthToken, User] | None:
    """The live token and its active user, or None (unknown, revoked, expired, user disabled)."""
    row = (
        await session.execute(
            select(AuthToken, User, func.app_now())
            .join(User, User.id == AuthToken.user_id)
            .where(AuthToken.token_hash == digest(raw), AuthToken.revoked_at.is_(None))
        )
    ).first()
    if row is None:
        return None
    token, user, now = row
    if token.expires_at <= now or not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now
    return token, user


async def revoke_token(
    session: AsyncSession, actor: Actor, user: User, token_id: uuid.UUID
) -> None:
    token = await session.scalar(
        select(AuthToken).where(AuthToken.id == token_id, AuthToken.user_id == user.id)
    )
    if token is None or token.revoked_at is not None:
        raise NotFound("No such session or token.", code="token_not_found")
    token.revoked_at = await db_now(session)
    await record(
        session,
        actor,
        f"{token.kind}_token.revoked",
        resource_type="auth_token",
        resource_id=token.id,
    )


async def list_tokens(session: AsyncSession, user: User, kind: TokenKind) -> list[AuthToken]:
    rows = await session.scalars(
        select(AuthToken)
        .where(
            AuthToken.user_id == user.id,
            AuthToken.kind == kind.value,
            AuthToken.revoked_at.is_(None),
            AuthToken.expires_at > func.app_now(),
        )
        .order_by(AuthToken.created_at.desc())
    )
    return list(rows)


async def revoke_all_tokens(
    session: AsyncSession, user: User, *, except_id: uuid.UUID | None = None
) -> int:
    """Revoke every live session and API token of the user but `except_id`; how many were."""
    query = (
        update(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=func.app_now())
    )
    if except_id is not None:
        query = query.where(AuthToken.id != except_id)
    result = await session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
