"""Organizations (the tenants): creation, settings, plans, members, roles and invitations.

Every function that reads or writes tenant rows runs after `set_tenant` (done by the
authorizing dependency, or here when the tenant is only known inside the service).

Invitations follow the invitation core's life cycle (`hackops.invitations`, `ORG_INVITATIONS`):
a link that is unknown, used, revoked or expired is one 404; only the signed-in holder of the
invited address accepts, and accepting confirms that address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import invitations
from hackops.accounts.credentials import normalize_email
from hackops.actor import Actor, NotAuthenticated
from hackops.audit.service import record
from hackops.db import db_now
from hackops.errors import Conflict, Forbidden, NotFound
from hackops.invitations import State
from hackops.mail.render import org_brand
from hackops.mail.service import queue_mail
from hackops.models import ROLE_RANK, Invitation, Membership, Organization, OrgRole, User
from hackops.orgs.schemas import OrganizationUpdate, PlanUpdate
from hackops.tenancy import set_tenant

if TYPE_CHECKING:  # the access loader builds on this module (get_organization_by_slug)
    from hackops.orgs.access import OrgAccess


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


class InvitationEmailMismatch(Forbidden):
    code = "invitation_email_mismatch"
    message = "This invitation was sent to another email address; sign in with that one."


#: Organization invitations in the invitation core: a used, revoked or expired link is the same
#: 404 as an unknown one; accepting with the link proves the address.
ORG_INVITATIONS = invitations.Kind(
    model=Invitation,
    name="invitation",
    states=invitations.Stamps(),
    refusals=invitations.Refusals.one(InvitationNotFound, other_address=InvitationEmailMismatch),
    proves_address=True,
)


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
    membership = Membership(org_id=org.id, user_id=user.id, role=OrgRole.OWNER)
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
PLAN_FIELDS = ("plan", "max_active_events", "max_announcements_per_month", "feature_flags")


async def update_organization(
    session: AsyncSession,
    actor: Actor,
    org: Organization,
    body: OrganizationUpdate | PlanUpdate,
) -> Organization:
    """Edit settings (admins: `OrganizationUpdate`) or the plan, limits and feature flags
    (platform admins: `PlanUpdate`)."""
    plan = isinstance(body, PlanUpdate)
    allowed = PLAN_FIELDS if plan else SETTINGS_FIELDS
    changed = {k: v for k, v in body.changes().items() if k in allowed and getattr(org, k) != v}
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


async def set_plan(
    session: AsyncSession, actor: Actor, slug: str, body: PlanUpdate
) -> Organization:
    """A platform administrator sets an organization's plan, limits and feature flags (the API's
    `PATCH /admin/organizations/{slug}` and `hackops admin plan`); recorded in its audit log."""
    org = await get_organization_by_slug(session, slug)
    await set_tenant(session, org.id)
    return await update_organization(session, actor, org, body)


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
        .where(Membership.org_id == org.id, Membership.role == OrgRole.OWNER)
        .with_for_update()
    )
    return len(list(owners))


async def change_role(
    session: AsyncSession, access: OrgAccess, *, user_id: uuid.UUID, role: OrgRole
) -> Membership:
    actor, org, actor_role = access.actor, access.org, access.role
    membership = await _membership(session, org, user_id)
    touches_owner = OrgRole.OWNER in (membership.role, role)
    if rank(actor_role) < rank(OrgRole.ADMIN) or (touches_owner and actor_role != OrgRole.OWNER):
        raise InsufficientRole
    if membership.role == role:
        return membership
    if membership.role == OrgRole.OWNER and await _owner_count(session, org) == 1:
        raise LastOwner
    previous = membership.role
    membership.role = role
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


async def remove_member(session: AsyncSession, access: OrgAccess, *, user_id: uuid.UUID) -> None:
    """Remove someone (admins; owners for owners) or leave (anyone, for themselves)."""
    actor, org, actor_role = access.actor, access.org, access.role
    membership = await _membership(session, org, user_id)
    leaving = actor.user is not None and actor.user.id == user_id
    if not leaving:
        if rank(actor_role) < rank(OrgRole.ADMIN):
            raise InsufficientRole
        if membership.role == OrgRole.OWNER and actor_role != OrgRole.OWNER:
            raise InsufficientRole
    if membership.role == OrgRole.OWNER and await _owner_count(session, org) == 1:
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
    session: AsyncSession, access: OrgAccess, *, email: str, role: OrgRole, base_url: str
) -> Invitation:
    actor, org, actor_role = access.actor, access.org, access.role
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
    minted = invitations.mint(await db_now(session))
    invitation = Invitation(
        org_id=org.id,
        email=email,
        role=role.value,
        token_hash=minted.token_hash,
        invited_by_id=_signed_in(actor).id,
        expires_at=minted.expires_at,
    )
    session.add(invitation)
    await session.flush()
    inviter = actor.user.name or actor.user.email if actor.user else "Someone"
    link = f"{base_url}/invitations/accept?org={org.slug}&token={minted.token}"
    await queue_mail(
        session,
        "orgs/invitation",
        to=email,
        subject=f"You are invited to join {org.name} on HackOps",
        base_url=base_url,
        brand=org_brand(org),
        context={"inviter": inviter, "org_name": org.name, "role": role.value, "link": link},
    )
    await invitations.audit(
        session,
        actor,
        ORG_INVITATIONS,
        "created",
        invitation,
        details={"email": email, "role": role.value},
    )
    return invitation


async def list_invitations(session: AsyncSession, org: Organization) -> list[Invitation]:
    rows = await session.scalars(
        select(Invitation)
        .where(
            Invitation.org_id == org.id,
            *invitations.pending(ORG_INVITATIONS),
            invitations.unexpired(ORG_INVITATIONS),
        )
        .order_by(Invitation.created_at.desc())
    )
    return list(rows)


async def revoke_invitation(
    session: AsyncSession, access: OrgAccess, invitation_id: uuid.UUID
) -> None:
    actor, org, actor_role = access.actor, access.org, access.role
    if rank(actor_role) < rank(OrgRole.ADMIN):
        raise InsufficientRole
    invitation = await invitations.pending_by_id(
        session,
        ORG_INVITATIONS,
        invitation_id,
        Invitation.org_id == org.id,
        missing=InvitationNotFound,
    )
    await invitations.settle(session, ORG_INVITATIONS, actor, invitation, State.REVOKED)


@dataclass(frozen=True)
class InvitationPreview:
    """What an invitation link shows before it is answered: the organization, the role offered
    and who invited (holding the link proves the address, so no sign-in is needed to see it)."""

    org: Organization
    role: str
    inviter_name: str
    expires_at: datetime


async def preview_invitation(
    session: AsyncSession, *, org_slug: str, token: str
) -> InvitationPreview | None:
    """The pending invitation of this link, or None when it cannot be used (unknown, used,
    revoked, expired: the page says so in one sentence, as accepting would)."""
    org = await session.scalar(
        select(Organization).where(Organization.slug == org_slug, Organization.deleted_at.is_(None))
    )
    if org is None or not token:
        return None
    await set_tenant(session, org.id)
    try:
        invitation = await invitations.find(
            session, ORG_INVITATIONS, token, Invitation.org_id == org.id
        )
    except InvitationNotFound:
        return None
    name = await invitations.inviter_name(session, invitation)
    return InvitationPreview(org, invitation.role, name, invitation.expires_at)


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
    # Locked: a second accept of the link waits here and is refused, before it could insert a
    # second membership.
    invitation = await invitations.find(
        session, ORG_INVITATIONS, token, Invitation.org_id == org.id, lock=True
    )
    invitations.require_addressee(ORG_INVITATIONS, invitation, user)
    existing = await session.scalar(
        select(Membership).where(Membership.org_id == org.id, Membership.user_id == user.id)
    )
    if existing is not None:
        raise Conflict("You are already a member of this organization.", code="already_member")
    membership = Membership(org_id=org.id, user_id=user.id, role=invitation.role)
    session.add(membership)
    await session.flush()
    await invitations.settle(
        session,
        ORG_INVITATIONS,
        actor,
        invitation,
        State.ACCEPTED,
        by=user,
        resource=("membership", membership.id),
        details={"invitation_id": str(invitation.id), "role": invitation.role},
    )
    return org, membership


def _signed_in(actor: Actor) -> User:
    if actor.user is None:
        raise NotAuthenticated
    return actor.user
