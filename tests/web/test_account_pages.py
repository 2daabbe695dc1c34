"""Account pages through HTTP: sign up, log in and out, verification, reset, the account page,
sessions and API tokens, and the dev mailbox."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.accounts.deps import SESSION_COOKIE
from hackops.browser import CSRF_COOKIE
from hackops.db import Database
from hackops.main import create_app
from hackops.models import AuthToken, OAuthIdentity, OutboundEmail, TokenKind, User
from hackops.ratelimit import (
    LOGIN_PER_ACCOUNT_ADDRESS,
    VERIFY_MAIL_PER_ADDRESS,
    account_address_key,
)
from hackops.web.dev import linkify
from tests.accounts.helpers import PASSWORD, last_link, sign_up, verified_user
from tests.conftest import make_settings
from tests.factories import create_organization
from tests.helpers import database_on, serving

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
NEW_PASSWORD = "a brand new passphrase"


# --- helpers (the organization page tests use them too) --------------------------------------


async def csrf_from(client: httpx2.AsyncClient, path: str) -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    match = CSRF_INPUT.search(page.text)
    assert match, f"no form on {path}"
    assert client.cookies[CSRF_COOKIE] == match.group(1)
    return match.group(1)


async def submit(
    client: httpx2.AsyncClient, page: str, action: str | None = None, **fields: Any
) -> httpx2.Response:
    """Open `page`, take the CSRF token from its form, and post `fields` to `action`."""
    token = await csrf_from(client, page)
    return await client.post(
        action or page,
        data={**fields, "csrf_token": token},
        headers={"Origin": "http://testserver"},
    )


async def follow(client: httpx2.AsyncClient, response: httpx2.Response) -> httpx2.Response:
    assert response.status_code == 303, response.text
    return await client.get(response.headers["location"])


async def log_in(client: httpx2.AsyncClient, email: str, password: str = PASSWORD) -> None:
    response = await submit(client, "/login", email=email, password=password)
    assert response.status_code == 303, response.text
    assert client.cookies.get(SESSION_COOKIE)


def use_session(client: httpx2.AsyncClient, token: str) -> None:
    """Browse as the owner of this session token (as if its cookie were set at log-in)."""
    client.cookies.set(SESSION_COOKIE, token)


def text_of(response: httpx2.Response) -> str:
    return html.unescape(response.text)


def alert_of(response: httpx2.Response) -> str:
    match = re.search(r'role="alert">(.*?)</div>', response.text, re.S)
    assert match, "no alert on the page"
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip()


async def user_by_email(session: AsyncSession, email: str) -> User:
    user = await session.scalar(select(User).where(User.email == email))
    assert user is not None
    await session.refresh(user)
    return user


# --- sign up ---------------------------------------------------------------------------------


async def test_signup_page_has_labelled_fields_and_no_provider_buttons(
    client: httpx2.AsyncClient,
) -> None:
    page = await client.get("/signup")
    assert page.status_code == 200
    for field in ("signup-name", "signup-email", "signup-password"):
        assert f'<label for="{field}">' in page.text
        assert f'id="{field}"' in page.text
    assert 'autocomplete="new-password"' in page.text
    assert "Continue with" not in page.text  # no provider is configured in tests
    assert 'href="/login">Log in</a>' in page.text  # header, signed out
    assert 'href="/account"' not in page.text


async def test_signup_creates_the_account_and_mails_a_link(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    response = await submit(
        client, "/signup", name="Grace", email=" Grace@Example.org ", password=PASSWORD
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    user = await user_by_email(session, "grace@example.org")
    assert user.name == "Grace"
    assert not user.email_verified
    assert await last_link(session, "grace@example.org", "/verify-email")
    login_page = await client.get("/login")
    assert "Check your mail: we sent a message to grace@example.org." in login_page.text
    assert client.cookies.get(SESSION_COOKIE) is None  # log in after confirming


async def test_signup_keeps_a_local_next_through_to_the_login_page(
    client: httpx2.AsyncClient,
) -> None:
    page = await client.get("/signup?next=/invitations/accept%3Forg%3Dx%26token%3Dy")
    assert 'name="next" value="/invitations/accept?org=x&amp;token=y"' in page.text
    response = await submit(
        client,
        "/signup",
        email="next@example.org",
        password=PASSWORD,
        next="/invitations/accept?org=x&token=y",
    )
    assert (
        response.headers["location"] == "/login?next=%2Finvitations%2Faccept%3Forg%3Dx%26token%3Dy"
    )


@pytest.mark.parametrize(
    ("fields", "status", "field", "message"),
    [
        ({"email": "weak@example.org", "password": "password"}, 422, "password", "too common"),
        ({"email": "short@example.org", "password": "abc"}, 422, "password", "at least 8"),
        ({"email": "not-an-address", "password": PASSWORD}, 422, "email", "not a valid email"),
        ({"email": "", "password": PASSWORD}, 422, "email", "Email cannot be empty"),
    ],
)
async def test_signup_refusals_come_back_on_the_form(
    client: httpx2.AsyncClient, fields: dict[str, str], status: int, field: str, message: str
) -> None:
    response = await submit(client, "/signup", name="Kept Name", **fields)
    assert response.status_code == status
    error = re.search(rf'id="signup-{field}-error">([^<]+)<', response.text)
    assert error, response.text
    assert message in error.group(1)
    assert f'id="signup-{field}"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="Kept Name"' in response.text
    assert f'value="{fields["password"]}"' not in response.text  # never echoed
    assert 'role="alert"' in response.text


async def test_signup_with_a_taken_address_answers_like_a_fresh_one(
    client: httpx2.AsyncClient,
) -> None:
    """The owner is mailed instead (tests/accounts/test_registration_enumeration.py)."""
    await sign_up(client, "taken@example.org")
    response = await submit(client, "/signup", email="taken@example.org", password=PASSWORD)
    assert response.status_code == 303
    assert "Check your mail: we sent a message to taken@example.org." in text_of(
        await follow(client, response)
    )


# --- log in and out ---------------------------------------------------------------------------


async def test_login_sets_the_session_cookie_and_goes_to_my_organizations(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "ada@example.org")
    response = await submit(client, "/login", email="ADA@example.org", password=PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/orgs"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    landing = await follow(client, response)
    assert "Welcome back, Ada." in landing.text
    # The header knows, on every page, the landing page included.
    home = await client.get("/")
    assert 'href="/account"' in home.text
    assert 'action="/logout"' in home.text
    assert 'href="/signup"' not in home.text


@pytest.mark.parametrize(
    ("next_value", "location"),
    [
        ("/orgs/acme?tab=1", "/orgs/acme?tab=1"),
        ("https://evil.example/", "/orgs"),
        ("//evil.example/", "/orgs"),
        ("/\\evil.example", "/orgs"),
        ("javascript:alert(1)", "/orgs"),
    ],
)
async def test_login_honours_only_a_local_next(
    client: httpx2.AsyncClient, session: AsyncSession, next_value: str, location: str
) -> None:
    await verified_user(client, session, "nexter@example.org")
    response = await submit(
        client, "/login", email="nexter@example.org", password=PASSWORD, next=next_value
    )
    assert response.status_code == 303
    assert response.headers["location"] == location


async def test_login_with_a_wrong_password_says_so_on_the_form(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "wrong@example.org")
    response = await submit(client, "/login", email="wrong@example.org", password="nope-nope-nope")
    assert response.status_code == 400
    assert alert_of(response) == "Wrong email address or password."
    assert 'value="wrong@example.org"' in response.text
    assert "nope-nope-nope" not in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


async def test_login_with_empty_fields_marks_them(client: httpx2.AsyncClient) -> None:
    response = await submit(client, "/login", email="", password="")
    assert response.status_code == 422
    assert 'id="login-email-error">Enter your email address.<' in response.text
    assert 'id="login-password-error">Enter your password.<' in response.text


async def test_login_rate_limit_shows_on_the_form(
    client: httpx2.AsyncClient, session: AsyncSession, app: Any
) -> None:
    await verified_user(client, session, "limited@example.org")
    pair = account_address_key("limited@example.org", "127.0.0.1")
    while await app.state.limiter.hit(LOGIN_PER_ACCOUNT_ADDRESS, pair):
        pass
    response = await submit(client, "/login", email="limited@example.org", password=PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert alert_of(response).startswith("Too many attempts; try again in about")


async def test_logout_revokes_the_session_and_clears_the_cookie(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "bye@example.org")
    await log_in(client, "bye@example.org")
    response = await submit(client, "/account", "/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    user = await user_by_email(session, "bye@example.org")
    browser_sessions = (
        await session.scalars(
            select(AuthToken).where(
                AuthToken.user_id == user.id, AuthToken.name == "Browser sign-in"
            )
        )
    ).all()
    assert len(browser_sessions) == 1
    await session.refresh(browser_sessions[0])
    assert browser_sessions[0].revoked_at is not None
    assert "You are signed out." in (await client.get("/")).text
    assert (await client.get("/account")).headers["location"] == "/login?next=%2Faccount"


async def test_logout_page_post_without_csrf_is_refused(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    use_session(client, await verified_user(client, session, "csrf@example.org"))
    response = await client.post("/logout", data={})
    assert response.status_code == 403


async def test_provider_buttons_need_both_client_id_and_secret(
    database_url: str,
    storage_dir: Path,
    bound_database: Database,
    connection: AsyncConnection,
) -> None:
    settings = make_settings(
        database_url,
        storage_dir,
        oauth_github_client_id="gh-id",
        oauth_github_client_secret="gh-secret",
        oauth_google_client_id="only-an-id",
    )
    app = create_app(settings, database=database_on(bound_database.engine, connection))
    async with serving(app) as http:
        page = await http.get("/login?next=/orgs/acme")
    assert page.status_code == 200
    assert (
        '<a class="button button-secondary" href="/auth/oauth/github/start?next=/orgs/acme">'
        "Continue with GitHub</a>"
    ) in page.text
    assert "Google" not in page.text
    assert "Microsoft" not in page.text


# --- email verification ----------------------------------------------------------------------


async def test_verification_link_shows_a_button_and_only_the_post_verifies(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await sign_up(client, "verify@example.org")
    token = await last_link(session, "verify@example.org", "/verify-email")
    page = await client.get(f"/verify-email?token={token}")
    assert page.status_code == 200
    assert f'name="token" value="{token}"' in page.text
    assert not (await user_by_email(session, "verify@example.org")).email_verified
    response = await submit(client, f"/verify-email?token={token}", "/verify-email", token=token)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert (await user_by_email(session, "verify@example.org")).email_verified
    assert (
        "Your email address is confirmed. You can log in now."
        in (await follow(client, response)).text
    )
    again = await submit(client, f"/verify-email?token={token}", "/verify-email", token=token)
    assert again.status_code == 400
    assert alert_of(again) == "This link is invalid or has expired; ask for a new one."


async def test_verification_without_a_token_explains(client: httpx2.AsyncClient) -> None:
    page = await client.get("/verify-email")
    assert page.status_code == 200
    assert "Open the link from the confirmation email" in page.text
    assert "/login?next=/account" in page.text


async def test_resend_verification_mails_a_new_link_and_shows_the_rate_limit(
    client: httpx2.AsyncClient, session: AsyncSession, app: Any
) -> None:
    await sign_up(client, "resend@example.org")
    first = await last_link(session, "resend@example.org", "/verify-email")
    await log_in(client, "resend@example.org")
    account = await client.get("/account")
    assert "not confirmed" in account.text
    response = await submit(client, "/account", "/verify-email/resend")
    assert response.status_code == 303
    assert "A new confirmation link is on its way" in (await follow(client, response)).text
    assert await last_link(session, "resend@example.org", "/verify-email") != first
    for _ in range(5):
        await app.state.limiter.hit(VERIFY_MAIL_PER_ADDRESS, "resend@example.org")
    limited = await submit(client, "/account", "/verify-email/resend")
    assert limited.status_code == 429
    assert "Too many attempts" in alert_of(limited)
    assert "Your account" in limited.text


# --- password reset --------------------------------------------------------------------------


async def test_reset_request_answers_the_same_for_unknown_addresses(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "forgot@example.org")
    known = await submit(client, "/reset-password", email="forgot@example.org")
    unknown = await submit(client, "/reset-password", email="nobody@example.org")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/login"
    page = await client.get("/login")
    assert "If an account exists for that address" in page.text
    assert await last_link(session, "forgot@example.org", "/reset-password")
    assert not await session.scalar(
        select(func.count()).where(OutboundEmail.to_address == "nobody@example.org")
    )


async def test_reset_with_a_weak_password_keeps_the_link_usable(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "reset@example.org")
    await submit(client, "/reset-password", email="reset@example.org")
    token = await last_link(session, "reset@example.org", "/reset-password")
    page = f"/reset-password?token={token}"
    weak = await submit(
        client, page, "/reset-password/confirm", token=token, new_password="12345678"
    )
    assert weak.status_code == 422
    assert 'id="reset-new_password-error">This password is too common' in weak.text
    assert f'name="token" value="{token}"' in weak.text
    done = await submit(
        client, page, "/reset-password/confirm", token=token, new_password=NEW_PASSWORD
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/login"
    assert "Log in with the new one." in text_of(await follow(client, done))
    await log_in(client, "reset@example.org", NEW_PASSWORD)
    reused = await submit(
        client, page, "/reset-password/confirm", token=token, new_password=NEW_PASSWORD
    )
    assert reused.status_code == 400
    assert "invalid or has expired" in alert_of(reused)


# --- the account page ------------------------------------------------------------------------


async def test_account_pages_send_signed_out_visitors_to_log_in(client: httpx2.AsyncClient) -> None:
    for path in ("/account", "/account/security", "/account/export", "/orgs", "/orgs/new"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=%2F")


async def test_profile_is_saved_and_bad_input_comes_back(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "profile@example.org")
    await log_in(client, "profile@example.org")
    response = await submit(
        client,
        "/account",
        "/account/profile",
        name="Ada L.",
        bio="Engines.",
        skills="Python, , Rust ",
        interests="robots",
        links="https://example.org/ada\n\nhttps://example.com",
    )
    assert response.status_code == 303
    user = await user_by_email(session, "profile@example.org")
    assert (user.name, user.bio, user.skills, user.interests) == (
        "Ada L.",
        "Engines.",
        ["Python", "Rust"],
        ["robots"],
    )
    assert user.links == ["https://example.org/ada", "https://example.com/"]
    assert "Your profile is saved." in (await follow(client, response)).text
    bad = await submit(
        client, "/account", "/account/profile", name="Changed", links="ftp://nope", skills="x" * 65
    )
    assert bad.status_code == 422
    assert 'id="profile-links-error">Up to 10 links' in bad.text
    assert 'id="profile-skills-error">Up to 30 skills' in bad.text
    assert 'value="Changed"' in bad.text
    assert (await user_by_email(session, "profile@example.org")).name == "Ada L."


async def test_change_password_keeps_this_session_and_ends_the_others(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    other = await verified_user(client, session, "pw@example.org")
    await log_in(client, "pw@example.org")
    wrong = await submit(
        client,
        "/account",
        "/account/password",
        current_password="not it at all",
        new_password=NEW_PASSWORD,
    )
    assert wrong.status_code == 400
    assert 'id="password-current_password-error">The current password is wrong.' in wrong.text
    response = await submit(
        client,
        "/account",
        "/account/password",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
    )
    assert response.status_code == 303
    assert (await client.get("/account")).status_code == 200  # still signed in here
    api = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"})
    assert api.status_code == 401


async def test_change_email_needs_the_password_and_a_free_address(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await sign_up(client, "someone@example.org")
    await verified_user(client, session, "old@example.org")
    await log_in(client, "old@example.org")
    taken = await submit(
        client, "/account", "/account/email", new_email="someone@example.org", password=PASSWORD
    )
    assert taken.status_code == 409
    assert 'id="email-new_email-error">An account with this email address already exists.' in (
        taken.text
    )
    assert 'value="someone@example.org"' in taken.text
    response = await submit(
        client, "/account", "/account/email", new_email="New@Example.org", password=PASSWORD
    )
    assert response.status_code == 303
    user = await user_by_email(session, "new@example.org")
    assert not user.email_verified
    assert await last_link(session, "new@example.org", "/verify-email")
    assert "Your email address is now new@example.org" in (await follow(client, response)).text


async def test_export_downloads_my_data_as_json(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "export@example.org")
    await log_in(client, "export@example.org")
    response = await client.get("/account/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert re.fullmatch(
        r'attachment; filename="hackops-export-\d{4}-\d{2}-\d{2}\.json"',
        response.headers["content-disposition"],
    )
    data = json.loads(response.text)
    assert data["profile"]["email"] == "export@example.org"
    assert {"profile", "organizations", "sessions_and_tokens", "activity"} <= set(data)


async def test_delete_account_checks_the_password_and_the_last_owner_rule(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "leaving@example.org")
    await log_in(client, "leaving@example.org")
    wrong = await submit(client, "/account", "/account/delete", password="not my password")
    assert wrong.status_code == 400
    assert "The current password is wrong." in wrong.text
    created = await submit(client, "/orgs/new", name="Solo", slug="solo-owner")
    assert created.status_code == 303
    owner = await submit(client, "/account", "/account/delete", password=PASSWORD)
    assert owner.status_code == 409
    assert "last owner" in alert_of(owner)
    assert (await user_by_email(session, "leaving@example.org")).deleted_at is None


async def test_delete_account_signs_out_and_erases(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "gone@example.org")
    await log_in(client, "gone@example.org")
    user_id = (await user_by_email(session, "gone@example.org")).id
    response = await submit(client, "/account", "/account/delete", password=PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    user = await session.get(User, user_id)
    assert user is not None
    await session.refresh(user)
    assert user.deleted_at is not None
    assert user.email.endswith("@deleted.invalid")
    assert "Your account is deleted." in (await client.get("/")).text


# --- sessions and API tokens -----------------------------------------------------------------


async def test_security_page_lists_sessions_and_signs_out_another(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    api_session = await verified_user(client, session, "sessions@example.org")
    await log_in(client, "sessions@example.org")
    page = await client.get("/account/security")
    assert page.status_code == 200
    assert page.text.count("/revoke") == 2
    assert "this browser" in page.text
    user = await user_by_email(session, "sessions@example.org")
    other = await session.scalar(
        select(AuthToken).where(AuthToken.user_id == user.id, AuthToken.name == "API sign-in")
    )
    assert other is not None
    response = await submit(
        client, "/account/security", f"/account/security/sessions/{other.id}/revoke"
    )
    assert response.status_code == 303
    assert (
        await client.get("/api/v1/me", headers={"Authorization": f"Bearer {api_session}"})
    ).status_code == 401
    assert (await client.get("/account/security")).status_code == 200


async def test_signing_out_this_session_from_the_list_logs_out(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "self@example.org")
    await log_in(client, "self@example.org")
    user = await user_by_email(session, "self@example.org")
    mine = await session.scalar(
        select(AuthToken).where(AuthToken.user_id == user.id, AuthToken.name == "Browser sign-in")
    )
    assert mine is not None
    response = await submit(
        client, "/account/security", f"/account/security/sessions/{mine.id}/revoke"
    )
    assert response.headers["location"] == "/login"
    assert (await client.get("/account")).status_code == 303


async def test_api_token_is_shown_once_works_and_can_be_revoked(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "tokens@example.org")
    await log_in(client, "tokens@example.org")
    created = await submit(
        client,
        "/account/security",
        "/account/security/tokens",
        name="CI export",
        scopes="read",
        expires_in_days="30",
    )
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    match = re.search(
        r'id="new-token" class="token-value" type="text" readonly value="([^"]+)"', created.text
    )
    assert match
    raw = match.group(1)
    assert raw.startswith("hko_")
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.json()["email"] == "tokens@example.org"
    listing = await client.get("/account/security")
    assert raw not in listing.text
    assert "CI export" in listing.text
    user = await user_by_email(session, "tokens@example.org")
    token = await session.scalar(
        select(AuthToken).where(AuthToken.user_id == user.id, AuthToken.kind == TokenKind.API)
    )
    assert token is not None
    assert token.scopes == ["read"]
    revoked = await submit(
        client, "/account/security", f"/account/security/tokens/{token.id}/revoke"
    )
    assert revoked.status_code == 303
    assert "The API token is revoked." in (await follow(client, revoked)).text
    assert (
        await client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    ).status_code == 401


async def test_api_token_form_refuses_bad_input(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "badtoken@example.org")
    await log_in(client, "badtoken@example.org")
    response = await submit(
        client,
        "/account/security",
        "/account/security/tokens",
        name="",
        expires_in_days="400",
    )
    assert response.status_code == 422
    assert 'id="token-scopes-error">Choose read, write or both.' in response.text
    assert 'id="token-expires_in_days-error">A number of days from 1 to 365.' in response.text
    assert 'id="token-name-error">' in response.text
    assert "token-value" not in response.text


async def test_revoking_someone_elses_token_is_not_found(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "victim@example.org")
    victim = await user_by_email(session, "victim@example.org")
    token = await session.scalar(select(AuthToken).where(AuthToken.user_id == victim.id))
    assert token is not None
    await verified_user(client, session, "attacker@example.org")
    await log_in(client, "attacker@example.org")
    response = await submit(
        client, "/account/security", f"/account/security/tokens/{token.id}/revoke"
    )
    assert response.status_code == 404
    await session.refresh(token)
    assert token.revoked_at is None


# --- the dev mailbox -------------------------------------------------------------------------


@pytest.fixture
async def dev_client(
    database_url: str, storage_dir: Path, bound_database: Database, connection: AsyncConnection
) -> AsyncIterator[httpx2.AsyncClient]:
    settings = make_settings(database_url, storage_dir, hackops_env="dev")
    app = create_app(settings, database=database_on(bound_database.engine, connection))
    async with serving(app) as http:
        yield http


async def test_dev_mailbox_does_not_exist_outside_dev(client: httpx2.AsyncClient) -> None:
    response = await client.get("/dev/mailbox")
    assert response.status_code == 404
    assert "There is no page at this address." in response.text


async def test_dev_mailbox_lists_mail_newest_first_with_links(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await sign_up(dev_client, "first@example.org")
    await sign_up(dev_client, "second@example.org")
    page = await dev_client.get("/dev/mailbox")
    assert page.status_code == 200
    assert page.text.index("second@example.org") < page.text.index("first@example.org")
    token = await last_link(session, "second@example.org", "/verify-email")
    link = f"http://testserver/verify-email?token={token}"
    assert f'<a href="{link}" rel="noreferrer">{link}</a>' in page.text
    only = await dev_client.get("/dev/mailbox?to=First@Example.org")
    assert "first@example.org" in only.text
    assert "second@example.org" not in only.text


def test_linkify_escapes_everything_and_links_only_http_urls() -> None:
    text = (
        '<script>alert(1)</script> see https://example.org/a?b=1&c=2. and "http://x.test/<b>"'
        " but not javascript:alert(1) or ftp://files.test"
    )
    assert str(linkify(text)) == (
        "&lt;script&gt;alert(1)&lt;/script&gt; see "
        '<a href="https://example.org/a?b=1&amp;c=2" rel="noreferrer">'
        "https://example.org/a?b=1&amp;c=2</a>. and &#34;"
        '<a href="http://x.test/" rel="noreferrer">http://x.test/</a>&lt;b&gt;&#34;'
        " but not javascript:alert(1) or ftp://files.test"
    )


async def test_header_shows_log_in_and_sign_up_when_signed_out(
    client: httpx2.AsyncClient,
) -> None:
    page = await client.get("/")
    nav = re.search(r'<nav aria-label="Account".*?</nav>', page.text, re.S)
    assert nav
    assert 'href="/login"' in nav.group(0)
    assert 'href="/signup"' in nav.group(0)
    assert "Log out" not in nav.group(0)


async def test_error_pages_of_a_signed_in_user_render(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    use_session(client, await verified_user(client, session, "err@example.org"))
    await create_organization(session, slug="not-mine")
    # Someone else's organization leads to its public page; one that does not exist is the
    # error page, drawn for the signed-in person.
    assert (await client.get("/orgs/not-mine")).headers["location"] == "/orgs/not-mine/public"
    response = await client.get("/orgs/no-such-club")
    assert response.status_code == 404
    assert "No such organization." in response.text
    assert 'action="/logout"' in response.text


async def test_security_page_lists_and_unlinks_linked_accounts(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "linked@example.com")
    await log_in(client, "linked@example.com")
    user = await user_by_email(session, "linked@example.com")
    identity = OAuthIdentity(user_id=user.id, provider="github", subject="77", email=user.email)
    session.add(identity)
    await session.flush()
    page = await client.get("/account/security")
    assert "Linked accounts" in page.text
    assert f"/account/security/identities/{identity.id}/unlink" in page.text
    done = await submit(
        client, "/account/security", f"/account/security/identities/{identity.id}/unlink"
    )
    assert "The account is unlinked." in text_of(await follow(client, done))
    assert await session.scalar(select(func.count()).select_from(OAuthIdentity)) == 0


async def test_the_last_way_to_sign_in_cannot_be_unlinked_from_the_page(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    await verified_user(client, session, "only@example.com")
    await log_in(client, "only@example.com")
    user = await user_by_email(session, "only@example.com")
    identity = OAuthIdentity(user_id=user.id, provider="google", subject="88", email=user.email)
    session.add(identity)
    user.password_hash = None
    await session.flush()
    refused = await submit(
        client, "/account/security", f"/account/security/identities/{identity.id}/unlink"
    )
    assert refused.status_code == 409
    assert "only way to sign in" in alert_of(refused)
    assert await session.scalar(select(func.count()).select_from(OAuthIdentity)) == 1
