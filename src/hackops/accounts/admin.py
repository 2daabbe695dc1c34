"""Platform administrators, made from the command line (`hackops admin create`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import PasswordHasher, check_new_password, normalize_email
from hackops.accounts.service import get_user_by_email
from hackops.actor import SYSTEM
from hackops.audit.service import record
from hackops.config import Settings
from hackops.db import db_now
from hackops.models import User


def hasher_for(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.password_hash_time_cost,
        memory_kib=settings.password_hash_memory_kib,
        concurrency=settings.password_hash_concurrency,
    )


async def create_platform_admin(
    session: AsyncSession, settings: Settings, *, email: str, password: str, name: str = ""
) -> bool:
    """Create a verified platform administrator, or promote the existing account (keeping its
    password). Returns True when an account was created."""
    email = normalize_email(email)
    user = await get_user_by_email(session, email)
    now = await db_now(session)
    created = user is None
    if user is None:
        check_new_password(password, email=email)
        user = User(
            email=email,
            name=name,
            password_hash=await hasher_for(settings).hash(password),
            password_changed_at=now,
            email_verified_at=now,
        )
        session.add(user)
    user.is_platform_admin = True
    await session.flush()
    await record(
        session, SYSTEM, "user.platform_admin_granted", resource_type="user", resource_id=user.id
    )
    return created
