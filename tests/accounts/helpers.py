"""Account helpers for tests: sign up through the API, read the dev mailbox, sign in."""

from __future__ import annotations

import re

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import OutboundEmail, User

PASSWORD = "correct horse battery staple"


async def sign_up(
    client: httpx2.AsyncClient, email: str, password: str = PASSWORD, name: str = "Ada"
) -> dict[str, object]:
    """Register (202: the same answer for a taken address, see test_registration_enumeration);
    returns the answer: `email` and `message`."""
    response = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "name": name}
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


async def user_id(session: AsyncSession, email: str) -> str:
    """The id of the account using this (normalized) address."""
    found = await session.scalar(select(User.id).where(User.email == email))
    assert found is not None, email
    return str(found)


async def sign_in(client: httpx2.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def last_link(session: AsyncSession, to: str, path: str) -> str:
    """The token in the newest mail to `to` that links to `path`."""
    bodies = await session.scalars(
        select(OutboundEmail.body_text)
        .where(OutboundEmail.to_address == to)
        .order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())
    )
    for body in bodies:
        match = re.search(rf"{re.escape(path)}\?(?:\S*&)?token=([A-Za-z0-9_\-]+)", body or "")
        if match:
            return match.group(1)
    raise AssertionError(f"no mail to {to} with a {path} link")


async def verified_user(client: httpx2.AsyncClient, session: AsyncSession, email: str) -> str:
    """Sign up, confirm the address through the mailed link, sign in; returns a bearer token."""
    await sign_up(client, email, name=email.split("@")[0].title())
    token = await last_link(session, email, "/verify-email")
    confirmed = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    return await sign_in(client, email)


async def reset_password(
    client: httpx2.AsyncClient, session: AsyncSession, email: str, new_password: str
) -> None:
    """The inbox holder resets the password through the mailed link (which proves the address)."""
    await client.post("/api/v1/auth/password-reset", json={"email": email})
    token = await last_link(session, email, "/reset-password")
    done = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
    )
    assert done.status_code == 200, done.text
