"""Organizations (the tenants): creation, settings, plans, members, roles and invitations.

Every function that reads or writes tenant rows runs after `set_tenant` (done by the
authorizing dependency, or here when the tenant is only known inside the service).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import digest, new_secret, normalize_email
from hackops.actor import Actor, NotAuthenticated
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import Conflict, Forbidden, NotFound
from hackops.mail.service import queue_email
from hackops.models import ROLE_RANK, Invitation, Membership, Organization, OrgRole, User
from hackops.tenancy import set_tenant

INVITATION_LIFETIME = timedelta(days=7)


class OrganizationNotFound(NotFound):
    code = "organization_not_found"
    message = "No such organization."


class SlugTaken(Conflict):
    code = "slug_taken"
    message = "That address is already used by another organization."


class InsufficientRole(Forbidden):
    code = "insufficient_role"
    message = "Your role in this organization does not allow this."


class LastOwner(Conflict):
    code = "last_owner"
    message = "An organization needs at least one owner; make someone else owner first."


class MemberNotFound(NotFound):
    code = "member_not_found"
    message = "No such member."


class InvitationNotFound(NotFound):
    code = "invitation_not_found"
    message = "This invitation does not exist, was revoked, or has expired."


class EmailNotVerified(Forbidden):
    code = "email_not_verified"
    message = "Confirm your email address first."


def rank(role: str) -> int:
    return ROLE_RANK[OrgRole(role)]


async def get_organization_by_slug(session: AsyncSession, slug: str) -> Organization:
    org = await session.scalar(
        select(Organization).where(Organization.slug == slug, Organization.deleted_at.is_(None))
    )
    if org is None:
        raise OrganizationNotFound
    return org


async def get_public_profile(session: AsyncSession, slug: str) -> Any:
    """The four public fields of an organization (a hot, anonymous read: no full entity)."""
    row = (
        await session.execute(
            select(
                Organization.id, Organization.slug, Organization.name, Organization.created_at
            ).where(Organization.slug == slug, Organization.deleted_at.is_(None))
        )
    ).first()
    if row is None:
        raise OrganizationNotFound
    return row


async def ensure_organization(session: AsyncSession, *, slug: str, name: str) -> Organization:
    """Create the organization unless one with this slug exists (idempotent; demo data)."""
    existing = await session.scalar(select(Organization).where(Organization.slug == slug))
    if existing is not None:
        return existing
    org = Organization(slug=slug, name=name)
    session.add(org)
    await session.flush()
    return org


async def create_organization(
    session: AsyncSession, actor: Actor, *, slug: str, name: str
) -> tuple[Organization, Membership]:
    """Create an organization; its creator becomes its owner."""
    user = _signed_in(actor)
    if not user.email_verified and not user.is_platform_admin:
        raise EmailNotVerified
    if await session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
        raise SlugTaken
    org = Organization(slug=slug, name=name)
    session.add(org)
    await session.flush()
    await set_tenant(session, org.id)
    membership = Membership(org_id=org.id, user_id=user.id, role=OrgRole.OWNER.value)
    session.add(membership)
    await session.flush()
    await record(
        session,
        actor,
        "organization.created",
        resource_type="organization",
        resource_id=org.id,
        org_id=org.id,
        details={"slug": slug, "name": name},
    )
    return org, membership


SETTINGS_FIELDS = ("name", "branding")
PLAN_FIELDS = ("plan", "max_active_events", "feature_flags")


async def update_organization(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    changes: dict[str, Any],
    *,
    plan: bool = False,
) -> Organization:
    """Edit settings (admins) or the plan, limits and feature flags (platform admins: plan=True)."""
    allowed = PLAN_FIELDS if plan else SETTINGS_FIELDS
    changed = {k: v for k, v in changes.items() if k in allowed and getattr(org, k) != v}
    for key, value in changed.items():
        setattr(org, key, value)
    if changed:
        await session.flush()
        await record(
            session,
            actor,
            "organization.plan_changed" if plan else "organization.updated",
            resource_type="organization",
            resource_id=org.id,
            org_id=org.id,
            details=changed,
        )
    return org


async def list_my_organizations(
    session: AsyncSession, user: User
) -> list[tuple[Organization, Membership]]:
    rows = await session.execute(
        select(Organization, Membership)
        .join(Membership, Membership.org_id == Organization.id)
        .where(Membership.user_id == user.id, Organization.deleted_at.is_(None))
        .order_by(Organization.name)
    )
    return [(org, membership) for org, membership in rows]


async def list_members(session: AsyncSession, org: Organization) -> list[tuple[Membership, User]]:
    rows = await session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org.id)
        .order_by(Membership.created_at, Membership.id)
    )
    return [(membership, user) for membership, user in rows]


async def _membership(session: AsyncSession, org: Organization, user_id: uuid.UUID) -> Membership:
    membership = await session.scalar(
        select(Membership)
        .where(Membership.org_id == org.id, Membership.user_id == user_id)
        .with_for_update()
    )
    if membership is None:
        raise MemberNotFound
    return membership


async def _owner_count(session: AsyncSession, org: Organization) -> int:
    # Lock the owners so two concurrent demotions cannot both see "another owner remains".
    owners = await session.scalars(
        select(Membership.id)
        .where(Membership.org_id == org.id, Membership.role == OrgRole.OWNER.value)
        .with_for_update()
    )
    return len(list(owners))


async def change_role(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    actor_role: str,
    *,
    user_id: uuid.UUID,
    role: OrgRole,
) -> Membership:
    membership = await _membership(session, org, user_id)
    touches_owner = OrgRole.OWNER in (OrgRole(membership.role), role)
    if rank(actor_role) < rank(OrgRole.ADMIN) or (touches_owner and actor_role != OrgRole.OWNER):
        raise InsufficientRole
    if membership.role == role.value:
        return membership
    if membership.role == OrgRole.OWNER.value and await _owner_count(session, org) == 1:
        raise LastOwner
    previous = membership.role
    membership.role = role.value
    await session.flush()
    await record(
        session,
        actor,
        "membership.role_changed",
        resource_type="membership",
        resource_id=membership.id,
        org_id=org.id,
        details={"user_id": str(user_id), "from": previous, "to": role.value},
    )
    return membership


async def remove_member(
    session: AsyncSession, actor: Actor, org: Organization, actor_role: str, *, user_id: uuid.UUID
) -> None:
    """Remove someone (admins; owners for owners) or leave (anyone, for themselves)."""
    membership = await _membership(session, org, user_id)
    leaving = actor.user is not None and actor.user.id == user_id
    if not leaving:
        if rank(actor_role) < rank(OrgRole.ADMIN):
            raise InsufficientRole
        if membership.role == OrgRole.OWNER.value and actor_role != OrgRole.OWNER:
            raise InsufficientRole
    if membership.role == OrgRole.OWNER.value and await _owner_count(session, org) == 1:
        raise LastOwner
    await session.delete(membership)
    await session.flush()
    await record(
        session,
        actor,
        "membership.left" if leaving else "membership.removed",
        resource_type="membership",
        resource_id=membership.id,
        org_id=org.id,
        details={"user_id": str(user_id), "role": membership.role},
    )


async def invite(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    actor_role: str,
    *,
    email: str,
    role: OrgRole,
    base_url: str,
) -> Invitation:
    if rank(actor_role) < rank(OrgRole.ADMIN) or (
        role is OrgRole.OWNER and actor_role != OrgRole.OWNER
    ):
        raise InsufficientRole
    email = normalize_email(email)
    existing_member = await session.scalar(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org.id, User.email == email)
    )
    if existing_member is not None:
        raise Conflict("That person is already a member.", code="already_member")
    now = await db_now(session)
    raw, hashed = new_secret()
    invitation = Invitation(
        org_id=org.id,
        email=email,
        role=role.value,
        token_hash=hashed,
        invited_by_id=_signed_in(actor).id,
        expires_at=now + INVITATION_LIFETIME,
    )
    session.add(invitation)
    await session.flush()
    inviter = actor.user.name or actor.user.email if actor.user else "Someone"
    link = f"{base_url}/invitations/accept?org={org.slug}&token={raw}"
    await queue_email(
        session,
        to=email,
        subject=f"You are invited to join {org.name} on HackOps",
        body=(
            f"{inviter} invited you to join {org.name} as {role.value}.\n\n"
            f"Accept within 7 days:\n\n{link}\n\nSign in (or create an account) with this"
            " address to accept. If you do not know them, ignore this message.\n"
        ),
    )
    await record(
        session,
        actor,
        "invitation.created",
        resource_type="invitation",
        resource_id=invitation.id,
        org_id=org.id,
        details={"email": email, "role": role.value},
    )
    return invitation


async def list_invitations(session: AsyncSession, org: Organization) -> list[Invitation]:
    rows = await session.scalars(
        select(Invitation)
        .where(
            Invitation.org_id == org.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > func.app_now(),
        )
        .order_by(Invitation.created_at.desc())
    )
    return list(rows)


async def revoke_invitation(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    actor_role: str,
    invitation_id: uuid.UUID,
) -> None:
    if rank(actor_role) < rank(OrgRole.ADMIN):
        raise InsufficientRole
    invitation = await session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id,
            Invitation.org_id == org.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    )
    if invitation is None:
        raise InvitationNotFound
    invitation.revoked_at = await db_now(session)
    await record(
        session,
        actor,
        "invitation.revoked",
        resource_type="invitation",
        resource_id=invitation.id,
        org_id=org.id,
    )


async def accept_invitation(
    session: AsyncSession, actor: Actor, *, org_slug: str, token: str
) -> tuple[Organization, Membership]:
    user = _signed_in(actor)
    org = await session.scalar(
        select(Organization).where(Organization.slug == org_slug, Organization.deleted_at.is_(None))
    )
    if org is None:
        raise InvitationNotFound
    await set_tenant(session, org.id)
    invitation = await session.scalar(
        select(Invitation)
        .where(Invitation.org_id == org.id, Invitation.token_hash == digest(token))
        .with_for_update()
    )
    now = await db_now(session)
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= now
    ):
        raise InvitationNotFound
    if invitation.email != user.email:
        raise Forbidden(
            "This invitation was sent to another email address; sign in with that one.",
            code="invitation_email_mismatch",
        )
    existing = await session.scalar(
        select(Membership).where(Membership.org_id == org.id, Membership.user_id == user.id)
    )
    if existing is not None:
        raise Conflict("You are already a member of this organization.", code="already_member")
    invitation.accepted_at = now
    invitation.accepted_by_id = user.id
    membership = Membership(org_id=org.id, user_id=user.id, role=invitation.role)
    session.add(membership)
    await session.flush()
    if user.email_verified_at is None:  # the invitation link reached this inbox
        user.email_verified_at = now
    await record(
        session,
        actor,
        "invitation.accepted",
        resource_type="membership",
        resource_id=membership.id,
        org_id=org.id,
        details={"invitation_id": str(invitation.id), "role": invitation.role},
    )
    return org, membership


def _signed_in(actor: Actor) -> User:
    if actor.user is None:
        raise NotAuthenticated
    return actor.user
