"""The notification centre's pages: the list (empty state, links, marking read), the header
badge on every page, and the preferences tab of the account pages."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Notification, User
from hackops.tenancy import set_actor
from tests.factories import create_notification
from tests.people import person
from tests.web.test_account_pages import csrf_from, follow, submit, text_of, use_session

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ORIGIN = {"Origin": "http://testserver"}


def badge(page: httpx2.Response) -> str | None:
    """The header badge's count, or None when it is hidden."""
    match = re.search(
        r'id="notifications-badge"( hidden)?>.*?id="notifications-count">([^<]*)<', page.text
    )
    assert match, "no badge in the header"
    return None if match.group(1) else match.group(2)


async def unread_ids(session: AsyncSession, user: User) -> list[str]:
    await set_actor(session, user.id)
    rows = await session.scalars(
        select(Notification.id)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc())
    )
    return [str(i) for i in rows]


async def test_signed_out_goes_to_log_in(client: httpx2.AsyncClient) -> None:
    for path in ("/notifications", "/account/notifications"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next=%2F{path[1:].replace('/', '%2F')}"


async def test_the_empty_centre_speaks_to_people(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    _, token = await person(session)
    use_session(client, token)
    page = await client.get("/notifications")
    assert page.status_code == 200
    text = text_of(page)
    assert "No notifications yet." in text
    assert 'href="/account/notifications"' in page.text
    assert "Mark all as read" not in text
    assert badge(page) is None
    unread = await client.get("/notifications?unread=true")
    assert "Nothing unread: you are all caught up." in text_of(unread)


async def test_the_list_links_marks_read_and_the_badge_follows(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    ada, token = await person(session)
    await create_notification(
        session,
        ada,
        title="Grace joined Byte Club",
        body="Your team has 3 members.",
        category="team",
        link="/orgs/acme/events/hack/teams",
        created_at=T0,
    )
    await create_notification(
        session, ada, title="A hostile link", link="javascript:alert(1)", created_at=T0
    )
    await create_notification(
        session, ada, title="Room change", category="announcements", created_at=T0 + timedelta(1)
    )
    use_session(client, token)
    page = await client.get("/notifications")
    text = text_of(page)
    assert badge(page) == "3"
    assert text.index("Room change") < text.index("Grace joined Byte Club")
    assert 'href="/orgs/acme/events/hack/teams" class="notification-link"' in page.text
    assert "javascript:" not in page.text
    assert "Team activity" in text
    assert "Your team has 3 members." in text
    assert text.count("Mark as read") == 3
    assert re.search(r'<script src="[^"]*/static/notifications.js\?v=[^"]+" defer>', page.text)

    newest = (await unread_ids(session, ada))[0]
    marked = await submit(
        client, "/notifications", f"/notifications/{newest}/read", back="/notifications?unread=true"
    )
    assert marked.headers["location"] == "/notifications?unread=true"
    after = await follow(client, marked)
    assert "Marked as read." in text_of(after)
    assert "Room change" not in text_of(after)  # the unread tab
    assert badge(after) == "2"
    assert badge(await client.get("/account")) == "2"  # on every page


async def test_mark_all_marks_what_the_page_showed(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    ada, token = await person(session)
    for n in range(3):
        await create_notification(session, ada, title=f"Old {n}", created_at=T0)
    use_session(client, token)
    page = await client.get("/notifications")
    up_to = re.search(r'name="up_to" value="([^"]+)"', page.text)
    assert up_to
    token_field = await csrf_from(client, "/notifications")
    # a notification arriving after the page was drawn is not marked unseen
    await create_notification(session, ada, title="Arrived later", created_at=T0 + timedelta(1))
    done = await client.post(
        "/notifications/read-all",
        data={"csrf_token": token_field, "up_to": up_to.group(1), "back": "/notifications"},
        headers=ORIGIN,
    )
    after = await follow(client, done)
    assert "Marked 3 notifications as read." in text_of(after)
    assert badge(after) == "1"
    assert len(await unread_ids(session, ada)) == 1

    everything = await client.post(
        "/notifications/read-all",
        data={"csrf_token": token_field, "back": "https://elsewhere.example/"},
        headers=ORIGIN,
    )
    assert everything.headers["location"] == "/notifications"  # never elsewhere
    assert "Marked 1 notification as read." in text_of(await follow(client, everything))
    nothing = await client.post(
        "/notifications/read-all", data={"csrf_token": token_field}, headers=ORIGIN
    )
    assert "Nothing was unread." in text_of(await follow(client, nothing))


async def test_bob_cannot_mark_adas_from_a_page(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    ada, _ = await person(session)
    _, bob_token = await person(session)
    note = await create_notification(session, ada, title="For Ada")
    use_session(client, bob_token)
    page = await client.get("/notifications")
    assert "For Ada" not in page.text
    refused = await submit(client, "/account", f"/notifications/{note.id}/read")
    assert "There is no such notification among yours." in text_of(await follow(client, refused))
    assert await unread_ids(session, ada) == [str(note.id)]


async def test_a_stale_page_link_goes_to_the_newest(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    _, token = await person(session)
    use_session(client, token)
    response = await client.get("/notifications?cursor=garbage")
    assert response.headers["location"] == "/notifications"
    assert "no longer exists" in text_of(await follow(client, response))


async def test_pages_of_the_centre(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    ada, token = await person(session)
    for n in range(25):
        await create_notification(session, ada, title=f"Note {n:02}", created_at=T0 + timedelta(n))
    use_session(client, token)
    first = await client.get("/notifications")
    assert badge(first) == "25"
    titles = re.findall(r"<strong>(Note \d+)</strong>", first.text)
    assert titles == [f"Note {n:02}" for n in range(24, 4, -1)]
    older = re.search(r'href="(\?cursor=[^"]+)">Older', first.text)
    assert older
    second = await client.get("/notifications" + html.unescape(older.group(1)))
    assert re.findall(r"<strong>(Note \d+)</strong>", second.text) == [
        f"Note {n:02}" for n in range(4, -1, -1)
    ]
    assert "Older" not in second.text
    assert "Newest" in second.text


async def test_preferences_page_saves_and_refuses_clearly(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    _, token = await person(session)
    use_session(client, token)
    account = await client.get("/account")
    assert 'href="/account/notifications"' in account.text
    page = await client.get("/account/notifications")
    text = text_of(page)
    assert "Always on" in text
    assert "Registrations" in text
    assert 'name="registration.email"' not in page.text  # shown, not changeable
    assert 'name="team.digest"' in page.text
    assert 'name="judging.digest"' not in page.text
    assert 'name="team.email" checked' in page.text

    # every changeable category sent as the browser sends it: only ticked boxes
    ticked = {
        "team.in_app": "on",
        "team.email": "on",
        "team.digest": "on",
        "submission.in_app": "on",
        "submission.email": "on",
        "judging.in_app": "on",
        "results.email": "on",
    }
    saved = await submit(client, "/account/notifications", **ticked)
    after = await follow(client, saved)
    assert "Your notification preferences are saved." in text_of(after)
    assert 'name="team.digest" checked' in after.text
    assert 'name="judging.email">' in after.text  # not ticked: off
    prefs = await client.get(
        "/api/v1/me/notification-preferences", headers={"Authorization": f"Bearer {token}"}
    )
    shown = {item["category"]: item for item in prefs.json()["categories"]}
    assert (shown["team"]["digest"], shown["judging"]["email"]) == (True, False)
    assert (shown["results"]["in_app"], shown["results"]["email"]) == (False, True)
    assert shown["announcements"]["in_app"] is False  # nothing ticked for it

    refused = await submit(
        client, "/account/notifications", **{"team.in_app": "on", "team.digest": "on"}
    )
    assert refused.status_code == 422
    assert "The daily digest comes by email" in text_of(refused)
    assert 'id="pref-team" aria-describedby="pref-team-error"' in refused.text
    assert 'name="team.digest" checked' in refused.text  # the input comes back
