"""OAuth never binds an account to an address the provider did not confirm, and identities linked
while an account's address was unproven are removed once the inbox holder proves it (a password
reset, a sign-in link), with a mail saying so. Against the fake providers of `test_oauth`."""

from __future__ import annotations

from typing import Any

import httpx2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import OAuthIdentity, OutboundEmail, User
from tests.accounts.helpers import bearer, last_link, reset_password, sign_in, sign_up
from tests.accounts.test_oauth import (
    FakeProviders,
    github_person,
    google_person,
    login,
    refused,
    verified_account,
)
from tests.people import person
from tests.web.test_account_pages import submit

NEW_PASSWORD = "the inbox holder's own passphrase"
UNCONFIRMED = "did not confirm that this address is yours"


async def count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def newest_mail(session: AsyncSession, to: str) -> OutboundEmail:
    mail = await session.scalar(
        select(OutboundEmail)
        .where(OutboundEmail.to_address == to)
        .order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())
    )
    assert mail is not None
    return mail


UNVERIFIED_PEOPLE = {
    "github": github_person("grace@contoso.example", verified=False),
    "google": google_person("grace@contoso.example", verified=False),
    # Microsoft's 'common' tenant: an email claim nobody vouches for.
    "microsoft": {"sub": "ms-7", "email": "grace@contoso.example", "name": "Grace"},
}


async def test_an_unconfirmed_provider_address_makes_no_account(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession
) -> None:
    for provider, claims in UNVERIFIED_PEOPLE.items():
        web.cookies.clear()
        response = await login(web, fake, provider, claims)
        refused(response, 403, "oauth_email_unverified")
        assert UNCONFIRMED in response.text, provider
        assert "Sign up with a password" in response.text
        assert "from your account page" in response.text
    assert (await count(session, User), await count(session, OAuthIdentity)) == (0, 0)


async def test_an_unconfirmed_provider_address_answers_the_same_when_an_account_has_it(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession
) -> None:
    await verified_account(web, session, "grace@contoso.example")
    web.cookies.clear()
    for provider, claims in UNVERIFIED_PEOPLE.items():
        refused(await login(web, fake, provider, claims), 403, "oauth_email_unverified")
    assert (await count(session, User), await count(session, OAuthIdentity)) == (1, 0)


async def test_a_confirmed_microsoft_address_still_signs_up(
    web: httpx2.AsyncClient, fake: FakeProviders
) -> None:
    person = {**UNVERIFIED_PEOPLE["microsoft"], "email_verified": True}
    done = await login(web, fake, "microsoft", person)
    assert done.status_code == 303, done.text
    me = (await web.get("/api/v1/me")).json()
    assert (me["email"], me["email_verified"]) == ("grace@contoso.example", True)


async def squat_and_link(web: httpx2.AsyncClient, fake: FakeProviders) -> str:
    """Someone signs up with the victim's address (never confirmed) and links their GitHub."""
    await sign_up(web, "victim@example.org", name="Squatter")
    token = await sign_in(web, "victim@example.org")
    web.cookies.set("hackops_session", token)
    linked = await login(
        web, fake, "github", github_person("squatter@evil.example", user_id=666), action="link"
    )
    assert linked.status_code == 303, linked.text
    flashed = await web.get("/")
    assert "Your email address is not confirmed yet" in flashed.text
    web.cookies.clear()
    return token


async def test_a_reset_removes_identities_linked_while_the_address_was_unproven(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession
) -> None:
    await squat_and_link(web, fake)
    await reset_password(web, session, "victim@example.org", NEW_PASSWORD)
    victim = await sign_in(web, "victim@example.org", NEW_PASSWORD)
    assert (await web.get("/api/v1/me/identities", headers=bearer(victim))).json() == []
    mail = await newest_mail(session, "victim@example.org")
    assert mail.subject == "We removed a sign-in method from your HackOps account"
    assert "GitHub" in mail.body_text
    assert "before this address was confirmed" in mail.body_text
    # The squatter's GitHub no longer opens the victim's account.
    web.cookies.clear()
    again = await login(web, fake, "github", github_person("squatter@evil.example", user_id=666))
    assert again.status_code == 303, again.text
    me = (await web.get("/api/v1/me")).json()
    assert me["email"] == "squatter@evil.example"


async def test_a_sign_in_link_removes_them_and_ends_the_other_sessions(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession
) -> None:
    # An account a provider made from an address it did not vouch for (before this rule),
    # with a session of whoever used that provider account.
    user, raw = await person(session, email="lee@example.org", name="Lee")
    session.add(
        OAuthIdentity(
            user_id=user.id, provider="microsoft", subject="ms-9", linked_while_unproven=True
        )
    )
    await session.flush()
    asked = await submit(web, "/login", "/sign-in-link", email="lee@example.org")
    assert asked.status_code == 303, asked.text
    token = await last_link(session, "lee@example.org", "/sign-in-link")
    signed = await submit(web, "/sign-in-link", "/sign-in-link/confirm", token=token)
    assert signed.status_code == 303, signed.text
    me = (await web.get("/api/v1/me")).json()
    assert (me["email"], me["email_verified"]) == ("lee@example.org", True)
    assert await count(session, OAuthIdentity) == 0
    assert (await web.get("/api/v1/me", headers=bearer(raw))).status_code == 401
    mail = await newest_mail(session, "lee@example.org")
    assert mail.subject == "We removed a sign-in method from your HackOps account"
    assert "Microsoft" in mail.body_text


async def test_identities_linked_after_the_address_was_confirmed_stay(
    web: httpx2.AsyncClient, fake: FakeProviders, session: AsyncSession
) -> None:
    await verified_account(web, session, "ada@example.com")
    web.cookies.set("hackops_session", await sign_in(web, "ada@example.com"))
    linked = await login(web, fake, "github", github_person("ada-gh@example.org"), action="link")
    assert linked.status_code == 303
    web.cookies.clear()
    await reset_password(web, session, "ada@example.com", NEW_PASSWORD)
    assert await count(session, OAuthIdentity) == 1
    assert (await newest_mail(session, "ada@example.com")).subject != (
        "We removed a sign-in method from your HackOps account"
    )
