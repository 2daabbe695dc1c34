"""Event roles by email: a grant for an account whose address is proven (plus a notice mail), an
invitation for any other address, and accepting an invitation — the magic-link sign-in.

Only a confirmed address is trusted to name a person: anyone can sign up with someone else's
address and leave it unconfirmed, so an account that never proved its address gets the mailed
invitation like an address without an account, and the role follows the link (`accept`).

Lifecycle of an invitation (`event_role_invitations`; the invitation core's, `hackops.invitations`,
which mints the token, finds a link, checks the addressee, settles once by one guarded UPDATE and
writes the audit rows — `ROLE_INVITATIONS` names this table's errors):
- created by an organization organizer when no account with that confirmed address exists: a
  random token is
  mailed, only its SHA-256 is stored; it expires after 7 days. One pending invitation per event,
  address and role (`uq_event_role_invitations_pending`): another is refused (409), an expired
  one is replaced;
- resent: a new token and a new expiry (the old link stops working);
- revoked by an organizer;
- accepted with the token, once, in one transaction: the account is found or created (address
  verified — the link reached that inbox —, no password), the role is granted, and a judge joins
  an existing assignment run (re-balanced). A caller who is not signed in is signed in; a caller
  signed in with another address is refused. An account that has a password is not signed in by
  a link: its owner logs in first, then accepts (the link is no way around a password).

One audit row for the acceptance, `event_role_invitation.accepted`, whose resource is the grant
(as organizations' `invitation.accepted` is for the membership); creating the account
(`user.registered`) and the sign-in session (`session_token.created`) have their own rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import invitations
from hackops.accounts.auth_tokens import create_token
from hackops.accounts.credentials import normalize_email
from hackops.accounts.ownership import inbox_holder_took_over
from hackops.accounts.service import Services
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.constraints import savepoint
from hackops.db import db_now
from hackops.errors import AppError, Conflict, Forbidden, NotFound, Unauthorized
from hackops.events.access import EventAccess
from hackops.events.roles import hooks
from hackops.events.roles import service as roles
from hackops.events.roles.mails import mail_invitation, notify_role, spend_mail_budget
from hackops.events.service import EventArchived
from hackops.invitations import State
from hackops.models import (
    Event,
    EventRole,
    EventRoleGrant,
    EventRoleInvitation,
    Organization,
    TokenKind,
    User,
)
from hackops.tenancy import set_tenant

ACCEPT_PATH = "/events/invitations/accept"


class InvitationPending(Conflict):
    code = "role_invitation_pending"
    message = "An invitation for this role was already sent to that address; resend or revoke it."


class RoleInvitationNotFound(NotFound):
    code = "role_invitation_not_found"
    message = "No such pending invitation in this event."


class InvitationLinkInvalid(NotFound):
    code = "role_invitation_not_found"
    message = (
        "This invitation link is not valid (a newer one may have been sent); open the latest"
        " email, or ask the organizers for a new invitation."
    )


class InvitationExpired(AppError):
    status_code = 410
    code = "role_invitation_expired"
    message = "This invitation has expired; ask the organizers to send it again."


class InvitationRevoked(AppError):
    status_code = 410
    code = "role_invitation_revoked"
    message = "The organizers withdrew this invitation."


class InvitationUsed(Conflict):
    code = "role_invitation_used"
    message = (
        "This invitation was already accepted. Log in — without a password, ask for a sign-in"
        " link on the log-in page."
    )


class InvitationForAnotherAddress(Forbidden):
    code = "role_invitation_other_address"
    message = (
        "This invitation was sent to another email address than the one you are signed in with."
        " Log out, then open the link again."
    )


class SignInRequired(Unauthorized):
    code = "sign_in_required"
    message = (
        "An account with a password uses this address: log in first, then accept. If you do not"
        " know its password (or never made that account), reset the password for this address:"
        " the reset link proves the address is yours."
    )


class AccountDisabled(Forbidden):
    code = "account_disabled"
    message = "The account using this address is disabled."


def _scope(invitation: EventRoleInvitation) -> dict[str, str]:
    return {"event_id": str(invitation.event_id)}


#: Event role invitations in the invitation core: a link tells used, revoked and expired apart;
#: accepting with it proves the address.
ROLE_INVITATIONS = invitations.Kind(
    model=EventRoleInvitation,
    name="event_role_invitation",
    states=invitations.Stamps(),
    refusals=invitations.Refusals(
        not_found=InvitationLinkInvalid,
        used=InvitationUsed,
        revoked=InvitationRevoked,
        expired=InvitationExpired,
        other_address=InvitationForAnotherAddress,
    ),
    scope=_scope,
    proves_address=True,
)


# --- granting by email, inviting ---------------------------------------------------------------


async def grant_or_invite(
    session: AsyncSession, access: EventAccess, services: Services, *, email: str, role: str
) -> roles.Granted | EventRoleInvitation:
    """An account whose address is proven gets the role at once (and a notice mail); any other
    address an invitation, whose link proves it."""
    user = await roles.find_account(session, email)
    if user is None or not user.email_verified:
        return await invite(session, access, services, email=normalize_email(email), role=role)
    # A pending invitation for the same role (sent before the account existed) is now
    # pointless: it closes, recorded with the grant.
    closed = await invitations.close_pending(
        session, ROLE_INVITATIONS, *_pending_for(access.event, user.email, role)
    )
    ids = [str(i) for i in closed]
    details = {"closed_invitation_ids": ids} if ids else None
    granted = await roles.grant_role(
        session, access.actor, access.event, user, role, details=details
    )
    await notify_role(
        session,
        access,
        services,
        user,
        role,
        services.base_url + landing_path(access.org, access.event, role),
    )
    return granted


def _pending_for(event: Event, email: str, role: str) -> tuple[Any, ...]:
    return (
        EventRoleInvitation.event_id == event.id,
        EventRoleInvitation.email == email,
        EventRoleInvitation.role == role,
    )


async def invite(
    session: AsyncSession, access: EventAccess, services: Services, *, email: str, role: str
) -> EventRoleInvitation:
    event = access.event
    if event.archived_at is not None:
        raise EventArchived
    now = await db_now(session)
    pending = await session.scalar(
        select(EventRoleInvitation)
        .where(*_pending_for(event, email, role), *invitations.pending(ROLE_INVITATIONS))
        .with_for_update()
    )
    if pending is not None and pending.expires_at > now:
        raise InvitationPending
    await spend_mail_budget(services, access.actor, email)
    minted = invitations.mint(now)
    invitation = EventRoleInvitation(
        org_id=event.org_id,
        event_id=event.id,
        email=email,
        role=role,
        token_hash=minted.token_hash,
        invited_by_id=access.actor.user.id if access.actor.user else None,
        expires_at=minted.expires_at,
    )
    # A concurrent invitation to the same address may win: its pending index refuses this one.
    async with savepoint(session, {"uq_event_role_invitations_pending": InvitationPending}):
        if pending is not None:  # expired: replaced by the new one (recorded with it)
            await invitations.transition(session, ROLE_INVITATIONS, pending, State.REVOKED)
            await session.flush()
        session.add(invitation)
        await session.flush()
    await session.refresh(invitation)
    await mail_invitation(
        session, access, services, invitation, _accept_link(services, access, minted.token)
    )
    await invitations.audit(
        session,
        access.actor,
        ROLE_INVITATIONS,
        "created",
        invitation,
        details={
            "email": email,
            "role": role,
            **({"replaces": str(pending.id)} if pending else {}),
        },
    )
    return invitation


async def list_invitations(session: AsyncSession, event: Event) -> list[EventRoleInvitation]:
    """Pending invitations (expired ones included: they can be resent), newest first."""
    rows = await session.scalars(
        select(EventRoleInvitation)
        .where(EventRoleInvitation.event_id == event.id, *invitations.pending(ROLE_INVITATIONS))
        .order_by(EventRoleInvitation.created_at.desc(), EventRoleInvitation.id.desc())
    )
    return list(rows)


async def _pending(
    session: AsyncSession, event: Event, invitation_id: uuid.UUID
) -> EventRoleInvitation:
    return await invitations.pending_by_id(
        session,
        ROLE_INVITATIONS,
        invitation_id,
        EventRoleInvitation.event_id == event.id,
        missing=RoleInvitationNotFound,
    )


async def revoke_invitation(
    session: AsyncSession, actor: Actor, event: Event, invitation_id: uuid.UUID
) -> EventRoleInvitation:
    invitation = await _pending(session, event, invitation_id)
    await invitations.settle(
        session,
        ROLE_INVITATIONS,
        actor,
        invitation,
        State.REVOKED,
        details={"email": invitation.email, "role": invitation.role},
    )
    return invitation


async def resend_invitation(
    session: AsyncSession, access: EventAccess, services: Services, invitation_id: uuid.UUID
) -> EventRoleInvitation:
    """A new link, valid 7 days from now; the previous one stops working."""
    if access.event.archived_at is not None:
        raise EventArchived
    invitation = await _pending(session, access.event, invitation_id)
    await spend_mail_budget(services, access.actor, invitation.email)
    raw = await invitations.renew(session, invitation)
    await mail_invitation(
        session, access, services, invitation, _accept_link(services, access, raw)
    )
    await invitations.audit(
        session,
        access.actor,
        ROLE_INVITATIONS,
        "resent",
        invitation,
        details={"email": invitation.email, "role": invitation.role},
    )
    return invitation


def sent_message(invitation: EventRoleInvitation) -> str:
    """What the organizer is told after an invitation went out (API and page)."""
    return (
        f"We mailed an invitation to {invitation.email}. They become {invitation.role} once they"
        " open its link (valid 7 days)."
    )


# --- mails -------------------------------------------------------------------------------------


def _accept_link(services: Services, access: EventAccess, raw: str) -> str:
    return f"{services.base_url}{ACCEPT_PATH}?{urlencode({'org': access.org.slug, 'token': raw})}"


def landing_path(org: Organization, event: Event, role: str) -> str:
    """Where someone with this role starts: a judge's queue, an organizer's admin, the event."""
    base = f"/orgs/{org.slug}/events/{event.slug}"
    return {"judge": base + "/judging", "organizer": base + "/admin"}.get(role, base)


# --- accepting: the magic link -----------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A pending invitation located by its link, and the account its address already has."""

    org: Organization
    event: Event
    invitation: EventRoleInvitation
    account: User | None


@dataclass(frozen=True)
class Accepted:
    org: Organization
    event: Event
    grant: EventRoleGrant
    user: User
    account_created: bool
    #: A new session for a caller who was not signed in (the raw token, shown once).
    session_token: str | None
    rebalance: hooks.Reassigned | None


async def find(session: AsyncSession, *, org_slug: str, token: str, lock: bool = False) -> Found:
    """The pending invitation this link is for, or why it cannot be used (never consumes)."""
    org = await session.scalar(
        select(Organization).where(Organization.slug == org_slug, Organization.deleted_at.is_(None))
    )
    if org is None or not token:
        raise InvitationLinkInvalid
    await set_tenant(session, org.id)
    invitation = await invitations.find(
        session, ROLE_INVITATIONS, token, EventRoleInvitation.org_id == org.id, lock=lock
    )
    event = await session.scalar(
        select(Event).where(Event.org_id == org.id, Event.id == invitation.event_id)
    )
    if event is None:  # the FK cascades: only a race with a deletion gets here
        raise InvitationLinkInvalid
    account = await session.scalar(select(User).where(User.email == invitation.email))
    return Found(org, event, invitation, account)


async def _new_account(session: AsyncSession, email: str, name: str, now: Any) -> tuple[User, bool]:
    """The invited address's account, made now (verified, no password). Another invitation to
    the same new address accepted at the same moment may make it first: the unique email waits
    for that transaction, and then its account is the one used (not a 409)."""
    user = User(email=email, name=name.strip(), email_verified_at=now)
    try:
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError:
        existing = await session.scalar(select(User).where(User.email == email))
        if existing is None:
            raise
        return existing, False
    return user, True


async def accept(
    session: AsyncSession,
    actor: Actor,
    services: Services,
    *,
    org_slug: str,
    token: str,
    name: str = "",
) -> Accepted:
    """Use the invitation (once): find or create the account, grant the role, sign in."""
    # Locked: a second accept of the link waits here and is refused as used, before it could
    # insert a second grant (the core's guarded UPDATE below holds single use either way).
    found = await find(session, org_slug=org_slug, token=token, lock=True)
    invitation, event = found.invitation, found.event
    if event.archived_at is not None:
        raise EventArchived
    now = await db_now(session)
    created = False
    if actor.user is not None:
        invitations.require_addressee(ROLE_INVITATIONS, invitation, actor.user)
        user = actor.user
    else:
        if found.account is not None:
            user = found.account
        else:
            user, created = await _new_account(session, invitation.email, name, now)
        if not user.is_active:
            raise AccountDisabled
        if user.password_hash is not None:
            raise SignInRequired
    if created:
        await record(
            session,
            Actor(user, actor.ip, actor.user_agent),
            "user.registered",
            resource_type="user",
            resource_id=user.id,
            details={"via": "event_role_invitation"},
        )
    as_user = Actor(user, actor.ip, actor.user_agent)
    if actor.user is None and not created:
        # Signed in by the link into an existing account: its inbox holder takes it over.
        await inbox_holder_took_over(
            session, actor, user, via="invitation", base_url=services.base_url
        )
    grant = await session.scalar(
        select(EventRoleGrant).where(
            EventRoleGrant.event_id == event.id,
            EventRoleGrant.user_id == user.id,
            EventRoleGrant.role == invitation.role,
        )
    )
    new_grant = grant is None  # (granted directly in the meantime: the invitation just closes)
    if grant is None:
        grant = EventRoleGrant(
            org_id=event.org_id, event_id=event.id, user_id=user.id, role=invitation.role
        )
        session.add(grant)
        await session.flush()
        await session.refresh(grant)
    # The one use (the link's holder proves the address: a signed-in holder's is confirmed).
    await invitations.settle(
        session,
        ROLE_INVITATIONS,
        as_user,
        invitation,
        State.ACCEPTED,
        by=user,
        resource=("event_role", grant.id),
        details={
            "invitation_id": str(invitation.id),
            "user_id": str(user.id),
            "role": invitation.role,
            "account_created": created,
        },
    )
    rebalance = None
    if new_grant and invitation.role == EventRole.JUDGE:
        rebalance = await hooks.judge_added.send(
            session, as_user, hooks.JudgeAdded(event_id=event.id, judge_id=user.id)
        )
    raw = None
    if actor.user is None:
        raw, _ = await create_token(
            session,
            as_user,
            user,
            kind=TokenKind.SESSION,
            lifetime=services.session_lifetime,
            name="Invitation sign-in",
        )
    return Accepted(found.org, event, grant, user, created, raw, rebalance)
