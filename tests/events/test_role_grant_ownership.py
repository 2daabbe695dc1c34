"""Event roles by email go at once only to an account whose address is proven: an account that
never confirmed its address (anyone can sign up with someone else's) gets the mailed invitation
instead, and only the inbox holder can use it."""

from __future__ import annotations

import httpx2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import EventRoleGrant, EventRoleInvitation, OutboundEmail
from tests.accounts.helpers import (
    bearer,
    last_link,
    reset_password,
    sign_in,
    sign_up,
    verified_user,
)
from tests.teams.helpers import stage
from tests.web.test_account_pages import follow, submit, text_of
from tests.web.test_org_pages import as_tenant

ACCEPT = "/api/v1/events/invitations/accept"
LINK = "/events/invitations/accept"
NEW_PASSWORD = "the inbox holder's own passphrase"


async def grants(session: AsyncSession, org_id: object, event_id: object) -> int:
    await as_tenant(session, org_id)
    return int(
        await session.scalar(select(func.count()).where(EventRoleGrant.event_id == event_id)) or 0
    )


async def test_an_unverified_account_gets_an_invitation_not_the_role(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    # Someone signed up first with the judge's address, and never confirmed it.
    await sign_up(client, "judge@university.example", name="Not the judge")
    squatter = await sign_in(client, "judge@university.example")
    before = await grants(session, s.org.id, s.event.id)

    response = await client.post(
        f"{s.base}/roles",
        headers=s.auth("olga"),
        json={"email": "Judge@University.example", "role": "organizer"},
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["email"], body["role"], body["status"]) == (
        "judge@university.example",
        "organizer",
        "invited",
    )
    assert body["message"] == (
        "We mailed an invitation to judge@university.example. They become organizer once they"
        " open its link (valid 7 days)."
    )
    assert await grants(session, s.org.id, s.event.id) == before
    export = await client.get(f"{s.base}/registrations/export.csv", headers=bearer(squatter))
    assert export.status_code == 404
    token = await last_link(session, "judge@university.example", LINK)

    # The inbox holder opens the link: the account has a password they do not know.
    anonymous = await client.post(ACCEPT, json={"org": s.org.slug, "token": token})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "sign_in_required"
    assert "reset the password" in anonymous.json()["error"]["message"]
    # A reset proves the address (and ends the squatter's sessions); then the link works.
    await reset_password(client, session, "judge@university.example", NEW_PASSWORD)
    assert (await client.get("/api/v1/me", headers=bearer(squatter))).status_code == 401
    holder = await sign_in(client, "judge@university.example", NEW_PASSWORD)
    accepted = await client.post(
        ACCEPT, headers=bearer(holder), json={"org": s.org.slug, "token": token}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["role"] == "organizer"
    assert await grants(session, s.org.id, s.event.id) == before + 1


async def test_a_verified_account_is_granted_at_once(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    await verified_user(client, session, "ruth@university.example")
    response = await client.post(
        f"{s.base}/roles",
        headers=s.auth("olga"),
        json={"email": "ruth@university.example", "role": "judge"},
    )
    assert response.status_code == 201, response.text
    await as_tenant(session, s.org.id)
    assert await session.scalar(select(func.count()).select_from(EventRoleInvitation)) == 0
    notice = await session.scalar(
        select(OutboundEmail.subject)
        .where(OutboundEmail.to_address == "ruth@university.example")
        .order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())
    )
    assert notice == f"You are now a judge of {s.event.name}"


async def test_the_roles_page_says_an_invitation_was_mailed(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    await sign_up(client, "mentor@university.example")  # unconfirmed
    client.cookies.set("hackops_session", s.tokens["olga"])
    page = f"/orgs/{s.org.slug}/events/{s.event.slug}/admin/roles"
    sent = await submit(client, page, email="mentor@university.example", role="mentor")
    landing = text_of(await follow(client, sent))
    assert (
        "We mailed an invitation to mentor@university.example. They become mentor once they"
        " open its link (valid 7 days)."
    ) in landing
    assert await grants(session, s.org.id, s.event.id) == 0
