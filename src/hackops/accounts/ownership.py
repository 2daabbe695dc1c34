"""Who holds an account: the inbox holder of its address, once they prove it.

Anyone can sign up with someone else's address and leave it unconfirmed, or link a provider to
such an account. So when the inbox holder proves the address with a link that gives them the
account — a password reset, a sign-in link, an invitation link used without a session — what was
attached while the address was unproven is not trusted:

- the address is marked confirmed;
- provider identities linked while it was unproven (`OAuthIdentity.linked_while_unproven`) are
  removed, each audited (`identity.unlinked`, reason `linked_before_address_proven`), and the
  holder is told by mail which ones and how to link them again;
- every other session and API token of the account ends, when the address was unproven or an
  identity was removed (whoever used them did not prove the address).

Confirming through the verification link mailed at sign-up does not remove anything: it proves the
address for the account as it is, and the flags stay until one of the links above is used.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.auth_tokens import revoke_all_tokens
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.mail.service import queue_mail
from hackops.models import OAuthIdentity, User

PROVIDER_LABELS = {"github": "GitHub", "google": "Google", "microsoft": "Microsoft"}
REMOVED_SUBJECT = "We removed a sign-in method from your HackOps account"
VIA = {
    "password_reset": "you reset your password",
    "sign_in_link": "you signed in with a link we mailed",
    "invitation": "you opened an invitation we mailed",
}


def provider_label(name: str) -> str:
    return PROVIDER_LABELS.get(name, name.title())


async def inbox_holder_took_over(
    session: AsyncSession, actor: Actor, user: User, *, via: str, base_url: str
) -> list[str]:
    """The holder of `user.email` proved it with a mailed link that gives them the account
    (`via`: a key of `VIA`). Confirms the address, removes identities linked while it was
    unproven (mailing the holder), ends the other sessions; returns the removed providers.
    Call it before creating the new session, if any."""
    was_unproven = user.email_verified_at is None
    if was_unproven:
        user.email_verified_at = await db_now(session)
    removed = (
        await session.execute(
            delete(OAuthIdentity)
            .where(OAuthIdentity.user_id == user.id, OAuthIdentity.linked_while_unproven)
            .returning(OAuthIdentity.id, OAuthIdentity.provider)
        )
    ).all()
    as_user = Actor(user, actor.ip, actor.user_agent)
    for identity_id, provider in removed:
        await record(
            session,
            as_user,
            "identity.unlinked",
            resource_type="oauth_identity",
            resource_id=identity_id,
            details={"provider": provider, "reason": "linked_before_address_proven", "via": via},
        )
    if was_unproven or removed:
        await revoke_all_tokens(session, user)
    providers = [provider for _, provider in removed]
    if providers:
        await _tell(session, user, providers, via=via, base_url=base_url)
    return providers


async def _tell(
    session: AsyncSession, user: User, providers: list[str], *, via: str, base_url: str
) -> None:
    names = " and ".join(dict.fromkeys(provider_label(p) for p in providers))
    await queue_mail(
        session,
        "accounts/identities_removed",
        to=user.email,
        subject=REMOVED_SUBJECT,
        base_url=base_url,
        context={
            "name": user.name or user.email,
            "proof": VIA[via].capitalize(),
            "email": user.email,
            "providers": names,
        },
        user_id=user.id,
    )
