"""The Announcements tab of the event admin and what participants read, through the pages."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.web.eventkit import Moment
from tests.announcements.helpers import Crowd, body, build_crowd, dispatch, outbox, told
from tests.web.test_account_pages import follow, submit, text_of, use_session

FORM = {"channel_in_app": "on", "channel_email": "on"}


def tab(crowd: Crowd) -> str:
    return f"/orgs/{crowd.scene.org.slug}/events/{crowd.scene.event.slug}/admin/announcements"


def public(crowd: Crowd) -> str:
    return f"/orgs/{crowd.scene.org.slug}/events/{crowd.scene.event.slug}"


def inner(response: httpx2.Response, element_id: str, end: str = "</") -> str:
    match = re.search(rf'id="{element_id}">(.*?){end}', response.text, re.S)
    assert match, f"no #{element_id} on the page"
    return match.group(1)


async def test_the_tab_previews_exactly_what_is_then_sent(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    use_session(client, crowd.scene.organizer_token)
    page = await client.get(tab(crowd))
    assert page.status_code == 200
    assert 'aria-current="page">Announcements</a>' in page.text
    assert "Asia/Kolkata, now UTC+05:30" in page.text
    fields = {
        **FORM,
        "title": "Dinner",
        "body": "Dinner is in **Hall B** at 19:00.\n\n1. bring your badge",
        "audience": "checked_in",
    }
    shown = await submit(client, tab(crowd), intent="preview", **fields)
    assert shown.status_code == 200, shown.text
    preview_html = inner(shown, "preview-html", "</div>")
    assert preview_html == (
        "<p>Dinner is in <strong>Hall B</strong> at 19:00.</p>\n"
        "<ol>\n<li>bring your badge</li>\n</ol>\n"
    )
    assert html.unescape(inner(shown, "preview-subject")) == f"{crowd.scene.event.name}: Dinner"
    preview_text = html.unescape(inner(shown, "preview-text"))
    assert "1 person is in this audience now" in shown.text
    assert "No announcements yet." in shown.text  # a preview saves nothing
    assert await outbox(session, "announcement.sent") == []

    sent = await submit(client, tab(crowd), intent="send", **fields)
    one = await follow(client, sent)
    assert "is on its way" in text_of(one)
    assert inner(one, "preview-html", "</div>") == preview_html
    await dispatch(session)
    [event] = await outbox(session, "announcement.sent")
    [note] = await told(session, event.id)
    assert (note.title, note.body) == ("Dinner", preview_text)
    assert note.user_id == crowd.people["checked_in"].id
    listed = await client.get(tab(crowd))
    assert re.search(r"<td>1</td>\s*<td>1 \(0\)</td>\s*<td>0 / 1</td>", listed.text)


async def test_hostile_input_comes_back_on_the_form_escaped(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    use_session(client, crowd.scene.organizer_token)
    refused = await submit(
        client,
        tab(crowd),
        intent="send",
        **FORM,
        title="<b>Hi</b>",
        body="<script>alert(1)</script>",
        audience="registered",
    )
    assert refused.status_code == 422
    assert "<script>alert(1)" not in refused.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in refused.text  # kept in the textarea
    page = text_of(refused)
    assert "The message is only HTML, which is never sent" in page
    assert "The title is plain text: remove the HTML tag <b>." in page
    nothing = await submit(
        client, tab(crowd), intent="send", title="Hi", body="x", audience="waitlisted"
    )
    assert nothing.status_code == 422
    assert "Choose at least one channel" in text_of(nothing)
    track = await submit(
        client, tab(crowd), intent="preview", **FORM, title="Hi", body="x", audience="track:nope"
    )
    assert track.status_code == 422
    assert await outbox(session, "announcement.sent") == []


async def test_scheduling_and_cancelling_from_the_pages(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    use_session(client, crowd.scene.organizer_token)
    day = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    scheduled = await submit(
        client,
        tab(crowd),
        intent="send",
        **FORM,
        title="Breakfast",
        body="Breakfast at 8.",
        audience="registered",
        send_at=f"{day}T09:30",
    )
    one = await follow(client, scheduled)
    at = Moment(datetime.fromisoformat(f"{day}T09:30+05:30"), ZoneInfo("Asia/Kolkata"))
    assert f"“Breakfast” will go out on {at}." in text_of(one)  # the event's clock
    assert f"Goes out on <strong>{at.__html__()}</strong>" in one.text
    url = str(one.url.path)
    cancelled = await follow(client, await submit(client, url, url + "/cancel"))
    assert "“Breakfast” is cancelled; it will not go out." in text_of(cancelled)
    assert 'id="announcement-status">cancelled<' in cancelled.text

    saved = await submit(
        client, tab(crowd), intent="draft", **FORM, title="Later", body="Soon.", audience="mentors"
    )
    draft = await follow(client, saved)
    assert "Draft “Later” saved." in text_of(draft)
    path = str(draft.url.path)
    past = await submit(client, path, path + "/send", send_at="2001-01-01T10:00")
    assert past.status_code == 422
    assert "has already passed in Asia/Kolkata" in text_of(past)
    sent = await follow(client, await submit(client, path, path + "/send", send_at=""))
    assert "“Later” is sent." in text_of(sent)
    assert len(await outbox(session, "announcement.sent")) == 1


async def test_the_reminder_switches_are_saved_from_the_tab(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    use_session(client, crowd.scene.organizer_token)
    saved = await submit(
        client,
        tab(crowd),
        tab(crowd) + "/reminders",
        submissions_closing="on",
        judging_daily="on",
        judging_hour="17",
    )
    page = await follow(client, saved)
    assert "Reminders saved." in text_of(page)
    got = await client.get(crowd.scene.base + "/reminders", headers=crowd.organizer)
    assert got.json() == {
        "registration_closing": False,
        "submissions_closing": True,
        "judging_daily": True,
        "judging_hour": 17,
    }
    assert '<option value="17" selected>17:00</option>' in page.text


async def test_participants_read_their_announcements_on_the_event_pages(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    everyone = await client.post(
        crowd.base, json=body(title="Welcome", body="See you in _Hall A_."), headers=crowd.organizer
    )
    mentors = await client.post(
        crowd.base, json=body("mentors", title="Mentors only"), headers=crowd.organizer
    )
    await dispatch(session)
    use_session(client, crowd.tokens["registered"])
    event_page = await client.get(public(crowd))
    assert 'id="event-announcements"' in event_page.text
    assert "<p>See you in <em>Hall A</em>.</p>" in event_page.text
    assert "Mentors only" not in event_page.text
    listed = await client.get(public(crowd) + "/announcements")
    assert "Welcome" in listed.text
    assert "Mentors only" not in listed.text
    [note] = [
        n
        for n in await told(session, (await outbox(session, "announcement.sent"))[0].id)
        if n.user_id == crowd.people["registered"].id
    ]
    linked = await client.get(note.link)
    assert linked.status_code == 200
    assert "<p>See you in <em>Hall A</em>.</p>" in linked.text
    hidden = await client.get(public(crowd) + f"/announcements/{mentors.json()['id']}")
    assert hidden.status_code == 404
    assert (await client.get(tab(crowd))).status_code == 404
    use_session(client, crowd.tokens["outsider"])
    assert (
        "No announcements for you yet." in (await client.get(public(crowd) + "/announcements")).text
    )
    assert 'id="event-announcements"' not in (await client.get(public(crowd))).text
    use_session(client, crowd.tokens["mentor"])
    assert (await client.get(tab(crowd))).status_code == 403
    assert everyone.status_code == 201
