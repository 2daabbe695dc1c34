"""Registering never tells whether an address is taken: the answer for a taken one is the answer
for a fresh one (202 "check your mail", same body), its owner is mailed instead, and the account
is left as it was. The page says the same both ways."""

from __future__ import annotations

import httpx2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import OutboundEmail, User
from tests.accounts.helpers import PASSWORD, sign_in
from tests.web.test_account_pages import follow, submit, text_of

REGISTER = "/api/v1/auth/register"
OTHER_PASSWORD = "someone else's long passphrase"


async def mails_to(session: AsyncSession, to: str) -> list[OutboundEmail]:
    rows = await session.scalars(
        select(OutboundEmail)
        .where(OutboundEmail.to_address == to)
        .order_by(OutboundEmail.created_at, OutboundEmail.id)
    )
    return list(rows)


async def test_a_taken_address_gets_the_answer_of_a_fresh_one(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    fresh = await client.post(
        REGISTER, json={"email": "Ada@Example.com", "password": PASSWORD, "name": "Ada"}
    )
    taken = await client.post(
        REGISTER, json={"email": " ada@example.com", "password": OTHER_PASSWORD, "name": "Eve"}
    )
    for response in (fresh, taken):
        assert response.status_code == 202, response.text
    assert (
        fresh.json()
        == taken.json()
        == {
            "email": "ada@example.com",
            "message": (
                "Check your mail: we sent a message to ada@example.com. Open its link to confirm"
                " your address, then log in."
            ),
        }
    )
    assert set(fresh.headers) == set(taken.headers)
    assert await session.scalar(select(func.count()).select_from(User)) == 1
    user = await session.scalar(select(User))
    assert user is not None
    assert (user.name, user.email_verified_at) == ("Ada", None)
    # Nothing changed: the first password still works, the second does not.
    await sign_in(client, "ada@example.com", PASSWORD)
    wrong = await client.post(
        "/api/v1/auth/token", data={"username": "ada@example.com", "password": OTHER_PASSWORD}
    )
    assert wrong.status_code == 401
    confirm, attempt = await mails_to(session, "ada@example.com")
    assert confirm.subject == "Confirm your email address for HackOps"
    assert attempt.subject == "Someone tried to register with your address"
    assert "http://testserver/login" in attempt.body_text
    assert "http://testserver/reset-password" in attempt.body_text
    assert "If it was not you, ignore this message" in attempt.body_text


async def test_checks_come_before_the_lookup(client: httpx2.AsyncClient) -> None:
    """A weak password is refused the same way for a taken and a fresh address."""
    await client.post(REGISTER, json={"email": "ada@example.com", "password": PASSWORD})
    for email in ("ada@example.com", "new@example.com"):
        weak = await client.post(REGISTER, json={"email": email, "password": "password123"})
        assert (weak.status_code, weak.json()["error"]["code"]) == (422, "password_too_common")


async def test_mails_about_attempts_are_limited_per_address(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await client.post(REGISTER, json={"email": "ada@example.com", "password": PASSWORD})
    for _ in range(6):
        again = await client.post(
            REGISTER, json={"email": "ada@example.com", "password": OTHER_PASSWORD}
        )
        assert again.status_code == 202
    attempts = [
        m
        for m in await mails_to(session, "ada@example.com")
        if m.subject == "Someone tried to register with your address"
    ]
    assert len(attempts) == 3


async def test_the_sign_up_page_says_the_same_both_ways(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    pages = []
    for password in (PASSWORD, OTHER_PASSWORD):
        client.cookies.clear()
        posted = await submit(
            client, "/signup", email="ada@example.com", password=password, name="Ada"
        )
        assert posted.status_code == 303, posted.text
        pages.append(text_of(await follow(client, posted)))
    message = (
        "Check your mail: we sent a message to ada@example.com. Open its link to confirm your"
        " address, then log in."
    )
    assert message in pages[0]
    assert message in pages[1]
    assert await session.scalar(select(func.count()).select_from(User)) == 1
