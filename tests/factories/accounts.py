"""Accounts: people, their sign-in tokens, single-use tokens and linked OAuth identities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import new_secret
from hackops.models import AuthToken, CalendarFeed, OAuthIdentity, OneTimeToken, User
from tests.factories.rows import insert, unique


async def create_user(session: AsyncSession, **overrides: Any) -> User:
    suffix = unique(4)
    values: dict[str, Any] = {"email": f"user-{suffix}@example.com", "name": f"User {suffix}"}
    values.update(overrides)
    return await insert(session, User, values)


async def create_auth_token(
    session: AsyncSession, user: User | None = None, **overrides: Any
) -> AuthToken:
    """A session token of `user` valid for 30 days (its secret is lost: pass `token_hash` from
    `new_secret()` to sign in with it, or use `tests.people.person`)."""
    user = user or await create_user(session)
    values: dict[str, Any] = {
        "user_id": user.id,
        "kind": "session",
        "token_hash": new_secret()[1],
        "scopes": ["read", "write"],
        "expires_at": datetime.now(UTC) + timedelta(days=30),
    }
    values.update(overrides)
    return await insert(session, AuthToken, values)


async def create_calendar_feed(
    session: AsyncSession, user: User | None = None, **overrides: Any
) -> CalendarFeed:
    """The private "my events" calendar feed of `user` (its token is lost: only the hash is
    stored, as the app does)."""
    user = user or await create_user(session)
    values: dict[str, Any] = {"user_id": user.id, "token_hash": new_secret()[1]}
    values.update(overrides)
    return await insert(session, CalendarFeed, values)


async def create_one_time_token(
    session: AsyncSession, user: User | None = None, **overrides: Any
) -> OneTimeToken:
    """An unused email-verification token of `user`, valid for a day."""
    user = user or await create_user(session)
    values: dict[str, Any] = {
        "user_id": user.id,
        "purpose": "verify_email",
        "token_hash": new_secret()[1],
        "email": user.email,
        "expires_at": datetime.now(UTC) + timedelta(days=1),
    }
    values.update(overrides)
    return await insert(session, OneTimeToken, values)


async def create_oauth_identity(
    session: AsyncSession, user: User | None = None, **overrides: Any
) -> OAuthIdentity:
    """A GitHub account linked to `user`."""
    user = user or await create_user(session)
    values: dict[str, Any] = {
        "user_id": user.id,
        "provider": "github",
        "subject": f"gh-{unique(4)}",
        "email": user.email,
    }
    values.update(overrides)
    return await insert(session, OAuthIdentity, values)
