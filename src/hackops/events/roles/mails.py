"""The mails of event roles: the invitation with its accept link, and the notice of a new role."""

from __future__ import annotations

from limits import parse
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.service import Services
from hackops.actor import Actor
from hackops.errors import RateLimited
from hackops.events.access import EventAccess
from hackops.mail.service import queue_email
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
    await queue_email(
        session,
        to=invitation.email,
        subject=f"You are invited to be {role} of {access.event.name}",
        body=(
            f"{inviter(access.actor)} invited you to be {role} of {access.event.name}"
            f" ({access.org.name}) on HackOps.\n\nOpen this link within 7 days to accept. No"
            " password is needed: if no HackOps account uses this address, one is created for"
            f" you, and you are signed in.\n\n{link}\n\nIf you do not know them, ignore this"
            " message.\n"
        ),
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
    no_password = (
        "\n\nNo password? On the log-in page, ask for a sign-in link by email."
        if user.password_hash is None
        else ""
    )
    await queue_email(
        session,
        to=user.email,
        subject=f"You are now {ARTICLE[role]} of {access.event.name}",
        body=(
            f"Hello {user.name or user.email},\n\n{inviter(access.actor)} made you"
            f" {ARTICLE[role]} of {access.event.name} ({access.org.name}) on HackOps.\n\n"
            f"Start here: {link}{no_password}\n"
        ),
        user_id=user.id,
    )


async def spend_mail_budget(services: Services, actor: Actor, email: str) -> None:
    """Count an invitation against the sender's and the address's budgets (429 past either)."""
    await services.limiter.consume(ROLE_INVITES_PER_ACTOR, str(actor.user_id))
    await services.limiter.consume(ROLE_MAIL_PER_ADDRESS, email)
