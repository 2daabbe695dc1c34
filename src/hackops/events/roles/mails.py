"""The mails of event roles: the invitation with its accept link, and the notice of a new role."""

from __future__ import annotations

from limits import parse
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.service import Services
from hackops.actor import Actor
from hackops.errors import RateLimited
from hackops.events.access import EventAccess
from hackops.mail.render import org_brand
from hackops.mail.service import queue_mail
from hackops.models import EventRoleInvitation, User
from hackops.ratelimit import Rule

#: Mails about event roles one address may receive (invitations, resends, notices).
ROLE_MAIL_PER_ADDRESS = Rule("event-role-mail-address", parse("5/hour"))
#: Invitations and resends one person may send.
ROLE_INVITES_PER_ACTOR = Rule("event-role-invites-actor", parse("200/hour"))
ARTICLE = {"judge": "a judge", "mentor": "a mentor", "organizer": "an organizer"}


def inviter(actor: Actor) -> str:
    if actor.user is None:
        return "The organizers"
    return actor.user.name or actor.user.email


async def mail_invitation(
    session: AsyncSession,
    access: EventAccess,
    services: Services,
    invitation: EventRoleInvitation,
    link: str,
) -> None:
    """Mail the invitation with its accept link (the only copy of the raw token)."""
    role = ARTICLE[invitation.role]
    await queue_mail(
        session,
        "events/role_invitation",
        to=invitation.email,
        subject=f"You are invited to be {role} of {access.event.name}",
        base_url=services.base_url,
        brand=org_brand(access.org),
        context={
            "inviter": inviter(access.actor),
            "role": role,
            "event_name": access.event.name,
            "org_name": access.org.name,
            "link": link,
        },
    )


async def notify_role(
    session: AsyncSession,
    access: EventAccess,
    services: Services,
    user: User,
    role: str,
    link: str,
) -> None:
    """Tell an account it has a new role. Skipped past the address's mail budget: the grant
    is what counts, and an organizer's mistake must not become a flood."""
    try:
        await services.limiter.consume(ROLE_MAIL_PER_ADDRESS, user.email)
    except RateLimited:
        return
    await queue_mail(
        session,
        "events/role_granted",
        to=user.email,
        subject=f"You are now {ARTICLE[role]} of {access.event.name}",
        base_url=services.base_url,
        brand=org_brand(access.org),
        context={
            "name": user.name or user.email,
            "inviter": inviter(access.actor),
            "role": ARTICLE[role],
            "event_name": access.event.name,
            "org_name": access.org.name,
            "link": link,
            "no_password": user.password_hash is None,
        },
        user_id=user.id,
    )


async def spend_mail_budget(services: Services, actor: Actor, email: str) -> None:
    """Count an invitation against the sender's and the address's budgets (429 past either)."""
    await services.limiter.consume(ROLE_INVITES_PER_ACTOR, str(actor.user_id))
    await services.limiter.consume(ROLE_MAIL_PER_ADDRESS, email)
