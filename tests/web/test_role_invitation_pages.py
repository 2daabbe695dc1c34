"""Event roles pages through HTTP: inviting an address without an account from the roles tab,
pending invitations with resend and revoke, the invitation's accept page (nothing happens on
GET; the button creates the account, signs in and lands on the judge's queue; every unusable
link is a clear page with a 4xx), and later sign-ins by an emailed link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.accounts.deps import SESSION_COOKIE
from hackops.models import EventRoleGrant, EventRoleInvitation, OutboundEmail, User
from tests.accounts.helpers import last_link, sign_up
from tests.helpers import frozen_time
from tests.teams.helpers import Stage
from tests.web.test_account_pages import alert_of, follow, log_in, submit, text_of
from tests.web.test_event_admin_pages import admin, field_error, organizer
from tests.web.test_org_pages import as_tenant

ACCEPT = "/events/invitations/accept"


def flash_of(page: httpx2.Response) -> str:
    found = re.findall(r'<p class="flash flash-\w+"[^>]*>(.*?)</p>', text_of(page), re.S)
    assert found, "no flash message on the page"
    return " ".join(found)


def accept_url(s: Stage, token: str) -> str:
    return f"{ACCEPT}?{urlencode({'org': s.org.slug, 'token': token})}"


async def invite(client: httpx2.AsyncClient, session: AsyncSession, s: Stage, email: str) -> str:
    response = await submit(client, admin(s) + "/roles", email=email, role="judge")
    assert response.status_code == 303, response.text
    return await last_link(session, email, ACCEPT)


async def pending(session: AsyncSession, s: Stage) -> list[EventRoleInvitation]:
    await as_tenant(session, s.org.id)
    rows = await session.scalars(
        select(EventRoleInvitation)
        .where(
            EventRoleInvitation.event_id == s.event.id,
            EventRoleInvitation.accepted_at.is_(None),
            EventRoleInvitation.revoked_at.is_(None),
        )
        .execution_options(populate_existing=True)
    )
    return list(rows)


# --- the roles tab -----------------------------------------------------------------------------


async def test_the_roles_tab_invites_lists_resends_and_revokes(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    page = admin(s) + "/roles"
    assert "No pending invitations." in (await client.get(page)).text
    sent = await submit(client, page, email="Ghost@Example.org", role="judge")
    landing = text_of(await follow(client, sent))
    assert (
        "We mailed an invitation to ghost@example.org. They become judge once they open its link"
        " (valid 7 days)."
    ) in landing
    table = re.search(r'<table id="role-invitations">(.*?)</table>', landing, re.S)
    assert table, landing
    assert "ghost@example.org" in table.group(1)
    [invitation] = await pending(session, s)
    first = await last_link(session, "ghost@example.org", ACCEPT)

    twice = await submit(client, page, email="ghost@example.org", role="judge")
    assert twice.status_code == 409
    assert field_error(twice, "grant-email").startswith("An invitation for this role was already")
    assert 'value="ghost@example.org"' in twice.text
    bad = await submit(client, page, email="not an address", role="judge")
    assert bad.status_code == 422
    assert field_error(bad, "grant-email") == "That is not a valid email address."

    resend = f"{page}/invitations/{invitation.id}/resend"
    resent = await submit(client, page, resend)
    assert "The invitation is sent again" in text_of(await follow(client, resent))
    second = await last_link(session, "ghost@example.org", ACCEPT)
    assert second != first
    revoked = await submit(client, page, f"{page}/invitations/{invitation.id}/revoke")
    assert "The invitation is revoked" in text_of(await follow(client, revoked))
    assert await pending(session, s) == []
    again = await submit(client, page, f"{page}/invitations/{invitation.id}/revoke")
    assert "No such pending invitation in this event." in text_of(await follow(client, again))


# --- accepting ---------------------------------------------------------------------------------


async def test_the_link_creates_the_account_signs_in_and_lands_on_the_queue(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    token = await invite(client, session, s, "judy@example.org")
    client.cookies.clear()  # the invited person's browser

    url = accept_url(s, token)
    page = await client.get(url)
    assert page.status_code == 200
    assert f"Join {s.event.name} as judge" in text_of(page)
    # Who invited, for which organization: the organizer's name and nothing else of theirs.
    summary = re.search(r'id="invitation-summary">(.*?)</p>', page.text, re.S)
    assert summary, page.text
    assert " ".join(re.sub(r"<[^>]+>", "", summary.group(1)).split()).startswith(
        f"Olga, for {s.org.name}, invites judy@example.org to be judge of {s.event.name}."
    )
    assert s.users["olga"].email not in page.text
    assert 'id="accept-name"' in page.text
    assert "Create my account and join" in page.text
    assert len(await pending(session, s)) == 1  # opening the link changes nothing

    joined = await submit(client, url, ACCEPT, org=s.org.slug, token=token, name="Judy")
    queue = f"/orgs/{s.org.slug}/events/{s.event.slug}/judging"
    assert joined.status_code == 303, joined.text
    assert joined.headers["location"] == queue
    assert joined.headers["set-cookie"].startswith(f"{SESSION_COOKIE}=")
    landed = await follow(client, joined)
    assert landed.status_code == 200
    assert f"Welcome to HackOps! You are now judge of {s.event.name}." in text_of(landed)
    judy = await session.scalar(select(User).where(User.email == "judy@example.org"))
    assert judy is not None
    assert (judy.name, judy.password_hash, judy.email_verified) == ("Judy", None, True)
    await as_tenant(session, s.org.id)
    assert await session.scalar(
        select(func.count()).where(
            EventRoleGrant.user_id == judy.id, EventRoleGrant.role == "judge"
        )
    )

    used = await client.get(url)
    assert used.status_code == 409
    assert "This invitation was already accepted." in alert_of(used)
    replay = await client.post(
        ACCEPT,
        data={"org": s.org.slug, "token": token, "csrf_token": client.cookies["hackops_csrf"]},
        headers={"Origin": "http://testserver"},
    )
    assert replay.status_code == 409
    assert "already accepted" in alert_of(replay)


async def test_unusable_links_are_clear_pages_with_a_4xx(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await organizer(session, client)
    revoked_token = await invite(client, session, s, "gone@example.org")
    [invitation] = await pending(session, s)
    page = admin(s) + "/roles"
    await submit(client, page, f"{page}/invitations/{invitation.id}/revoke")
    expiring = await invite(client, session, s, "slow@example.org")
    client.cookies.clear()

    gone = await client.get(accept_url(s, revoked_token))
    assert gone.status_code == 410
    assert alert_of(gone) == "The organizers withdrew this invitation."
    unknown = await client.get(accept_url(s, "made-up"))
    assert unknown.status_code == 404
    assert "This invitation link is not valid" in alert_of(unknown)
    incomplete = await client.get(f"{ACCEPT}?org={s.org.slug}")
    assert incomplete.status_code == 400
    assert "incomplete" in alert_of(incomplete)
    async with frozen_time(connection, datetime.now(UTC) + timedelta(days=8)):
        late = await client.get(accept_url(s, expiring))
        assert late.status_code == 410
        assert "This invitation has expired" in alert_of(late)
        assert "Create my account" not in late.text


async def test_a_link_for_another_address_or_a_password_account(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    token = await invite(client, session, s, "max@example.org")
    url = accept_url(s, token)
    # Olga is signed in: the invitation is for someone else.
    other = await client.get(url)
    assert other.status_code == 403
    assert "sent to another email address" in alert_of(other)
    refused = await submit(client, admin(s) + "/roles", ACCEPT, org=s.org.slug, token=token)
    assert refused.status_code == 403
    assert len(await pending(session, s)) == 1
    # Max signs up with a password: the link asks him to log in first, and comes back.
    client.cookies.clear()
    await sign_up(client, "max@example.org", name="Max")
    login_first = await client.get(url)
    assert login_first.status_code == 200
    assert f'href="/login?{urlencode({"next": url})}"' in login_first.text.replace("&amp;", "&")
    assert "Create my account" not in login_first.text
    posted = await submit(client, "/login", ACCEPT, org=s.org.slug, token=token)
    assert posted.status_code == 400  # (401 on the API) — a page never asks for HTTP auth
    assert "log in first" in alert_of(posted)
    await log_in(client, "max@example.org")
    signed_in = await client.get(url)
    assert "You are signed in as <strong>max@example.org</strong>" in signed_in.text
    joined = await submit(client, url, ACCEPT, org=s.org.slug, token=token)
    assert joined.status_code == 303, joined.text
    assert joined.headers["location"] == f"/orgs/{s.org.slug}/events/{s.event.slug}/judging"
    assert SESSION_COOKIE not in joined.headers.get("set-cookie", "")  # the same session
    assert f"You are now judge of {s.event.name}." in text_of(await follow(client, joined))


# --- signing in later by an emailed link -------------------------------------------------------


async def passwordless(client: httpx2.AsyncClient, session: AsyncSession, s: Stage) -> str:
    """Judy, whose account came from an invitation (no password); signed out."""
    token = await invite(client, session, s, "judy@example.org")
    client.cookies.clear()
    url = accept_url(s, token)
    joined = await submit(client, url, ACCEPT, org=s.org.slug, token=token, name="Judy")
    assert joined.status_code == 303
    client.cookies.clear()
    return "judy@example.org"


async def test_a_passwordless_account_signs_in_with_an_emailed_link(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    email = await passwordless(client, session, s)
    queue = f"/orgs/{s.org.slug}/events/{s.event.slug}/judging"
    login = await client.get(f"/login?{urlencode({'next': queue})}")
    assert 'action="/sign-in-link"' in login.text
    assert "Email me a sign-in link" in login.text
    asked = await submit(client, "/login", "/sign-in-link", email=email.upper(), next=queue)
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/login?{urlencode({'next': queue})}"
    assert "we sent it a sign-in link" in text_of(await follow(client, asked))
    token = await last_link(session, email, "/sign-in-link")
    mail = await session.scalar(
        select(OutboundEmail.body_text)
        .where(OutboundEmail.subject == "Your HackOps sign-in link")
        .order_by(OutboundEmail.created_at.desc())
    )
    assert mail is not None
    assert f"next={queue.replace('/', '%2F')}" in mail

    link = f"/sign-in-link?{urlencode({'token': token, 'next': queue})}"
    confirm = await client.get(link)
    assert confirm.status_code == 200
    assert "Sign me in" in confirm.text
    assert client.cookies.get(SESSION_COOKIE) is None  # nothing happens on GET
    signed_in = await submit(client, link, "/sign-in-link/confirm", token=token, next=queue)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == queue
    assert client.cookies.get(SESSION_COOKIE)
    assert (await follow(client, signed_in)).status_code == 200  # Judy's queue

    client.cookies.clear()
    reused = await submit(client, link, "/sign-in-link/confirm", token=token)
    assert reused.status_code == 400
    assert "invalid or has expired" in alert_of(reused)
    # A newer link supersedes an older one.
    await submit(client, "/sign-in-link", email=email)
    older = await last_link(session, email, "/sign-in-link")
    await submit(client, "/sign-in-link", email=email)
    newer = await last_link(session, email, "/sign-in-link")
    stale = await submit(client, "/sign-in-link", "/sign-in-link/confirm", token=older)
    assert stale.status_code == 400
    fresh = await submit(client, "/sign-in-link", "/sign-in-link/confirm", token=newer)
    assert fresh.status_code == 303
    assert fresh.headers["location"] == "/orgs"


async def test_sign_in_links_answer_the_same_for_everyone_and_mail_only_passwordless(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    judy = await passwordless(client, session, s)
    await sign_up(client, "pat@example.org", name="Pat")  # has a password
    answers = []
    for email in (judy, "pat@example.org", "nobody@example.org", "not an address"):
        response = await submit(client, "/sign-in-link", email=email)
        page = await follow(client, response)
        answers.append((response.status_code, response.headers["location"], flash_of(page)))
    assert len(set(answers)) == 1, answers
    sent = dict(
        (
            await session.execute(
                select(OutboundEmail.to_address, func.count())
                .where(OutboundEmail.subject == "Your HackOps sign-in link")
                .group_by(OutboundEmail.to_address)
            )
        ).all()
    )
    assert sent == {judy: 1}
    empty = await submit(client, "/sign-in-link", email="")
    assert empty.status_code == 422
    assert field_error(empty, "link-email")


async def test_sign_in_links_are_limited_per_address(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    judy = await passwordless(client, session, s)
    for _ in range(5):
        assert (await submit(client, "/sign-in-link", email=judy)).status_code == 303
    limited = await submit(client, "/sign-in-link", email=judy)
    assert limited.status_code == 429
    assert "Too many attempts" in alert_of(limited)
    assert "Retry-After" in limited.headers
    # The same for an address nobody uses: the limit reveals nothing either.
    for _ in range(5):
        await submit(client, "/sign-in-link", email="ghost@example.org")
    assert (await submit(client, "/sign-in-link", email="ghost@example.org")).status_code == 429


async def test_a_password_set_later_retires_the_link(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await organizer(session, client)
    judy = await passwordless(client, session, s)
    await submit(client, "/sign-in-link", email=judy)
    token = await last_link(session, judy, "/sign-in-link")
    user = await session.scalar(select(User).where(User.email == judy))
    assert user is not None
    user.password_hash = "set-through-a-reset"
    await session.flush()
    refused = await submit(client, "/sign-in-link", "/sign-in-link/confirm", token=token)
    assert refused.status_code == 400
    assert client.cookies.get(SESSION_COOKIE) is None
