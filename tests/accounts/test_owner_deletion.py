"""Owners deleting their account: with two owners either can go (row-level security used to hide
the other owner's membership from the count, so both got `last_owner`); the last owner cannot."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts.helpers import PASSWORD, bearer, verified_user
from tests.orgs.test_members import create_org, invite_and_join


async def test_either_of_two_owners_can_delete_their_account_but_not_the_last(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    first = await verified_user(client, session, "first-owner@twin.example.com")
    await create_org(client, first, "twin")
    second = await invite_and_join(
        client, session, first, "twin", "second-owner@twin.example.com", "owner"
    )
    members = (await client.get("/api/v1/organizations/twin/members", headers=bearer(first))).json()
    assert sorted(m["role"] for m in members) == ["owner", "owner"]

    gone = await client.post(
        "/api/v1/me/delete", headers=bearer(second), json={"password": PASSWORD}
    )
    assert gone.status_code == 204, gone.text

    last = await client.post(
        "/api/v1/me/delete", headers=bearer(first), json={"password": PASSWORD}
    )
    assert last.status_code == 409, last.text
    assert last.json()["error"]["code"] == "last_owner"
    left = (await client.get("/api/v1/organizations/twin/members", headers=bearer(first))).json()
    assert [m["role"] for m in left] == ["owner"]
