"""Organization pages through HTTP: my organizations, create, members and roles, invitations,
settings, the audit log, and accepting an invitation."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx2
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.accounts.deps import SESSION_COOKIE
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.db import db_now
from hackops.models import Invitation, Membership, Organization, OrgRole, User
from tests.accounts.helpers import last_link, sign_up, verified_user
from tests.helpers import count_queries
from tests.web.test_account_pages import (
    alert_of,
    follow,
    log_in,
    submit,
    text_of,
    use_session,
    user_by_email,
)


async def make_org(
    client: httpx2.AsyncClient, slug: str = "acme", name: str = "ACME Hack Club"
) -> httpx2.Response:
    response = await submit(client, "/orgs/new", name=name, slug=slug)
    assert response.status_code == 303, response.text
    return response


async def another_user(
    client: httpx2.AsyncClient, session: AsyncSession, email: str, *, verified: bool = True
) -> str:
    """Create a user through the API while the browser stays signed in; their session token
    ("" when left unconfirmed)."""
    saved = client.cookies.get(SESSION_COOKIE)
    client.cookies.delete(SESSION_COOKIE)
    try:
        if verified:
            return await verified_user(client, session, email)
        await sign_up(client, email)
        return ""
    finally:
        if saved:
            use_session(client, saved)


async def as_tenant(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Make the test's session see and write the organization's rows (requests in between reset
    the tenant of the shared transaction, so set_tenant's cache cannot be trusted here)."""
    await session.execute(text("SELECT set_config('hackops.org_id', :v, true)"), {"v": str(org_id)})


async def add_member(
    session: AsyncSession, slug: str, email: str, role: OrgRole = OrgRole.MEMBER
) -> None:
    org = await session.scalar(select(Organization).where(Organization.slug == slug))
    assert org is not None
    user = await user_by_email(session, email)
    await as_tenant(session, org.id)
    session.add(Membership(org_id=org.id, user_id=user.id, role=role.value))
    await session.flush()


@pytest.fixture
async def owner(client: httpx2.AsyncClient, session: AsyncSession) -> str:
    """Signed in (by cookie) as the owner of `acme`; returns the owner's session token."""
    token = await verified_user(client, session, "owner@example.org")
    use_session(client, token)
    await make_org(client)
    return token


# --- my organizations and creating one -------------------------------------------------------


async def test_create_organization_makes_me_its_owner(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    use_session(client, await verified_user(client, session, "founder@example.org"))
    assert "You are not in any organization yet." in (await client.get("/orgs")).text
    response = await submit(client, "/orgs/new", name="  Robo League ", slug="Robo-League")
    assert response.status_code == 303
    assert response.headers["location"] == "/orgs/robo-league"
    page = await follow(client, response)
    assert "Robo League is created; you are its owner." in page.text
    assert "<h1>Robo League</h1>" in page.text
    listing = await client.get("/orgs")
    assert 'href="/orgs/robo-league">Robo League</a>' in listing.text
    assert '<span class="badge">owner</span>' in listing.text


@pytest.mark.parametrize("slug", ["-bad-", "", "a" * 64, "a b"])
async def test_create_organization_refuses_a_bad_address(
    client: httpx2.AsyncClient, session: AsyncSession, slug: str
) -> None:
    use_session(client, await verified_user(client, session, "slugs@example.org"))
    response = await submit(client, "/orgs/new", name="Kept", slug=slug)
    assert response.status_code == 422
    error = re.search(r'id="org-slug-error">([^<]+)<', response.text)
    assert error
    assert error.group(1).startswith("Lowercase letters, digits and hyphens, 1 to 63 characters")
    assert 'value="Kept"' in response.text


async def test_create_organization_with_a_taken_address_is_a_conflict(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    response = await submit(client, "/orgs/new", name="Again", slug="acme")
    assert response.status_code == 409
    assert (
        'id="org-slug-error">That address is already used by another organization.' in response.text
    )


async def test_create_organization_needs_a_confirmed_address(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await sign_up(client, "unconfirmed@example.org")
    await log_in(client, "unconfirmed@example.org")
    response = await submit(client, "/orgs/new", name="Nope", slug="nope")
    assert response.status_code == 403
    assert alert_of(response) == "Confirm your email address first."
    assert 'href="/account">Send a new confirmation link' in response.text


# --- the organization page -------------------------------------------------------------------


async def test_owner_sees_members_and_admin_controls(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    await another_user(client, session, "member@example.org")
    await add_member(session, "acme", "member@example.org")
    page = await client.get("/orgs/acme")
    assert page.status_code == 200
    assert "owner@example.org" in page.text
    assert "member@example.org" in page.text
    assert 'action="/orgs/acme/invitations"' in page.text
    member = await user_by_email(session, "member@example.org")
    assert f'action="/orgs/acme/members/{member.id}/role"' in page.text
    assert f'action="/orgs/acme/members/{member.id}/remove"' in page.text
    assert '<option value="owner"' in page.text  # owners may hand over ownership
    assert 'href="/orgs/acme/settings"' in page.text
    assert 'href="/orgs/acme/audit"' in page.text


async def test_member_sees_the_members_but_no_admin_controls(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    token = await another_user(client, session, "plain@example.org")
    await add_member(session, "acme", "plain@example.org")
    use_session(client, token)
    page = await client.get("/orgs/acme")
    assert page.status_code == 200
    assert "owner@example.org" in page.text
    assert "/invitations" not in page.text
    assert "/role" not in page.text
    assert "/remove" not in page.text
    assert 'action="/orgs/acme/leave"' in page.text
    assert "/settings" not in page.text
    assert "/audit" not in page.text
    assert (await client.get("/orgs/acme/settings")).status_code == 403
    assert (await client.get("/orgs/acme/audit")).status_code == 403
    refused = await submit(client, "/orgs/acme", "/orgs/acme/invitations", email="x@example.org")
    assert refused.status_code == 403


async def test_outsiders_get_a_404(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    use_session(client, await another_user(client, session, "outsider@example.org"))
    for path in ("/orgs/acme/settings", "/orgs/acme/audit", "/orgs/nothing"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "No such organization." in response.text
    # The organization's own address, which every "organization" link points at, sends an
    # outsider to its public page (tests/events/test_showcase.py).
    response = await client.get("/orgs/acme")
    assert (response.status_code, response.headers["location"]) == (303, "/orgs/acme/public")


async def test_invite_sends_mail_lists_and_revokes(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    response = await submit(
        client, "/orgs/acme", "/orgs/acme/invitations", email="New@Example.org", role="organizer"
    )
    assert response.status_code == 303
    page = await follow(client, response)
    assert "Invitation sent to new@example.org as organizer." in page.text
    assert "<strong>new@example.org</strong> as organizer" in page.text
    assert await last_link(session, "new@example.org", "/invitations/accept")
    invitation = await session.scalar(
        select(Invitation).where(Invitation.email == "new@example.org")
    )
    assert invitation is not None
    revoked = await submit(client, "/orgs/acme", f"/orgs/acme/invitations/{invitation.id}/revoke")
    assert revoked.status_code == 303
    assert "No pending invitations." in (await follow(client, revoked)).text


async def test_invite_refusals_come_back_on_the_form(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    bad = await submit(client, "/orgs/acme", "/orgs/acme/invitations", email="nope", role="member")
    assert bad.status_code == 422
    assert 'id="invite-email-error">That is not a valid email address.' in bad.text
    assert 'value="nope"' in bad.text
    member = await submit(
        client, "/orgs/acme", "/orgs/acme/invitations", email="owner@example.org", role="member"
    )
    assert member.status_code == 409
    assert 'id="invite-email-error">That person is already a member.' in member.text
    role = await submit(
        client, "/orgs/acme", "/orgs/acme/invitations", email="r@example.org", role="king"
    )
    assert role.status_code == 422
    assert 'id="invite-role-error">Choose one of the roles.' in role.text


async def test_admin_cannot_invite_an_owner(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    token = await another_user(client, session, "admin@example.org")
    await add_member(session, "acme", "admin@example.org", OrgRole.ADMIN)
    use_session(client, token)
    page = await client.get("/orgs/acme")
    assert '<option value="owner"' not in page.text
    response = await submit(
        client, "/orgs/acme", "/orgs/acme/invitations", email="boss@example.org", role="owner"
    )
    assert response.status_code == 403
    assert "Your role in this organization does not allow this." in text_of(response)


async def test_change_role_and_the_last_owner_guard(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    await another_user(client, session, "promoted@example.org")
    await add_member(session, "acme", "promoted@example.org")
    promoted = await user_by_email(session, "promoted@example.org")
    response = await submit(
        client, "/orgs/acme", f"/orgs/acme/members/{promoted.id}/role", role="organizer"
    )
    assert response.status_code == 303
    assert "The role is now organizer." in (await follow(client, response)).text
    membership = await session.scalar(select(Membership).where(Membership.user_id == promoted.id))
    assert membership is not None
    await session.refresh(membership)
    assert membership.role == "organizer"
    me = await user_by_email(session, "owner@example.org")
    last = await submit(client, "/orgs/acme", f"/orgs/acme/members/{me.id}/role", role="admin")
    assert last.status_code == 409
    assert alert_of(last) == (
        "An organization needs at least one owner; make someone else owner first."
    )
    bad = await submit(client, "/orgs/acme", f"/orgs/acme/members/{promoted.id}/role", role="x")
    assert bad.status_code == 422


async def test_remove_a_member_and_leave(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    await another_user(client, session, "removed@example.org")
    await add_member(session, "acme", "removed@example.org")
    removed = await user_by_email(session, "removed@example.org")
    response = await submit(client, "/orgs/acme", f"/orgs/acme/members/{removed.id}/remove")
    assert response.status_code == 303
    page = await follow(client, response)
    assert "The member is removed." in page.text
    assert "removed@example.org" not in page.text
    last_owner = await submit(client, "/orgs/acme", "/orgs/acme/leave")
    assert last_owner.status_code == 409
    assert "at least one owner" in alert_of(last_owner)


async def test_a_member_can_leave(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    token = await another_user(client, session, "leaver@example.org")
    await add_member(session, "acme", "leaver@example.org")
    use_session(client, token)
    response = await submit(client, "/orgs/acme", "/orgs/acme/leave")
    assert response.status_code == 303
    assert response.headers["location"] == "/orgs"
    assert "You left ACME Hack Club." in (await follow(client, response)).text
    assert (await client.get("/orgs/acme/settings")).status_code == 404
    assert (await client.get("/orgs/acme")).headers["location"] == "/orgs/acme/public"


@pytest.mark.parametrize("members", [1, 20])
async def test_organization_page_costs_the_same_for_1_or_20_members(
    client: httpx2.AsyncClient,
    session: AsyncSession,
    connection: AsyncConnection,
    owner: str,
    members: int,
) -> None:
    for n in range(members):
        email = f"m{n}@example.org"
        session.add(User(email=email, name=f"Member {n}"))
        await session.flush()
        await add_member(session, "acme", email)
        await submit(client, "/orgs/acme", "/orgs/acme/invitations", email=f"i{n}@example.org")
    with count_queries(connection) as queries:
        page = await client.get("/orgs/acme")
    assert page.status_code == 200
    assert page.text.count("@example.org</td>") == members + 1
    # the request gate (session token, actor, the unread badge, organization, tenant, my role);
    # members; invitations
    assert queries.count == 3


# --- settings --------------------------------------------------------------------------------


async def test_settings_save_name_and_branding(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    page = await client.get("/orgs/acme/settings")
    assert page.status_code == 200
    assert 'value="ACME Hack Club"' in page.text
    response = await submit(
        client,
        "/orgs/acme/settings",
        name="ACME Hackers",
        logo_url="https://example.org/logo.png",
        primary_color="#1F4FD1",
        accent_color="",
    )
    assert response.status_code == 303
    saved = await follow(client, response)
    assert "The settings are saved." in saved.text
    assert 'fill="#1F4FD1"' in saved.text
    org = await session.scalar(select(Organization).where(Organization.slug == "acme"))
    assert org is not None
    await session.refresh(org)
    assert org.name == "ACME Hackers"
    assert org.branding == {"logo_url": "https://example.org/logo.png", "primary_color": "#1F4FD1"}


async def test_settings_refuse_bad_branding(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    response = await submit(
        client,
        "/orgs/acme/settings",
        name="",
        logo_url="http://insecure.example/logo.png",
        primary_color="blue",
    )
    assert response.status_code == 422
    assert 'id="settings-logo_url-error">A full https:// address' in response.text
    assert 'id="settings-primary_color-error">A colour as #' in response.text
    assert 'id="settings-name-error">' in response.text
    assert 'value="blue"' in response.text


# --- the audit log ---------------------------------------------------------------------------


async def test_audit_log_lists_newest_first_and_filters(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    await submit(client, "/orgs/acme", "/orgs/acme/invitations", email="a@example.org")
    page = await client.get("/orgs/acme/audit")
    assert page.status_code == 200
    actions = re.findall(r"<td><code>([a-z_.]+)</code></td>", page.text)
    assert actions == ["invitation.created", "organization.created"]
    me = await user_by_email(session, "owner@example.org")
    assert f'<a href="?actor={me.id}">Owner</a>' in page.text
    filtered = await client.get("/orgs/acme/audit?action=organization.created")
    assert re.findall(r"<td><code>([a-z_.]+)</code></td>", filtered.text) == [
        "organization.created"
    ]
    by_type = await client.get("/orgs/acme/audit?resource_type=invitation&actor=" + str(me.id))
    assert re.findall(r"<td><code>([a-z_.]+)</code></td>", by_type.text) == ["invitation.created"]
    later = (await db_now(session)) + timedelta(days=1)
    future = await client.get(f"/orgs/acme/audit?since={later.strftime('%Y-%m-%dT%H:%M')}")
    assert "No entries match these filters." in future.text


async def test_audit_log_refuses_bad_filters(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    response = await client.get("/orgs/acme/audit?since=yesterday&actor=nobody")
    assert response.status_code == 422
    assert 'id="audit-since-error">A date and time like' in response.text
    assert 'id="audit-actor-error">Choose someone from the list.' in response.text
    cursor = await client.get("/orgs/acme/audit?cursor=not-a-cursor")
    assert cursor.status_code == 422
    assert "The pagination cursor is not valid" in alert_of(cursor)


async def test_audit_log_pages_with_the_older_link(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    org = await session.scalar(select(Organization).where(Organization.slug == "acme"))
    assert org is not None
    await as_tenant(session, org.id)
    for n in range(55):
        await record(
            session,
            Actor(user=None),
            "organization.updated",
            resource_type="organization",
            resource_id=org.id,
            org_id=org.id,
            details={"n": n},
        )
    first = await client.get("/orgs/acme/audit?action=organization.updated")
    assert first.text.count("<td><code>organization.updated</code></td>") == 50
    older = re.search(r'<a href="(\?[^"]+)" rel="next">Older entries</a>', first.text)
    assert older
    assert "action=organization.updated" in older.group(1)
    second = await client.get("/orgs/acme/audit" + older.group(1).replace("&amp;", "&"))
    assert second.text.count("<td><code>organization.updated</code></td>") == 5
    assert "Older entries" not in second.text
    assert "Newest entries" in second.text


# --- accepting an invitation -----------------------------------------------------------------


async def _invite(client: httpx2.AsyncClient, session: AsyncSession, email: str) -> str:
    response = await submit(client, "/orgs/acme", "/orgs/acme/invitations", email=email)
    assert response.status_code == 303
    return await last_link(session, email, "/invitations/accept")


async def test_signed_out_visitors_are_sent_to_log_in_and_back(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    token = await _invite(client, session, "guest@example.org")
    client.cookies.clear()
    page = await client.get(f"/invitations/accept?org=acme&token={token}")
    assert page.status_code == 200
    # Who invited, to what and as what: holding the link proves the address.
    assert (
        "Owner invited you to join <strong>ACME Hack Club</strong> on HackOps as member."
    ) in page.text
    back = f"%2Finvitations%2Faccept%3Forg%3Dacme%26token%3D{token}"
    assert f'href="/login?next={back}"' in page.text
    assert f'href="/signup?next={back}"' in page.text
    assert "Accept the invitation" not in page.text
    # A made-up token names nothing, not even the organization.
    forged = await client.get(f"/invitations/accept?org=acme&token={'x' * 43}")
    assert "does not exist, was revoked, or has expired" in forged.text
    assert "ACME Hack Club" not in forged.text


async def test_accepting_an_invitation_joins_the_organization(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    token = await _invite(client, session, "joiner@example.org")
    client.cookies.clear()
    await sign_up(client, "joiner@example.org")
    await log_in(client, "joiner@example.org")
    url = f"/invitations/accept?org=acme&token={token}"
    page = await client.get(url)
    assert "Owner invited you to join <strong>ACME Hack Club</strong> as member." in page.text
    assert "You are signed in as <strong>joiner@example.org</strong>." in page.text
    response = await submit(client, url, "/invitations/accept", org="acme", token=token)
    assert response.status_code == 303
    assert response.headers["location"] == "/orgs/acme"
    joined = await follow(client, response)
    assert "Welcome to ACME Hack Club! You joined as member." in joined.text
    user = await user_by_email(session, "joiner@example.org")
    assert user.email_verified  # the invitation link reached this inbox
    again = await submit(client, url, "/invitations/accept", org="acme", token=token)
    assert again.status_code == 404
    assert "does not exist, was revoked, or has expired" in alert_of(again)


async def test_an_invitation_for_another_address_is_refused(
    client: httpx2.AsyncClient, session: AsyncSession, owner: str
) -> None:
    token = await _invite(client, session, "intended@example.org")
    use_session(client, await another_user(client, session, "other@example.org"))
    url = f"/invitations/accept?org=acme&token={token}"
    response = await submit(client, url, "/invitations/accept", org="acme", token=token)
    assert response.status_code == 403
    assert "sent to another email address" in alert_of(response)
    org = await session.scalar(select(Organization).where(Organization.slug == "acme"))
    assert org is not None
    await as_tenant(session, org.id)
    roles = await session.scalars(select(Membership.role).where(Membership.org_id == org.id))
    assert list(roles) == ["owner"]


async def test_incomplete_or_unknown_invitation_links(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    incomplete = await client.get("/invitations/accept?org=acme")
    assert incomplete.status_code == 400
    assert "This invitation link is incomplete" in incomplete.text
    unknown = await client.get(f"/invitations/accept?org=ghost&token={uuid.uuid4().hex}")
    assert unknown.status_code == 200
    assert "does not exist, was revoked, or has expired" in unknown.text


async def test_accepting_while_signed_out_goes_to_log_in(client: httpx2.AsyncClient) -> None:
    response = await submit(client, "/login", "/invitations/accept", org="acme", token="abc")
    assert response.status_code == 303
    assert response.headers["location"] == (
        "/login?next=%2Finvitations%2Faccept%3Forg%3Dacme%26token%3Dabc"
    )
