"""Notification preferences: read and changed through the API (per category and channel, the
digest), transactional categories refused clearly, and `deliver` doing what they say."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Notification, NotificationDigestItem, OutboundEmail
from hackops.notifications.categories import CATEGORIES
from hackops.notifications.service import Message, deliver
from tests.accounts.helpers import bearer
from tests.factories import create_notification_preference
from tests.people import person

PREFS = "/api/v1/me/notification-preferences"


def by_key(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["category"]: item for item in body["categories"]}


async def test_defaults_then_changes(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    _, token = await person(session)
    auth = bearer(token)
    shown = by_key((await client.get(PREFS, headers=auth)).json())
    assert list(shown) == list(CATEGORIES)
    assert shown["registration"] == {
        "category": "registration",
        "label": "Registrations",
        "description": CATEGORIES["registration"].description,
        "transactional": True,
        "digest_allowed": False,
        "in_app": True,
        "email": True,
        "digest": False,
    }
    assert shown["team"]["digest_allowed"] is True
    assert all(item["in_app"] and item["email"] and not item["digest"] for item in shown.values())

    changed = await client.put(
        PREFS,
        json={
            "categories": [
                {"category": "team", "in_app": True, "email": True, "digest": True},
                {"category": "announcements", "in_app": True, "email": False},
                {"category": "results", "in_app": False, "email": True},
            ]
        },
        headers=auth,
    )
    assert changed.status_code == 200, changed.text
    after = by_key(changed.json())
    assert (after["team"]["email"], after["team"]["digest"]) == (True, True)
    assert (after["announcements"]["in_app"], after["announcements"]["email"]) == (True, False)
    assert (after["results"]["in_app"], after["results"]["email"]) == (False, True)
    assert after["submission"] == shown["submission"]  # not sent: unchanged
    assert by_key((await client.get(PREFS, headers=auth)).json()) == after

    # a second change of one category leaves the others as they were
    again = await client.put(
        PREFS,
        json={"categories": [{"category": "team", "in_app": False, "email": True}]},
        headers=auth,
    )
    assert by_key(again.json())["team"] == {**after["team"], "in_app": False, "digest": False}
    assert by_key(again.json())["results"] == after["results"]


@pytest.mark.parametrize(
    ("item", "code", "says"),
    [
        (
            {"category": "registration", "in_app": True, "email": False},
            "category_required",
            "Registrations cannot be turned off",
        ),
        ({"category": "system", "in_app": False, "email": True}, "category_required", "cannot"),
        (
            {"category": "judging", "in_app": True, "email": True, "digest": True},
            "digest_not_available",
            "cannot be gathered into a daily digest",
        ),
        (
            {"category": "team", "in_app": True, "email": False, "digest": True},
            "digest_needs_email",
            "turn email on",
        ),
        ({"category": "weather", "in_app": True, "email": True}, "unknown_category", "no such"),
    ],
)
async def test_refusals_are_clear_and_change_nothing(
    client: httpx2.AsyncClient, session: AsyncSession, item: dict[str, Any], code: str, says: str
) -> None:
    _, token = await person(session)
    auth = bearer(token)
    before = (await client.get(PREFS, headers=auth)).json()
    body = {"categories": [{"category": "results", "in_app": False, "email": False}, item]}
    refused = await client.put(PREFS, json=body, headers=auth)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == code
    assert says in error["message"]
    assert (await client.get(PREFS, headers=auth)).json() == before  # all or nothing


async def test_malformed_bodies_are_422(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    _, token = await person(session)
    for body in (
        {"categories": []},
        {"categories": [{"category": "team", "in_app": True}]},
        {"categories": [{"category": "team", "in_app": True, "email": True, "extra": 1}]},
        {
            "categories": [
                {"category": "team", "in_app": True, "email": True},
                {"category": "team", "in_app": False, "email": True},
            ]
        },
    ):
        response = await client.put(PREFS, json=body, headers=bearer(token))
        assert response.status_code == 422, body


async def test_a_person_changes_only_their_own(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    _ada, ada_token = await person(session)
    _, bob_token = await person(session)
    await client.put(
        PREFS,
        json={"categories": [{"category": "team", "in_app": False, "email": False}]},
        headers=bearer(bob_token),
    )
    ada_team = by_key((await client.get(PREFS, headers=bearer(ada_token))).json())["team"]
    assert (ada_team["in_app"], ada_team["email"]) == (True, True)


async def test_deliver_follows_each_persons_choice(session: AsyncSession) -> None:
    default, _ = await person(session, verified=True)
    no_app, _ = await person(session, verified=True)
    digest, _ = await person(session, verified=True)
    no_mail, _ = await person(session, verified=True)
    unconfirmed, _ = await person(session)
    await create_notification_preference(session, no_app, category="team", channel="in_app")
    await create_notification_preference(
        session, digest, category="team", channel="email", enabled=True, digest=True
    )
    await create_notification_preference(session, no_mail, category="team", channel="email")
    # a transactional category ignores a stored "off" (written around the API's refusal)
    await create_notification_preference(session, no_mail, category="registration", channel="email")
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    people = [default.id, no_app.id, digest.id, no_mail.id, unconfirmed.id]

    team = await deliver(
        session,
        org_id=None,
        user_ids=people,
        message=Message(category="team", title="Grace joined Byte Club", link="/teams"),
        dedupe_key="k-team",
    )
    assert set(team.in_app) == {default.id, digest.id, no_mail.id, unconfirmed.id}
    assert set(team.email) == {default.id, no_app.id}
    assert team.digest == [digest.id]
    held = list(await session.scalars(select(NotificationDigestItem)))
    assert [(h.user_id, h.category, h.title, h.dedupe_key) for h in held] == [
        (digest.id, "team", "Grace joined Byte Club", "k-team")
    ]

    confirmed = await deliver(
        session,
        org_id=None,
        user_ids=people,
        message=Message(category="registration", title="You are registered"),
        dedupe_key="k-reg",
    )
    assert set(confirmed.in_app) == set(people)
    assert set(confirmed.email) == set(people) - {unconfirmed.id}

    # a second fan-out of the same key adds nothing anywhere
    again = await deliver(
        session,
        org_id=None,
        user_ids=people,
        message=Message(category="team", title="Grace joined Byte Club"),
        dedupe_key="k-team",
    )
    assert (again.in_app, again.email) == ([], [])
    assert len(list(await session.scalars(select(NotificationDigestItem)))) == 1
    rows = await session.scalars(select(Notification).where(Notification.dedupe_key == "k-team"))
    assert len(list(rows)) == 4
    mails = await session.scalars(
        select(OutboundEmail.dedupe_key).where(OutboundEmail.dedupe_key.like("k-team:%"))
    )
    assert sorted(mails) == sorted(f"k-team:{uid}" for uid in (default.id, no_app.id))
