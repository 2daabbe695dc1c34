"""One-click unsubscribe: the signed link works signed out and without a CSRF token (RFC 8058
one-click from a mail client), turns off only its category's email for its person, and refuses
a transactional category or a link that is not ours with a clear page."""

from __future__ import annotations

import html
import uuid

import httpx2
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.config import Settings
from hackops.models import AuditEntry, Channel, NotificationPreference, User
from hackops.notifications.service import choices
from hackops.notifications.unsubscribe import make_token, unsubscribe_url
from hackops.tenancy import set_actor
from tests.people import person

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def path_of(settings: Settings, user: User, category: str) -> str:
    url = unsubscribe_url(settings, user.id, category)
    assert url.startswith(settings.base_url.rstrip("/") + "/unsubscribe/")
    return url.removeprefix(settings.base_url.rstrip("/"))


async def email_on(session: AsyncSession, user: User, category: str) -> bool:
    await set_actor(session, user.id)
    return (await choices(session, [user.id], category))[user.id].email


async def test_one_click_from_a_mail_client_turns_off_that_category_only(
    client: httpx2.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    ada, _ = await person(session, verified=True)
    link = path_of(settings, ada, "announcements")

    page = await client.get(link)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Stop these emails?" in text
    assert "announcements" in text
    assert "Log in" in text  # signed out, and nobody asked to sign in

    # what a mail client sends (RFC 8058): no cookie, no CSRF token, no Origin
    done = await client.post(link, data=ONE_CLICK)
    assert done.status_code == 200, done.text
    assert "You are unsubscribed" in done.text
    assert await email_on(session, ada, "announcements") is False
    for other in ("team", "results", "reminders"):
        assert await email_on(session, ada, other) is True
    rows = await session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == ada.id)
    )
    assert [(r.category, r.channel, r.enabled) for r in rows] == [
        ("announcements", Channel.EMAIL, False)
    ]
    audit = await session.scalar(
        select(AuditEntry.action).where(AuditEntry.actor_id == ada.id).order_by(AuditEntry.id)
    )
    assert audit == "notification_preferences.unsubscribed"

    again = await client.post(link, data=ONE_CLICK)  # a second click changes nothing more
    assert again.status_code == 200
    assert await email_on(session, ada, "announcements") is False


async def test_the_link_is_for_its_person_only(
    client: httpx2.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    ada, _ = await person(session, verified=True)
    bob, _ = await person(session, verified=True)
    await client.post(path_of(settings, ada, "team"), data=ONE_CLICK)
    assert await email_on(session, ada, "team") is False
    assert await email_on(session, bob, "team") is True


async def test_a_digest_choice_is_turned_off_too(
    client: httpx2.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    ada, token = await person(session, verified=True)
    await client.put(
        "/api/v1/me/notification-preferences",
        json={"categories": [{"category": "team", "in_app": True, "email": True, "digest": True}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    await client.post(path_of(settings, ada, "team"), data=ONE_CLICK)
    await set_actor(session, ada.id)
    choice = (await choices(session, [ada.id], "team"))[ada.id]
    assert (choice.in_app, choice.email, choice.digest) == (True, False, False)


async def test_a_transactional_category_cannot_be_unsubscribed(
    client: httpx2.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    ada, _ = await person(session, verified=True)
    link = path_of(settings, ada, "registration")
    page = await client.get(link)
    assert page.status_code == 200
    assert "cannot be turned off" in html.unescape(page.text)
    assert "<button" not in page.text.split('id="main"')[1]  # no unsubscribe button
    refused = await client.post(link, data=ONE_CLICK)
    assert refused.status_code == 409
    assert "cannot be turned off" in html.unescape(refused.text)
    assert await email_on(session, ada, "registration") is True
    rows = await session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == ada.id)
    )
    assert list(rows) == []


async def test_a_link_that_is_not_ours_is_a_clear_404(
    client: httpx2.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    ada, _ = await person(session, verified=True)
    good = make_token(settings, ada.id, "team")
    forged = make_token(
        settings.model_copy(update={"secret_key": SecretStr("x" * 40)}), ada.id, "team"
    )
    for token in (
        forged,
        good[:-3],  # cut short
        make_token(settings, uuid.uuid4(), "team"),  # no such account
        make_token(settings, ada.id, "weather"),  # no such category
        "x" * 600,
    ):
        for method in ("GET", "POST"):
            response = await client.request(method, f"/unsubscribe/{token}", data=ONE_CLICK)
            assert response.status_code == 404, (method, token)
            assert "Page not found" in response.text
    assert await email_on(session, ada, "team") is True
