"""The notification centre's API: keyset pages with neither repeats nor gaps, the unread count,
marking read (one, all, all up to a cursor), and a person only ever reaching their own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import Notification, User
from hackops.tenancy import set_actor
from tests.accounts.helpers import bearer
from tests.factories import create_notification
from tests.helpers import count_queries
from tests.people import person

BASE = "/api/v1/me/notifications"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def notes(session: AsyncSession, user: User, count: int, *, ties: int = 1) -> list[uuid.UUID]:
    """`count` notifications of `user`, `ties` at each moment (as one fan-out writes them), the
    newest first in the returned ids (the order the API must list them in)."""
    made: list[Notification] = []
    for n in range(count):
        made.append(
            await create_notification(
                session, user, title=f"Note {n}", created_at=T0 + timedelta(minutes=n // ties)
            )
        )
    made.sort(key=lambda row: (row.created_at, row.id), reverse=True)
    return [row.id for row in made]


async def walk(
    client: httpx2.AsyncClient, token: str, *, limit: int, unread_only: bool = False
) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int | bool] = {"limit": limit, "unread_only": unread_only}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(BASE, params=params, headers=bearer(token))
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert body["items"][-1]["cursor"] == cursor


async def test_pages_cover_every_notification_once_newest_first(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    ada, token = await person(session)
    expected = [str(i) for i in await notes(session, ada, 47, ties=3)]  # ties share a moment
    pages = await walk(client, token, limit=10)
    assert [len(page) for page in pages] == [10, 10, 10, 10, 7]
    assert [i for page in pages for i in page] == expected

    # a notification arriving between two page loads does not shift the next page
    first = await client.get(BASE, params={"limit": 10}, headers=bearer(token))
    await create_notification(session, ada, title="Newest", created_at=T0 + timedelta(days=1))
    second = await client.get(
        BASE, params={"limit": 10, "cursor": first.json()["next_cursor"]}, headers=bearer(token)
    )
    assert [item["id"] for item in second.json()["items"]] == expected[10:20]


async def test_an_item_says_what_and_where(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    ada, token = await person(session)
    note = await create_notification(
        session,
        ada,
        category="team",
        title="Grace joined Byte Club",
        body="Your team has 3 members.",
        link="/orgs/acme/events/hack/teams",
    )
    items = (await client.get(BASE, headers=bearer(token))).json()["items"]
    assert items == [
        {
            "id": str(note.id),
            "category": "team",
            "title": "Grace joined Byte Club",
            "body": "Your team has 3 members.",
            "link": "/orgs/acme/events/hack/teams",
            "created_at": note.created_at.isoformat().replace("+00:00", "Z"),
            "read_at": None,
            "cursor": items[0]["cursor"],
        }
    ]


async def test_unread_only_count_and_marking_read(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    ada, token = await person(session)
    ids = [str(i) for i in await notes(session, ada, 5)]
    auth = bearer(token)
    assert (await client.get(BASE + "/unread-count", headers=auth)).json() == {"unread": 5}

    read = await client.post(f"{BASE}/{ids[1]}/read", headers=auth)
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    again = await client.post(f"{BASE}/{ids[1]}/read", headers=auth)
    assert again.json()["read_at"] == read.json()["read_at"]  # already read: unchanged
    assert (await client.get(BASE + "/unread-count", headers=auth)).json() == {"unread": 4}
    unread = await walk(client, token, limit=2, unread_only=True)
    assert [i for page in unread for i in page] == [ids[0], ids[2], ids[3], ids[4]]

    # up to the third newest: it and the two older ones; the newest stays unread (the second
    # was read already)
    listed = (await client.get(BASE, headers=auth)).json()["items"]
    marked = await client.post(
        BASE + "/read-all", json={"up_to": listed[2]["cursor"]}, headers=auth
    )
    assert marked.json() == {"marked": 3, "unread": 1}
    still = (await client.get(BASE, params={"unread_only": True}, headers=auth)).json()
    assert [item["id"] for item in still["items"]] == [ids[0]]

    everything = await client.post(BASE + "/read-all", headers=auth)
    assert everything.json() == {"marked": 1, "unread": 0}
    assert (await client.post(BASE + "/read-all", json={}, headers=auth)).json() == {
        "marked": 0,
        "unread": 0,
    }


async def test_bob_never_sees_nor_marks_adas(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    ada, ada_token = await person(session)
    bob, bob_token = await person(session)
    _admin, admin_token = await person(session, is_platform_admin=True)
    adas = [str(i) for i in await notes(session, ada, 3)]
    bobs = [str(i) for i in await notes(session, bob, 2)]

    for token, own in ((bob_token, bobs), (admin_token, []), (ada_token, adas)):
        listed = await client.get(BASE, headers=bearer(token))
        assert [item["id"] for item in listed.json()["items"]] == own
    assert (await client.get(BASE + "/unread-count", headers=bearer(bob_token))).json() == {
        "unread": 2
    }

    for token in (bob_token, admin_token):  # a platform admin is a person here too
        refused = await client.post(f"{BASE}/{adas[0]}/read", headers=bearer(token))
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "notification_not_found"
        # Ada's newest as a cursor reaches none of hers either
        ada_cursor = (await client.get(BASE, headers=bearer(ada_token))).json()["items"][0]
        marked = await client.post(
            BASE + "/read-all", json={"up_to": ada_cursor["cursor"]}, headers=bearer(token)
        )
        assert marked.status_code == 200
    await set_actor(session, ada.id)
    rows = await session.scalars(select(Notification.read_at).where(Notification.user_id == ada.id))
    assert list(rows) == [None, None, None]
    assert (await client.get(BASE + "/unread-count", headers=bearer(ada_token))).json() == {
        "unread": 3
    }


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"cursor": "MjAyNi0xMi0wMQ"}, "invalid_cursor"),  # a date, no id
        ({"limit": 0}, "validation_error"),
        ({"limit": 101}, "validation_error"),
        ({"unread_only": "perhaps"}, "validation_error"),
    ],
)
async def test_bad_pages_are_refused_clearly(
    client: httpx2.AsyncClient, session: AsyncSession, params: dict[str, object], code: str
) -> None:
    _, token = await person(session)
    response = await client.get(BASE, params=params, headers=bearer(token))  # type: ignore[arg-type]
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


async def test_bad_input_to_the_writes_is_a_clear_4xx(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    _, token = await person(session)
    auth = bearer(token)
    assert (await client.post(f"{BASE}/not-an-id/read", headers=auth)).status_code == 422
    assert (await client.post(f"{BASE}/{uuid.uuid4()}/read", headers=auth)).status_code == 404
    bad = await client.post(BASE + "/read-all", json={"up_to": "garbage"}, headers=auth)
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_cursor")
    extra = await client.post(BASE + "/read-all", json={"everything": True}, headers=auth)
    assert extra.status_code == 422


async def test_signed_out_is_refused(client: httpx2.AsyncClient) -> None:
    for method, path in (
        ("GET", BASE),
        ("GET", BASE + "/unread-count"),
        ("POST", BASE + "/read-all"),
        ("GET", "/api/v1/me/notification-preferences"),
    ):
        response = await client.request(method, path)
        assert response.status_code == 401, (method, path)


@pytest.mark.parametrize("count", [1, 20])
async def test_a_page_costs_the_same_for_1_or_20(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, count: int
) -> None:
    ada, token = await person(session)
    await notes(session, ada, count)
    with count_queries(connection) as queries:
        response = await client.get(BASE, params={"limit": 20}, headers=bearer(token))
    assert len(response.json()["items"]) == count
    # the request gate (token and its user, the actor); the page
    assert queries.count == 2, queries.statements
