"""The person's own account data: profile edits, the export of everything held about them,
and closing the account (deletion by its owner, disabling by a platform admin). Every change is
audited in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.auth_tokens import revoke_all_tokens
from hackops.accounts.schemas import ProfileIn
from hackops.accounts.service import Services, require_password
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import Conflict
from hackops.models import (
    AuditEntry,
    AuthToken,
    Membership,
    OAuthIdentity,
    Organization,
    User,
)

PROFILE_FIELDS = ("name", "bio", "skills", "interests", "links")


class LastOwner(Conflict):
    code = "last_owner"
    message = "You are the last owner of an organization; hand it over or delete it first."


async def update_profile(session: AsyncSession, actor: Actor, user: User, body: ProfileIn) -> User:
    changes = body.changes()
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
        await require_password(services, user, password or "")
    # Counted by the database across row-level security (no tenant is set here), with the
    # owner rows locked so two owners leaving at once cannot both go (migration 0014).
    sole = (await session.scalars(select(func.sole_owned_orgs()))).first()
    if sole is not None:
        raise LastOwner(details={"org_id": str(sole)})
    await record(session, actor, "user.deleted", resource_type="user", resource_id=user.id)
    await revoke_all_tokens(session, user)
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
    await revoke_all_tokens(session, user)
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
