from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts.helpers import bearer, last_link, sign_in, sign_up, verified_user


async def create_org(client: httpx2.AsyncClient, token: str, slug: str) -> dict[str, object]:
    response = await client.post(
        "/api/v1/organizations", headers=bearer(token), json={"slug": slug, "name": slug.title()}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def invite_and_join(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str, slug: str, email: str, role: str
) -> str:
    invited = await client.post(
        f"/api/v1/organizations/{slug}/invitations",
        headers=bearer(owner),
        json={"email": email, "role": role},
    )
    assert invited.status_code == 201, invited.text
    member = await verified_user(client, session, email)
    token = await last_link(session, email, "/invitations/accept")
    accepted = await client.post(
        "/api/v1/invitations/accept", headers=bearer(member), json={"org": slug, "token": token}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["role"] == role
    return member


async def test_create_organization_makes_the_creator_owner(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    owner = await verified_user(client, session, "owner@example.com")
    created = await create_org(client, owner, "acme")
    assert created["my_role"] == "owner"
    assert created["plan"] == "free"
    mine = await client.get("/api/v1/me/organizations", headers=bearer(owner))
    assert [(m["organization"]["slug"], m["role"]) for m in mine.json()] == [("acme", "owner")]
    taken = await client.post(
        "/api/v1/organizations", headers=bearer(owner), json={"slug": "acme", "name": "Again"}
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "slug_taken"


async def test_unverified_users_cannot_create_organizations(client: httpx2.AsyncClient) -> None:
    await sign_up(client, "new@example.com")
    token = await sign_in(client, "new@example.com")
    response = await client.post(
        "/api/v1/organizations", headers=bearer(token), json={"slug": "x-org", "name": "X"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "email_not_verified"


async def test_slug_is_validated(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    owner = await verified_user(client, session, "owner@example.com")
    for slug in ("Upper", "-dash", "a b", "x" * 64, ""):
        response = await client.post(
            "/api/v1/organizations", headers=bearer(owner), json={"slug": slug, "name": "N"}
        )
        assert response.status_code == 422, slug


async def test_invite_accept_roles_and_last_owner(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    owner = await verified_user(client, session, "owner@example.com")
    await create_org(client, owner, "acme")
    admin = await invite_and_join(client, session, owner, "acme", "admin@example.com", "admin")
    member = await invite_and_join(client, session, owner, "acme", "mem@example.com", "member")
    members = (
        await client.get("/api/v1/organizations/acme/members", headers=bearer(member))
    ).json()
    assert [(m["email"], m["role"]) for m in members] == [
        ("owner@example.com", "owner"),
        ("admin@example.com", "admin"),
        ("mem@example.com", "member"),
    ]
    ids = {m["email"]: m["user_id"] for m in members}

    # A member cannot invite; an admin cannot make owners nor touch the owner.
    denied = await client.post(
        "/api/v1/organizations/acme/invitations",
        headers=bearer(member),
        json={"email": "x@example.com"},
    )
    assert denied.status_code == 403
    grant_owner = await client.patch(
        f"/api/v1/organizations/acme/members/{ids['mem@example.com']}",
        headers=bearer(admin),
        json={"role": "owner"},
    )
    assert grant_owner.status_code == 403
    demote_owner = await client.patch(
        f"/api/v1/organizations/acme/members/{ids['owner@example.com']}",
        headers=bearer(admin),
        json={"role": "member"},
    )
    assert demote_owner.status_code == 403
    promote = await client.patch(
        f"/api/v1/organizations/acme/members/{ids['mem@example.com']}",
        headers=bearer(admin),
        json={"role": "organizer"},
    )
    assert promote.status_code == 200
    assert promote.json()["role"] == "organizer"

    # The last owner can neither leave nor be demoted.
    leave = await client.delete(
        f"/api/v1/organizations/acme/members/{ids['owner@example.com']}", headers=bearer(owner)
    )
    assert leave.status_code == 409
    assert leave.json()["error"]["code"] == "last_owner"
    self_demote = await client.patch(
        f"/api/v1/organizations/acme/members/{ids['owner@example.com']}",
        headers=bearer(owner),
        json={"role": "admin"},
    )
    assert self_demote.status_code == 409

    # Members can leave; admins remove others.
    assert (
        await client.delete(
            f"/api/v1/organizations/acme/members/{ids['mem@example.com']}", headers=bearer(member)
        )
    ).status_code == 204
    assert (
        await client.get("/api/v1/organizations/acme/members", headers=bearer(member))
    ).status_code == 404


async def test_invitation_is_single_use_and_bound_to_the_address(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    owner = await verified_user(client, session, "owner@example.com")
    await create_org(client, owner, "acme")
    await client.post(
        "/api/v1/organizations/acme/invitations",
        headers=bearer(owner),
        json={"email": "Invitee@Example.com", "role": "member"},
    )
    token = await last_link(session, "invitee@example.com", "/invitations/accept")
    stranger = await verified_user(client, session, "stranger@example.com")
    wrong = await client.post(
        "/api/v1/invitations/accept", headers=bearer(stranger), json={"org": "acme", "token": token}
    )
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "invitation_email_mismatch"
    invitee = await verified_user(client, session, "invitee@example.com")
    ok = await client.post(
        "/api/v1/invitations/accept", headers=bearer(invitee), json={"org": "acme", "token": token}
    )
    assert ok.status_code == 200
    again = await client.post(
        "/api/v1/invitations/accept", headers=bearer(invitee), json={"org": "acme", "token": token}
    )
    assert again.status_code == 404


async def test_audit_log_lists_and_filters_and_pages(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    owner = await verified_user(client, session, "owner@example.com")
    await create_org(client, owner, "acme")
    await invite_and_join(client, session, owner, "acme", "a@example.com", "member")
    await invite_and_join(client, session, owner, "acme", "b@example.com", "organizer")
    page = (
        await client.get("/api/v1/organizations/acme/audit?limit=2", headers=bearer(owner))
    ).json()
    assert [e["action"] for e in page["items"]] == ["invitation.accepted", "invitation.created"]
    rest = (
        await client.get(
            f"/api/v1/organizations/acme/audit?limit=50&cursor={page['next_cursor']}",
            headers=bearer(owner),
        )
    ).json()
    assert [e["action"] for e in rest["items"]] == [
        "invitation.accepted",
        "invitation.created",
        "organization.created",
    ]
    assert rest["next_cursor"] is None
    only = (
        await client.get(
            "/api/v1/organizations/acme/audit?action=invitation.created", headers=bearer(owner)
        )
    ).json()
    assert {e["details"]["email"] for e in only["items"]} == {"a@example.com", "b@example.com"}
    bad = await client.get("/api/v1/organizations/acme/audit?cursor=zzz", headers=bearer(owner))
    assert bad.status_code == 422
    member_a = await sign_in(client, "a@example.com")
    assert (
        await client.get("/api/v1/organizations/acme/audit", headers=bearer(member_a))
    ).status_code == 403
