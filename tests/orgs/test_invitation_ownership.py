"""Organization invitations give nothing to an address its holder has not proven: inviting the
address of an account that never confirmed it grants no membership; only the holder of the mailed
link, signed in with that address (here after a password reset, which proves it), joins."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts.helpers import (
    bearer,
    last_link,
    reset_password,
    sign_in,
    sign_up,
    verified_user,
)
from tests.orgs.test_members import create_org

NEW_PASSWORD = "the inbox holder's own passphrase"


async def test_an_unconfirmed_account_is_not_made_a_member_by_an_invitation(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    owner = await verified_user(client, session, "owner@example.com")
    await create_org(client, owner, "acme")
    await sign_up(client, "cfo@acme.example", name="Squatter")
    squatter = await sign_in(client, "cfo@acme.example")
    invited = await client.post(
        "/api/v1/organizations/acme/invitations",
        headers=bearer(owner),
        json={"email": "cfo@acme.example", "role": "admin"},
    )
    assert invited.status_code == 201, invited.text
    assert (
        await client.get("/api/v1/organizations/acme/members", headers=bearer(squatter))
    ).status_code == 404
    token = await last_link(session, "cfo@acme.example", "/invitations/accept")
    # The inbox holder proves the address with a reset (the squatter's sessions end), then joins.
    await reset_password(client, session, "cfo@acme.example", NEW_PASSWORD)
    assert (await client.get("/api/v1/me", headers=bearer(squatter))).status_code == 401
    holder = await sign_in(client, "cfo@acme.example", NEW_PASSWORD)
    accepted = await client.post(
        "/api/v1/invitations/accept", headers=bearer(holder), json={"org": "acme", "token": token}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["role"] == "admin"
