"""Event roles by email through the API: an address without an account is invited (mail with a
one-time link, only its hash stored), the link signs its owner in (account created, verified, no
password) and grants the role; pending invitations are listed, resent and revoked; every way a
link can be unusable is refused with its own code; accounts get the role at once and a notice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.accounts.credentials import digest
from hackops.models import EventRoleGrant, EventRoleInvitation, OutboundEmail, User
from tests.accounts.helpers import bearer, last_link, sign_in, sign_up, verified_user
from tests.factories import create_event
from tests.helpers import count_queries, frozen_time
from tests.people import person
from tests.security.audit import AUDITED, Recorder
from tests.teams.helpers import Stage, stage
from tests.web.test_org_pages import as_tenant

ACCEPT = "/api/v1/events/invitations/accept"
LINK = "/events/invitations/accept"
#: The request gate (the token and the actor's context, organization and tenant, event,
#: membership, event roles, registration: `hackops.gate`), the clock, the list.
QUERIES_TO_LIST = 3


def code(response: httpx2.Response) -> str:
    return str(response.json()["error"]["code"])


async def invite(
    client: httpx2.AsyncClient, s: Stage, email: str, role: str = "judge"
) -> dict[str, object]:
    response = await client.post(
        f"{s.base}/roles", headers=s.auth("olga"), json={"email": email, "role": role}
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


async def invitation_row(session: AsyncSession, s: Stage, ident: object) -> EventRoleInvitation:
    await as_tenant(session, s.org.id)
    row = await session.scalar(
        select(EventRoleInvitation)
        .where(EventRoleInvitation.id == uuid.UUID(str(ident)))
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def test_an_unknown_address_is_invited_and_the_link_signs_in_and_grants(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await stage(session)
    invited = await invite(client, s, " Nina@Example.org ")
    assert (invited["email"], invited["role"], invited["status"]) == (
        "nina@example.org",
        "judge",
        "invited",
    )
    assert invited["expired"] is False
    token = await last_link(session, "nina@example.org", LINK)
    mail = await session.scalar(
        select(OutboundEmail).where(OutboundEmail.to_address == "nina@example.org")
    )
    assert mail is not None
    assert mail.subject == f"You are invited to be a judge of {s.event.name}"
    assert f"http://testserver{LINK}?org={s.org.slug}&token={token}" in mail.body_text
    row = await invitation_row(session, s, invited["id"])
    assert row.token_hash == digest(token)  # only the hash is stored
    assert row.expires_at - row.created_at == timedelta(days=7)
    listed = await client.get(f"{s.base}/role-invitations", headers=s.auth("olga"))
    assert [i["email"] for i in listed.json()] == ["nina@example.org"]

    r = Recorder(client, connection)
    before = await r.audit_actions()
    accepted = await client.post(ACCEPT, json={"org": s.org.slug, "token": token, "name": "Nina"})
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert (body["organization"], body["event"], body["role"]) == (
        s.org.slug,
        s.event.slug,
        "judge",
    )
    assert body["account_created"] is True
    assert body["user"]["email_verified"] is True
    assert body["user"]["name"] == "Nina"
    assert body["expires_in"] == 14 * 86400  # the session lifetime
    assert (await r.audit_actions())[len(before) :] == [
        "user.registered",
        "event_role_invitation.accepted",
        "session_token.created",
    ]
    nina = await session.scalar(select(User).where(User.email == "nina@example.org"))
    assert nina is not None
    assert nina.password_hash is None
    assert nina.email_verified_at is not None
    # Signed in, and a judge: the queue answers (empty, no assignment has run).
    session_headers = bearer(body["access_token"])
    queue = await client.get(f"{s.base}/judging/queue", headers=session_headers)
    assert queue.status_code == 200, queue.text
    assert queue.json()["total"] == 0
    row = await invitation_row(session, s, invited["id"])
    assert (row.accepted_by_id, row.accepted_at is not None) == (nina.id, True)
    assert (await client.get(f"{s.base}/role-invitations", headers=s.auth("olga"))).json() == []

    again = await client.post(ACCEPT, json={"org": s.org.slug, "token": token})
    assert (again.status_code, code(again)) == (409, "role_invitation_used")
    signed_in_again = await client.post(
        ACCEPT, headers=session_headers, json={"org": s.org.slug, "token": token}
    )
    assert (signed_in_again.status_code, code(signed_in_again)) == (409, "role_invitation_used")
    await as_tenant(session, s.org.id)
    grants = await session.scalar(select(func.count()).where(EventRoleGrant.user_id == nina.id))
    assert grants == 1


async def test_a_pending_invitation_is_refused_twice_and_an_expired_one_replaced(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await stage(session)
    first = await invite(client, s, "vera@example.org")
    twice = await client.post(
        f"{s.base}/roles",
        headers=s.auth("olga"),
        json={"email": "VERA@example.org", "role": "judge"},
    )
    assert (twice.status_code, code(twice)) == (409, "role_invitation_pending")
    await invite(client, s, "vera@example.org", role="mentor")  # another role is another invite
    old_token = await last_link(session, "vera@example.org", LINK)

    later = datetime.now(UTC) + timedelta(days=8)
    async with frozen_time(connection, later):
        expired = await client.post(ACCEPT, json={"org": s.org.slug, "token": old_token})
        assert (expired.status_code, code(expired)) == (410, "role_invitation_expired")
        listed = (await client.get(f"{s.base}/role-invitations", headers=s.auth("olga"))).json()
        assert sorted((i["role"], i["expired"]) for i in listed) == [
            ("judge", True),
            ("mentor", True),
        ]
        replaced = await invite(client, s, "vera@example.org")
        assert replaced["id"] != first["id"]
        assert (await invitation_row(session, s, first["id"])).revoked_at is not None
        fresh = await last_link(session, "vera@example.org", LINK)
        accepted = await client.post(ACCEPT, json={"org": s.org.slug, "token": fresh})
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["role"] == "judge"


async def test_organizers_resend_and_revoke_and_old_links_die(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    invited = await invite(client, s, "rita@example.org")
    url = f"{s.base}/role-invitations/{invited['id']}"
    first_token = await last_link(session, "rita@example.org", LINK)
    resent = await client.post(f"{url}/resend", headers=s.auth("olga"))
    assert resent.status_code == 200, resent.text
    assert resent.json()["id"] == invited["id"]
    second_token = await last_link(session, "rita@example.org", LINK)
    assert second_token != first_token
    dead = await client.post(ACCEPT, json={"org": s.org.slug, "token": first_token})
    assert (dead.status_code, code(dead)) == (404, "role_invitation_not_found")

    # Event organizers see the invitations; handing out roles takes an organization organizer.
    helper, helper_token = await person(session, email="helper@example.org")
    await as_tenant(session, s.org.id)
    session.add(
        EventRoleGrant(org_id=s.org.id, event_id=s.event.id, user_id=helper.id, role="organizer")
    )
    await session.flush()
    seen = await client.get(f"{s.base}/role-invitations", headers=bearer(helper_token))
    assert [i["id"] for i in seen.json()] == [invited["id"]]
    refused = await client.delete(url, headers=bearer(helper_token))
    assert (refused.status_code, code(refused)) == (403, "insufficient_role")
    for outsider in ("otto", "alice", "anonymous"):
        hidden = await client.get(f"{s.base}/role-invitations", headers=s.auth(outsider))
        assert hidden.status_code in (401, 404), outsider

    revoked = await client.delete(url, headers=s.auth("olga"))
    assert revoked.status_code == 204
    gone = await client.post(ACCEPT, json={"org": s.org.slug, "token": second_token})
    assert (gone.status_code, code(gone)) == (410, "role_invitation_revoked")
    for method, target in (("DELETE", url), ("POST", f"{url}/resend")):
        missing = await client.request(method, target, headers=s.auth("olga"))
        assert (missing.status_code, code(missing)) == (404, "role_invitation_not_found")


async def test_who_may_use_a_link(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    s = await stage(session)
    await invite(client, s, "paul@example.org")
    token = await last_link(session, "paul@example.org", LINK)
    # Signed in with another address: refused, and the invitation stays pending.
    other = await client.post(
        ACCEPT, headers=s.auth("otto"), json={"org": s.org.slug, "token": token}
    )
    assert (other.status_code, code(other)) == (403, "role_invitation_other_address")
    # Paul made an account with a password meanwhile: the link does not replace it.
    await sign_up(client, "paul@example.org", name="Paul")
    anonymous = await client.post(ACCEPT, json={"org": s.org.slug, "token": token})
    assert (anonymous.status_code, code(anonymous)) == (401, "sign_in_required")
    paul = await sign_in(client, "paul@example.org")
    accepted = await client.post(
        ACCEPT, headers=bearer(paul), json={"org": s.org.slug, "token": token, "name": "Ignored"}
    )
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert (body["account_created"], body["access_token"], body["expires_in"]) == (
        False,
        None,
        None,
    )
    assert body["user"]["name"] == "Paul"
    assert body["user"]["email_verified"] is True  # the link reached the inbox
    # Made-up, another organization's slug, or a link of another tenant: not found.
    for org, raw in (
        (s.org.slug, "made-up-token"),
        ("no-such-org", token),
    ):
        bad = await client.post(ACCEPT, json={"org": org, "token": raw})
        assert (bad.status_code, code(bad)) == (404, "role_invitation_not_found")
    invalid = await client.post(ACCEPT, json={"org": s.org.slug, "token": ""})
    assert invalid.status_code == 422


async def test_a_passwordless_account_is_signed_in_by_a_later_invitation(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    await invite(client, s, "lena@example.org")
    first = await last_link(session, "lena@example.org", LINK)
    created = await client.post(ACCEPT, json={"org": s.org.slug, "token": first, "name": "Lena"})
    assert created.json()["account_created"] is True
    second_event = await create_event(session, s.org, published_at=datetime.now(UTC))
    second_base = f"/api/v1/organizations/{s.org.slug}/events/{second_event.slug}"
    mentor = await client.post(
        f"{second_base}/roles",
        headers=s.auth("olga"),
        json={"email": "lena@example.org", "role": "mentor"},
    )
    assert mentor.status_code == 201  # an account now: granted at once, told by mail
    notice = await session.scalar(
        select(OutboundEmail)
        .where(OutboundEmail.to_address == "lena@example.org")
        .order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())
    )
    assert notice is not None
    assert notice.subject == f"You are now a mentor of {second_event.name}"
    assert f"/orgs/{s.org.slug}/events/{second_event.slug}" in notice.body_text
    assert "ask for a sign-in link" in notice.body_text


async def test_an_account_is_granted_at_once_told_and_its_invitation_closed(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await stage(session)
    invited = await invite(client, s, "zoe@example.org")
    token = await last_link(session, "zoe@example.org", LINK)
    await verified_user(client, session, "zoe@example.org")  # a confirmed account now
    r = Recorder(client, connection)
    before = await r.audit_actions()
    granted = await client.post(
        f"{s.base}/roles",
        headers=s.auth("olga"),
        json={"email": "zoe@example.org", "role": "judge"},
    )
    assert granted.status_code == 201, granted.text
    assert (granted.json()["email"], granted.json()["role"]) == ("zoe@example.org", "judge")
    assert (await r.audit_actions())[len(before) :] == ["event_role.granted"]
    assert (await invitation_row(session, s, invited["id"])).revoked_at is not None
    assert (await client.get(f"{s.base}/role-invitations", headers=s.auth("olga"))).json() == []
    closed = await client.post(ACCEPT, json={"org": s.org.slug, "token": token})
    assert (closed.status_code, code(closed)) == (410, "role_invitation_revoked")
    notice = await session.scalar(
        select(OutboundEmail)
        .where(OutboundEmail.to_address == "zoe@example.org")
        .order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())
    )
    assert notice is not None
    assert notice.subject == f"You are now a judge of {s.event.name}"
    queue = f"http://testserver/orgs/{s.org.slug}/events/{s.event.slug}/judging"
    assert queue in notice.body_text
    assert "sign-in link" not in notice.body_text  # Zoe has a password


async def test_accepting_into_an_archived_event_is_refused(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    await invite(client, s, "late@example.org")
    token = await last_link(session, "late@example.org", LINK)
    await as_tenant(session, s.org.id)
    s.event.archived_at = datetime.now(UTC)
    await session.flush()
    refused = await client.post(ACCEPT, json={"org": s.org.slug, "token": token})
    assert (refused.status_code, code(refused)) == (409, "event_archived")
    assert await session.scalar(select(User.id).where(User.email == "late@example.org")) is None


async def test_mails_to_one_address_are_limited(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    invited = await invite(client, s, "busy@example.org")
    resend = f"{s.base}/role-invitations/{invited['id']}/resend"
    for _ in range(4):
        assert (await client.post(resend, headers=s.auth("olga"))).status_code == 200
    limited = await client.post(resend, headers=s.auth("olga"))
    assert (limited.status_code, code(limited)) == (429, "rate_limited")
    assert "Retry-After" in limited.headers
    sent = await session.scalar(
        select(func.count()).where(OutboundEmail.to_address == "busy@example.org")
    )
    assert sent == 5


async def test_every_role_invitation_write_writes_exactly_one_audit_row(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await stage(session)
    r = Recorder(client, connection)
    before = await r.audit_actions()
    invited = await invite(client, s, "audit@example.org")
    assert (await r.audit_actions())[len(before) :] == ["event_role_invitation.created"]
    template = "/api/v1/organizations/{slug}/events/{event_slug}/role-invitations/{invitation_id}"
    url = f"{s.base}/role-invitations/{invited['id']}"
    await r.call("POST", template + "/resend", url + "/resend", headers=s.auth("olga"))
    await r.call("DELETE", template, url, headers=s.auth("olga"))
    await invite(client, s, "audit@example.org", role="mentor")
    await sign_up(client, "audit@example.org", name="Audit")
    token = await last_link(session, "audit@example.org", LINK)
    signed_in = bearer(await sign_in(client, "audit@example.org"))
    await r.call("POST", ACCEPT, headers=signed_in, json={"org": s.org.slug, "token": token})
    owned = {k for k in AUDITED if "role-invitations" in k[1] or k[1] == ACCEPT}
    assert len(owned) == 3
    assert owned - r.covered == set()


@pytest.mark.parametrize("items", [1, 20])
async def test_listing_invitations_costs_the_same_for_1_or_20(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, items: int
) -> None:
    s = await stage(session)
    await as_tenant(session, s.org.id)
    session.add_all(
        EventRoleInvitation(
            org_id=s.org.id,
            event_id=s.event.id,
            email=f"judge{n}@example.org",
            role="judge",
            token_hash=digest(f"token-{n}"),
            expires_at=datetime.now(UTC) + timedelta(days=7),
        )
        for n in range(items)
    )
    await session.flush()
    with count_queries(connection) as log:
        listed = await client.get(f"{s.base}/role-invitations", headers=s.auth("olga"))
    assert len(listed.json()) == items
    assert log.count == QUERIES_TO_LIST
