"""Accounts: registration, sign-in, sessions and API tokens, verification, reset, profile,
export and deletion. Every change of state is audited in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import (
    PasswordHasher,
    check_new_password,
    digest,
    new_secret,
    normalize_email,
)
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import AppError, Conflict, NotFound, Unauthorized
from hackops.mail.service import queue_email
from hackops.models import (
    AuditEntry,
    AuthToken,
    Membership,
    OAuthIdentity,
    OneTimePurpose,
    OneTimeToken,
    Organization,
    OrgRole,
    TokenKind,
    User,
)
from hackops.ratelimit import (
    FAILED_LOGIN_PER_ACCOUNT,
    FAILED_LOGIN_PER_IP,
    RESET_MAIL_PER_ADDRESS,
    VERIFY_MAIL_PER_ADDRESS,
    Limiter,
)

ONE_TIME_TOKEN_LIFETIME = timedelta(minutes=30)
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)
API_SCOPES = frozenset({"read", "write"})


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


class LastOwner(Conflict):
    code = "last_owner"
    message = "You are the last owner of an organization; hand it over or delete it first."


@dataclass(frozen=True)
class Services:
    """Process-wide helpers the account services need (built once per app)."""

    hasher: PasswordHasher
    limiter: Limiter
    base_url: str
    session_lifetime: timedelta


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


async def register(
    session: AsyncSession,
    actor: Actor,
    services: Services,
    *,
    email: str,
    password: str,
    name: str = "",
) -> User:
    email = normalize_email(email)
    check_new_password(password, email=email)
    if await get_user_by_email(session, email) is not None:
        raise EmailTaken
    now = await db_now(session)
    user = User(
        email=email,
        name=name,
        password_hash=await services.hasher.hash(password),
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


async def authenticate(
    session: AsyncSession, actor: Actor, services: Services, *, email: str, password: str
) -> User:
    """The user whose email and password these are, or 401. Too many failures: 429, even with
    the right password; a password reset lifts the account's lock."""
    limiter = services.limiter
    try:
        normalized = normalize_email(email)
    except AppError:
        normalized = email.strip().casefold()
    ip_key = actor.ip or "unknown"
    await limiter.check(FAILED_LOGIN_PER_IP, ip_key)
    await limiter.check(FAILED_LOGIN_PER_ACCOUNT, normalized)
    user = await get_user_by_email(session, normalized)
    ok, rehashed = await services.hasher.verify(password, user.password_hash if user else None)
    if user is None or not ok or not user.is_active or user.password_hash is None:
        await limiter.hit(FAILED_LOGIN_PER_ACCOUNT, normalized)
        await limiter.hit(FAILED_LOGIN_PER_IP, ip_key)
        raise InvalidCredentials
    if rehashed is not None:
        user.password_hash = rehashed
    return user


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


async def _revoke_all(
    session: AsyncSession, user: User, *, except_id: uuid.UUID | None = None
) -> int:
    query = (
        update(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=func.app_now())
    )
    if except_id is not None:
        query = query.where(AuthToken.id != except_id)
    result = await session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
        subject = "Confirm your email address for HackOps"
        link = f"{services.base_url}/verify-email?token={raw}"
        body = (
            f"Hello {user.name or user.email},\n\nConfirm your email address by opening this link"
            f" within 30 minutes:\n\n{link}\n\nIf you did not create a HackOps account, ignore"
            " this message.\n"
        )
    else:
        subject = "Reset your HackOps password"
        link = f"{services.base_url}/reset-password?token={raw}"
        body = (
            f"Hello {user.name or user.email},\n\nSomeone (hopefully you) asked to reset your"
            f" password. Open this link within 30 minutes to choose a new one:\n\n{link}\n\n"
            "If you did not ask, ignore this message; your password stays the same.\n"
        )
    await queue_email(session, to=user.email, subject=subject, body=body, user_id=user.id)


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
    _, user = await consume_one_time_token(session, token, OneTimePurpose.RESET_PASSWORD)
    check_new_password(new_password, email=user.email)
    await _set_password(session, services, user, new_password)
    await _revoke_all(session, user)
    if user.email_verified_at is None:  # the reset link proved control of the inbox
        user.email_verified_at = await db_now(session)
    await services.limiter.clear(FAILED_LOGIN_PER_ACCOUNT, user.email)
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
    now = await db_now(session)
    user.password_hash = await services.hasher.hash(new_password)
    user.password_changed_at = now
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == OneTimePurpose.RESET_PASSWORD.value,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=now)
    )


async def _require_password(services: Services, user: User, password: str) -> None:
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
    await _require_password(services, user, current_password)
    check_new_password(new_password, email=user.email)
    await _set_password(session, services, user, new_password)
    await _revoke_all(session, user, except_id=keep_token_id)
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
    await _require_password(services, user, password)
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


PROFILE_FIELDS = ("name", "bio", "skills", "interests", "links")


async def update_profile(
    session: AsyncSession, actor: Actor, user: User, changes: dict[str, Any]
) -> User:
    changed = {k: v for k, v in changes.items() if k in PROFILE_FIELDS and getattr(user, k) != v}
    for key, value in changed.items():
        setattr(user, key, value)
    if changed:
        await session.flush()
        await record(
            session,
            actor,
            "user.profile_updated",
            resource_type="user",
            resource_id=user.id,
            details={"fields": sorted(changed)},
        )
    return user


async def delete_account(
    session: AsyncSession, actor: Actor, services: Services, user: User, *, password: str | None
) -> None:
    """Erase personal data and close the account; history stays, pointing at an anonymous row."""
    if user.password_hash is not None:
        await _require_password(services, user, password or "")
    owned = await session.scalars(
        select(Membership.org_id).where(
            Membership.user_id == user.id, Membership.role == OrgRole.OWNER.value
        )
    )
    for org_id in owned:
        owners = await session.scalar(
            select(func.count()).where(
                Membership.org_id == org_id, Membership.role == OrgRole.OWNER.value
            )
        )
        if owners == 1:
            raise LastOwner(details={"org_id": str(org_id)})
    await record(session, actor, "user.deleted", resource_type="user", resource_id=user.id)
    await _revoke_all(session, user)
    memberships = await session.scalars(select(Membership).where(Membership.user_id == user.id))
    for membership in memberships:
        await session.delete(membership)
    identities = await session.scalars(
        select(OAuthIdentity).where(OAuthIdentity.user_id == user.id)
    )
    for identity in identities:
        await session.delete(identity)
    now = await db_now(session)
    user.email = f"deleted-{user.id.hex}@deleted.invalid"
    user.name = ""
    user.bio = ""
    user.skills = []
    user.interests = []
    user.links = []
    user.password_hash = None
    user.email_verified_at = None
    user.deleted_at = now
    await session.flush()


async def disable_account(session: AsyncSession, actor: Actor, user: User) -> None:
    user.disabled_at = await db_now(session)
    await _revoke_all(session, user)
    await record(session, actor, "user.disabled", resource_type="user", resource_id=user.id)


async def export_data(session: AsyncSession, user: User) -> dict[str, Any]:
    """Everything we hold about the person, as JSON-ready data."""
    memberships = (
        await session.execute(
            select(Membership, Organization.slug, Organization.name)
            .join(Organization, Organization.id == Membership.org_id)
            .where(Membership.user_id == user.id)
        )
    ).all()
    tokens = await session.scalars(select(AuthToken).where(AuthToken.user_id == user.id))
    identities = await session.scalars(
        select(OAuthIdentity).where(OAuthIdentity.user_id == user.id)
    )
    entries = await session.scalars(
        select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.created_at)
    )

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "profile": {
            "id": str(user.id),
            "email": user.email,
            "email_verified_at": when(user.email_verified_at),
            "name": user.name,
            "bio": user.bio,
            "skills": user.skills,
            "interests": user.interests,
            "links": user.links,
            "created_at": when(user.created_at),
        },
        "organizations": [
            {"slug": slug, "name": name, "role": m.role, "since": when(m.created_at)}
            for m, slug, name in memberships
        ],
        "sessions_and_tokens": [
            {
                "kind": t.kind,
                "name": t.name,
                "created_at": when(t.created_at),
                "last_used_at": when(t.last_used_at),
                "expires_at": when(t.expires_at),
                "revoked_at": when(t.revoked_at),
                "ip": str(t.ip) if t.ip else None,
                "user_agent": t.user_agent,
            }
            for t in tokens
        ],
        "linked_identities": [
            {"provider": i.provider, "email": i.email, "linked_at": when(i.created_at)}
            for i in identities
        ],
        "activity": [
            {
                "action": e.action,
                "resource_type": e.resource_type,
                "resource_id": e.resource_id,
                "at": when(e.created_at),
                "ip": str(e.ip) if e.ip else None,
            }
            for e in entries
        ],
    }
