"""Platform administrators, made from the command line (`hackops admin create`).

A new address becomes a confirmed administrator account with the typed password. An existing
account is promoted only when asked (`promote_existing`, the CLI's `--promote-existing`) and only
if its address is confirmed — an unconfirmed account could have been registered by anyone with
someone else's address. Promoting sets the typed password and revokes every session and API token
of the account, so whoever held them before signs in again with the new password. The outcome
says exactly what was done; one audit row records it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.auth_tokens import revoke_all_tokens
from hackops.accounts.credentials import PasswordHasher, check_new_password, normalize_email
from hackops.accounts.service import get_user_by_email, replace_password_hash
from hackops.actor import SYSTEM
from hackops.audit.service import record
from hackops.config import Settings
from hackops.db import db_now
from hackops.errors import Conflict
from hackops.models import User


class PromoteExistingRequired(Conflict):
    code = "promote_existing_required"
    message = (
        "An account already uses this address. To make it a platform administrator, run the"
        " command again with --promote-existing: its password becomes the one you type and all"
        " its sessions and API tokens are revoked."
    )


class AccountNotConfirmed(Conflict):
    code = "email_not_verified"
    message = (
        "This account never confirmed its email address, so nothing shows its holder owns that"
        " address; it is not promoted. Have them confirm it (or reset the password) first."
    )


class AccountInactive(Conflict):
    code = "account_disabled"
    message = "This account is disabled or deleted; it is not promoted."


@dataclass(frozen=True)
class AdminOutcome:
    email: str
    created: bool
    was_admin: bool = False
    #: Sessions and API tokens of a promoted account that were revoked.
    tokens_revoked: int = 0

    def report(self) -> list[str]:
        """Exactly what was done, one line per change (the CLI prints them)."""
        if self.created:
            return [
                f"Created platform administrator {self.email} (address marked confirmed,"
                " password set)."
            ]
        already = " (It already was one.)" if self.was_admin else ""
        return [
            f"Promoted the existing account {self.email} to platform administrator.{already}",
            "Set its password to the one you typed.",
            f"Revoked {self.tokens_revoked} sessions and API tokens: it signs in again with the"
            " new password.",
        ]


def hasher_for(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.password_hash_time_cost,
        memory_kib=settings.password_hash_memory_kib,
        concurrency=settings.password_hash_concurrency,
    )


async def create_platform_admin(
    session: AsyncSession,
    settings: Settings,
    *,
    email: str,
    password: str,
    name: str = "",
    promote_existing: bool = False,
) -> AdminOutcome:
    """Create a confirmed platform administrator, or (only with `promote_existing`) promote the
    confirmed account using the address: the typed password is set, its tokens are revoked."""
    email = normalize_email(email)
    check_new_password(password, email=email)
    password_hash = await hasher_for(settings).hash(password)
    user = await get_user_by_email(session, email)
    if user is None:
        now = await db_now(session)
        user = User(
            email=email,
            name=name,
            password_hash=password_hash,
            password_changed_at=now,
            email_verified_at=now,
            is_platform_admin=True,
        )
        session.add(user)
        await session.flush()
        outcome = AdminOutcome(email, created=True)
    else:
        if not promote_existing:
            raise PromoteExistingRequired
        if not user.is_active:
            raise AccountInactive
        if not user.email_verified:
            raise AccountNotConfirmed
        was_admin = user.is_platform_admin
        await replace_password_hash(session, user, password_hash)
        revoked = await revoke_all_tokens(session, user)
        user.is_platform_admin = True
        await session.flush()
        outcome = AdminOutcome(email, created=False, was_admin=was_admin, tokens_revoked=revoked)
    await record(
        session,
        SYSTEM,
        "user.platform_admin_granted",
        resource_type="user",
        resource_id=user.id,
        details={
            "created": outcome.created,
            "password_set": True,
            "tokens_revoked": outcome.tokens_revoked,
        },
    )
    return outcome
