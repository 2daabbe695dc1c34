"""What an OAuth identity means for accounts: sign in, register, link, list and unlink.

The provider side (registry, code exchange, id_token checks) is in `hackops.accounts.oauth`.
"""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import normalize_email
from hackops.accounts.oauth import (
    AccountDisabled,
    IdentityTaken,
    LastSignInMethod,
    OAuthEmailMissing,
    OAuthEmailNotLinkable,
    OAuthEmailUnverified,
    Provider,
    ProviderProfile,
)
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import AppError, NotFound
from hackops.models import OAuthIdentity, User


class SignInOutcome(enum.StrEnum):
    SIGNED_IN = "signed_in"  # a known identity
    REGISTERED = "registered"  # a new account was made for it
    LINKED = "linked"  # attached to an existing account (link flow or verified email)
    ALREADY_LINKED = "already_linked"  # link flow for an identity this user already has


def _normalized(email: str | None) -> str | None:
    if not email:
        return None
    try:
        return normalize_email(email)
    except AppError:
        return None


async def resolve_account(
    session: AsyncSession,
    actor: Actor,
    provider: Provider,
    profile: ProviderProfile,
    *,
    link_to: User | None = None,
) -> tuple[User, SignInOutcome]:
    """The account this provider identity signs in to, linking or registering as needed.

    Order: a known identity wins; in a link flow the identity joins `link_to` (marked
    `linked_while_unproven` when that account's address is not confirmed: see
    `accounts.ownership`); else, only for an address the provider confirmed, the account whose
    confirmed address it is, or a new account. Each change is audited.
    """
    identity = await session.scalar(
        select(OAuthIdentity).where(
            OAuthIdentity.provider == provider.name, OAuthIdentity.subject == profile.subject
        )
    )
    if identity is not None:
        if link_to is not None:
            if identity.user_id != link_to.id:
                raise IdentityTaken
            if link_to.email_verified:  # linked again by the proven holder: trusted from now on
                identity.linked_while_unproven = False
            return link_to, SignInOutcome.ALREADY_LINKED
        user = await session.get_one(User, identity.user_id)
        if not user.is_active:
            raise AccountDisabled
        return user, SignInOutcome.SIGNED_IN
    if link_to is not None:
        await _link(session, actor, link_to, provider, profile)
        return link_to, SignInOutcome.LINKED

    email = _normalized(profile.email)
    if email is None:
        raise OAuthEmailMissing
    if not profile.email_verified:
        raise OAuthEmailUnverified
    existing = await session.scalar(select(User).where(User.email == email))
    if existing is not None:
        if not existing.email_verified:
            raise OAuthEmailNotLinkable
        if not existing.is_active:
            raise AccountDisabled
        await _link(
            session, Actor(existing, actor.ip, actor.user_agent), existing, provider, profile
        )
        return existing, SignInOutcome.LINKED

    user = User(
        email=email, name=profile.name, email_verified_at=await db_now(session), password_hash=None
    )
    session.add(user)
    await session.flush()
    as_user = Actor(user, actor.ip, actor.user_agent)
    await record(
        session,
        as_user,
        "user.registered",
        resource_type="user",
        resource_id=user.id,
        details={"via": provider.name},
    )
    await _link(session, as_user, user, provider, profile)
    return user, SignInOutcome.REGISTERED


async def _link(
    session: AsyncSession, actor: Actor, user: User, provider: Provider, profile: ProviderProfile
) -> OAuthIdentity:
    identity = OAuthIdentity(
        user_id=user.id,
        provider=provider.name,
        subject=profile.subject,
        email=_normalized(profile.email) or "",
        profile=profile.details,
        linked_while_unproven=not user.email_verified,
    )
    session.add(identity)
    await session.flush()
    await record(
        session,
        actor,
        "identity.linked",
        resource_type="oauth_identity",
        resource_id=identity.id,
        details={"provider": provider.name},
    )
    return identity


async def list_identities(session: AsyncSession, user: User) -> list[OAuthIdentity]:
    rows = await session.scalars(
        select(OAuthIdentity)
        .where(OAuthIdentity.user_id == user.id)
        .order_by(OAuthIdentity.created_at, OAuthIdentity.id)
    )
    return list(rows)


async def unlink_identity(
    session: AsyncSession, actor: Actor, user: User, identity_id: uuid.UUID
) -> None:
    """Remove a linked identity, unless it is the last way to sign in."""
    # Lock the user so two concurrent unlinks cannot each leave "the other" as the last method.
    locked = await session.scalar(
        select(User)
        .where(User.id == user.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    identity = await session.scalar(
        select(OAuthIdentity).where(
            OAuthIdentity.id == identity_id, OAuthIdentity.user_id == user.id
        )
    )
    if locked is None or identity is None:
        raise NotFound("No such linked account.", code="identity_not_found")
    if locked.password_hash is None:
        others = await session.scalar(
            select(func.count()).where(
                OAuthIdentity.user_id == user.id, OAuthIdentity.id != identity.id
            )
        )
        if not others:
            raise LastSignInMethod
    await session.delete(identity)
    await session.flush()
    await record(
        session,
        actor,
        "identity.unlinked",
        resource_type="oauth_identity",
        resource_id=identity.id,
        details={"provider": identity.provider},
    )
