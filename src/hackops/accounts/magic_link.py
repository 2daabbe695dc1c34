"""Sign-in links by email, for accounts without a password (made by accepting an event role
invitation, or through an OAuth provider).

- Asking: the answer is the same whatever the address (no account enumeration). Only an active
  account without a password gets a mail: a single-use token (`one_time_tokens`, purpose
  `sign_in`, 30 minutes, superseding older ones). An account with a password gets nothing — its
  owner logs in with it, or resets it; a link must not become a way around the password.
  Limited per address (5 an hour) and by the caller's IP (the pages' `MAIL_PER_IP`).
- Using: the link opens a page whose button (POST: mail scanners prefetch links) spends the
  token and creates a session. A token whose account has gained a password since is refused.
  Using it proves the address (`ownership.inbox_holder_took_over`: identities linked while it was
  unproven are removed, other sessions end).
"""

from __future__ import annotations

from urllib.parse import urlencode

from limits import parse
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.auth_tokens import create_token
from hackops.accounts.credentials import new_secret, normalize_email
from hackops.accounts.ownership import inbox_holder_took_over
from hackops.accounts.service import (
    ONE_TIME_TOKEN_LIFETIME,
    InvalidToken,
    Services,
    consume_one_time_token,
    get_user_by_email,
)
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import AppError
from hackops.mail.service import queue_mail
from hackops.models import OneTimePurpose, OneTimeToken, TokenKind, User
from hackops.ratelimit import Rule

SIGN_IN_MAIL_PER_ADDRESS = Rule("sign-in-mail-address", parse("5/hour"))
LINK_PATH = "/sign-in-link"
ANSWER = (
    "If an account that signs in by email uses that address, we sent it a sign-in link; it"
    " works once, for 30 minutes. Accounts with a password log in with it."
)


async def request_link(
    session: AsyncSession,
    actor: Actor,
    services: Services,
    *,
    email: str,
    next_path: str | None = None,
) -> None:
    """Mail a sign-in link if the address is a passwordless account; otherwise do nothing.
    The caller answers `ANSWER` either way."""
    try:
        normalized = normalize_email(email)
    except AppError:
        return
    await services.limiter.consume(SIGN_IN_MAIL_PER_ADDRESS, normalized)
    user = await get_user_by_email(session, normalized)
    if user is None or not user.is_active or user.password_hash is not None:
        return
    now = await db_now(session)
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == OneTimePurpose.SIGN_IN,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    raw, hashed = new_secret()
    session.add(
        OneTimeToken(
            user_id=user.id,
            purpose=OneTimePurpose.SIGN_IN,
            token_hash=hashed,
            email=user.email,
            expires_at=now + ONE_TIME_TOKEN_LIFETIME,
        )
    )
    query = {"token": raw, **({"next": next_path} if next_path else {})}
    link = f"{services.base_url}{LINK_PATH}?{urlencode(query)}"
    await queue_mail(
        session,
        "accounts/sign_in_link",
        to=user.email,
        subject="Your HackOps sign-in link",
        base_url=services.base_url,
        context={"name": user.name or user.email, "link": link},
        user_id=user.id,
    )
    await record(
        session,
        Actor(user, actor.ip, actor.user_agent),
        "user.sign_in_link_requested",
        resource_type="user",
        resource_id=user.id,
    )


async def sign_in(
    session: AsyncSession, actor: Actor, services: Services, *, token: str
) -> tuple[str, User]:
    """Spend the link's token: a new session (its raw token) for its account."""
    _, user = await consume_one_time_token(session, token, OneTimePurpose.SIGN_IN)
    if user.password_hash is not None:  # a password was set after the link was sent
        raise InvalidToken
    # The link reached this inbox: what was linked before the address was proven goes.
    await inbox_holder_took_over(
        session, actor, user, via="sign_in_link", base_url=services.base_url
    )
    raw, _ = await create_token(
        session,
        Actor(user, actor.ip, actor.user_agent),
        user,
        kind=TokenKind.SESSION,
        lifetime=services.session_lifetime,
        name="Email link sign-in",
    )
    return raw, user
