"""Accounts: registration, sign-in, password and email changes, and the single-use tokens
mailed for email verification and password reset. Every change of state is audited in the same
transaction.

Session and API tokens are in `auth_tokens.py`; profile, export, deletion and disabling in
`profile.py`; sign-in links in `magic_link.py`; OAuth in `oauth_service.py`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from limits import parse
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.auth_tokens import revoke_all_tokens
from hackops.accounts.credentials import (
    PasswordHasher,
    check_new_password,
    digest,
    new_secret,
    normalize_email,
)
from hackops.accounts.ownership import inbox_holder_took_over
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import AppError, Conflict, RateLimited, Unauthorized
from hackops.mail.service import queue_mail
from hackops.models import OneTimePurpose, OneTimeToken, User
from hackops.ratelimit import (
    FAILED_LOGIN_PER_ACCOUNT,
    LOGIN_PER_ACCOUNT_ADDRESS,
    LOGIN_PER_ACCOUNT_ADDRESS_SLOW,
    LOGIN_PER_ADDRESS,
    RESET_MAIL_PER_ADDRESS,
    VERIFY_MAIL_PER_ADDRESS,
    Limiter,
    Rule,
    account_address_key,
)

ONE_TIME_TOKEN_LIFETIME = timedelta(minutes=30)
#: Mails telling an address's owner that someone tried to register with it.
REGISTER_ATTEMPT_MAIL_PER_ADDRESS = Rule("register-attempt-mail-address", parse("3/hour"))


class EmailTaken(Conflict):
    code = "email_taken"
    message = "An account with this email address already exists."


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    message = "Wrong email address or password."


class InvalidToken(AppError):
    status_code = 400
    code = "invalid_token"
    message = "This link is invalid or has expired; ask for a new one."


@dataclass(frozen=True)
class Services:
    """Process-wide helpers the account services need (built once per app)."""

    hasher: PasswordHasher
    limiter: Limiter
    base_url: str
    session_lifetime: timedelta


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


def registration_answer(email: str) -> str:
    """What registering answers, for a fresh address and a taken one alike."""
    return (
        f"Check your mail: we sent a message to {email}. Open its link to confirm your address,"
        " then log in."
    )


async def register(
    session: AsyncSession,
    actor: Actor,
    services: Services,
    *,
    email: str,
    password: str,
    name: str = "",
) -> User | None:
    """A new account (unconfirmed; the verification link is mailed), or None when the address is
    taken: then its owner is mailed about the attempt and nothing changes. Callers answer the
    same either way (`registration_answer`), and the password is hashed in both branches so the
    time taken tells nothing either."""
    email = normalize_email(email)
    check_new_password(password, email=email)
    # Hashed before the database is touched: no connection waits on the hashing slot.
    password_hash = await services.hasher.hash(password)
    existing = await get_user_by_email(session, email)
    if existing is not None:
        await _tell_owner_of_attempt(session, actor, services, existing)
        return None
    now = await db_now(session)
    user = User(
        email=email,
        name=name,
        password_hash=password_hash,
        password_changed_at=now,
    )
    session.add(user)
    await session.flush()
    await record(
        session,
        Actor(user, actor.ip, actor.user_agent),
        "user.registered",
        resource_type="user",
        resource_id=user.id,
    )
    await _send_one_time_token(session, services, user, OneTimePurpose.VERIFY_EMAIL)
    return user


async def _tell_owner_of_attempt(
    session: AsyncSession, actor: Actor, services: Services, user: User
) -> None:
    """Mail the owner of a taken address that someone tried to register with it (within the
    address's budget: past it, nothing is sent, and the answer is still the same)."""
    if not user.is_active:
        return
    try:
        await services.limiter.consume(REGISTER_ATTEMPT_MAIL_PER_ADDRESS, user.email)
    except RateLimited:
        return
    await queue_mail(
        session,
        "accounts/registration_attempt",
        to=user.email,
        subject="Someone tried to register with your address",
        base_url=services.base_url,
        context={"name": user.name or user.email, "email": user.email},
        user_id=user.id,
    )
    await record(
        session,
        actor,
        "user.registration_attempted",
        resource_type="user",
        resource_id=user.id,
    )


async def authenticate(
    session: AsyncSession, actor: Actor, services: Services, *, email: str, password: str
) -> User:
    """The user whose email and password these are, or 401. Each attempt spends the address's
    budget and the (account, address) pair's before the password is checked (429 when spent);
    a stranger's failures never lock the owner out, they only make every address slower (see
    `ratelimit`). A successful sign-in restores its pair's budget."""
    limiter = services.limiter
    try:
        normalized = normalize_email(email)
    except AppError:
        normalized = email.strip().casefold()
    pair = account_address_key(normalized, actor.ip)
    await limiter.consume(LOGIN_PER_ADDRESS, actor.ip or "unknown")
    await limiter.consume(LOGIN_PER_ACCOUNT_ADDRESS, pair)
    if await limiter.spent(FAILED_LOGIN_PER_ACCOUNT, normalized):
        await limiter.consume(LOGIN_PER_ACCOUNT_ADDRESS_SLOW, pair)
    async with services.hasher.reserve():  # the slot first, then the connection
        user = await get_user_by_email(session, normalized)
        ok, rehashed = await services.hasher.verify(password, user.password_hash if user else None)
    if user is None or not ok or not user.is_active or user.password_hash is None:
        await limiter.hit(FAILED_LOGIN_PER_ACCOUNT, normalized)
        raise InvalidCredentials
    await limiter.clear(LOGIN_PER_ACCOUNT_ADDRESS, pair)
    await limiter.clear(LOGIN_PER_ACCOUNT_ADDRESS_SLOW, pair)
    if rehashed is not None:
        user.password_hash = rehashed
    return user


async def _send_one_time_token(
    session: AsyncSession, services: Services, user: User, purpose: OneTimePurpose
) -> None:
    """Issue a new single-use token (superseding older ones of its kind) and mail the link."""
    now = await db_now(session)
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == purpose.value,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    raw, hashed = new_secret()
    session.add(
        OneTimeToken(
            user_id=user.id,
            purpose=purpose.value,
            token_hash=hashed,
            email=user.email,
            expires_at=now + ONE_TIME_TOKEN_LIFETIME,
        )
    )
    if purpose is OneTimePurpose.VERIFY_EMAIL:
        template, subject = "accounts/verify_email", "Confirm your email address for HackOps"
        link = f"{services.base_url}/verify-email?token={raw}"
    else:
        template, subject = "accounts/reset_password", "Reset your HackOps password"
        link = f"{services.base_url}/reset-password?token={raw}"
    await queue_mail(
        session,
        template,
        to=user.email,
        subject=subject,
        base_url=services.base_url,
        context={"name": user.name or user.email, "link": link},
        user_id=user.id,
    )


async def request_verification(
    session: AsyncSession, actor: Actor, services: Services, user: User
) -> None:
    if user.email_verified:
        return
    await services.limiter.consume(VERIFY_MAIL_PER_ADDRESS, user.email)
    await _send_one_time_token(session, services, user, OneTimePurpose.VERIFY_EMAIL)
    await record(
        session, actor, "user.verification_requested", resource_type="user", resource_id=user.id
    )


async def consume_one_time_token(
    session: AsyncSession, raw: str, purpose: OneTimePurpose
) -> tuple[OneTimeToken, User]:
    """Spend a single-use token of this purpose: 400 `invalid_token` when it is unknown, used,
    superseded, expired, for an address the account no longer has, or the account is disabled."""
    row = (
        await session.execute(
            select(OneTimeToken, User, func.app_now())
            .join(User, User.id == OneTimeToken.user_id)
            .where(OneTimeToken.token_hash == digest(raw), OneTimeToken.purpose == purpose.value)
            .with_for_update(of=OneTimeToken)
        )
    ).first()
    if row is None:
        raise InvalidToken
    token, user, now = row
    if token.used_at is not None or token.expires_at <= now or token.email != user.email:
        raise InvalidToken
    if not user.is_active:
        raise InvalidToken
    token.used_at = now
    return token, user


async def verify_email(session: AsyncSession, actor: Actor, raw: str) -> User:
    _, user = await consume_one_time_token(session, raw, OneTimePurpose.VERIFY_EMAIL)
    user.email_verified_at = await db_now(session)
    await record(
        session,
        Actor(user, actor.ip, actor.user_agent),
        "user.email_verified",
        resource_type="user",
        resource_id=user.id,
    )
    return user


async def request_password_reset(
    session: AsyncSession, actor: Actor, services: Services, *, email: str
) -> None:
    """Mail a reset link if the account exists. The caller answers the same either way."""
    try:
        normalized = normalize_email(email)
    except AppError:
        return
    await services.limiter.consume(RESET_MAIL_PER_ADDRESS, normalized)
    user = await get_user_by_email(session, normalized)
    if user is None or not user.is_active:
        return
    await _send_one_time_token(session, services, user, OneTimePurpose.RESET_PASSWORD)
    await record(
        session,
        Actor(user, actor.ip, actor.user_agent),
        "user.password_reset_requested",
        resource_type="user",
        resource_id=user.id,
    )


async def reset_password(
    session: AsyncSession, actor: Actor, services: Services, *, token: str, new_password: str
) -> User:
    async with services.hasher.reserve():  # the slot first, then the connection
        _, user = await consume_one_time_token(session, token, OneTimePurpose.RESET_PASSWORD)
        check_new_password(new_password, email=user.email)
        await _set_password(session, services, user, new_password)
    await revoke_all_tokens(session, user)
    # The reset link proved control of the inbox: what was linked before that goes.
    await inbox_holder_took_over(
        session, actor, user, via="password_reset", base_url=services.base_url
    )
    await services.limiter.clear(FAILED_LOGIN_PER_ACCOUNT, user.email)
    await services.limiter.clear(
        LOGIN_PER_ACCOUNT_ADDRESS, account_address_key(user.email, actor.ip)
    )
    await record(
        session,
        Actor(user, actor.ip, actor.user_agent),
        "user.password_reset",
        resource_type="user",
        resource_id=user.id,
    )
    return user


async def _set_password(
    session: AsyncSession, services: Services, user: User, new_password: str
) -> None:
    await replace_password_hash(session, user, await services.hasher.hash(new_password))


async def replace_password_hash(session: AsyncSession, user: User, password_hash: str) -> None:
    """Store a new password (hashed); reset links mailed for the old one stop working."""
    now = await db_now(session)
    user.password_hash = password_hash
    user.password_changed_at = now
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == OneTimePurpose.RESET_PASSWORD,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=now)
    )


async def require_password(services: Services, user: User, password: str) -> None:
    ok, _ = await services.hasher.verify(password, user.password_hash)
    if not ok or user.password_hash is None:
        raise InvalidCredentials("The current password is wrong.", code="wrong_password")


async def change_password(
    session: AsyncSession,
    actor: Actor,
    services: Services,
    user: User,
    *,
    current_password: str,
    new_password: str,
    keep_token_id: uuid.UUID | None,
) -> None:
    await require_password(services, user, current_password)
    check_new_password(new_password, email=user.email)
    await _set_password(session, services, user, new_password)
    await revoke_all_tokens(session, user, except_id=keep_token_id)
    await record(session, actor, "user.password_changed", resource_type="user", resource_id=user.id)


async def change_email(
    session: AsyncSession,
    actor: Actor,
    services: Services,
    user: User,
    *,
    password: str,
    new_email: str,
) -> User:
    await require_password(services, user, password)
    email = normalize_email(new_email)
    if email == user.email:
        return user
    if await get_user_by_email(session, email) is not None:
        raise EmailTaken
    old = user.email
    user.email = email
    user.email_verified_at = None
    await session.flush()
    await _send_one_time_token(session, services, user, OneTimePurpose.VERIFY_EMAIL)
    await record(
        session,
        actor,
        "user.email_changed",
        resource_type="user",
        resource_id=user.id,
        details={"from": old, "to": email},
    )
    return user
