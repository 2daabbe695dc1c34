"""Announcements through the API: each audience reaches exactly its people (never another
event's), the preview is what people read, the fan-out tells nobody twice, delivery figures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx2
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import (
    AnnouncementRecipient,
    Channel,
    Notification,
    OutboundEmail,
)
from hackops.outbox.tasks import fan_out
from tests.accounts.helpers import bearer
from tests.announcements.helpers import (
    EXPECTED,
    body,
    build_crowd,
    dispatch,
    mails,
    outbox,
    told,
)
from tests.factories import create_notification_preference, create_registration
from tests.helpers import count_queries
from tests.people import person


@pytest.mark.parametrize("audience", sorted(EXPECTED))
async def test_each_audience_reaches_exactly_its_people(
    client: httpx2.AsyncClient, session: AsyncSession, audience: str
) -> None:
    crowd = await build_crowd(session)
    extra = {"track_id": str(crowd.track.id)} if audience == "track" else {}
    sent = await client.post(crowd.base, json=body(audience, **extra), headers=crowd.organizer)
    assert sent.status_code == 201, sent.text
    out = sent.json()
    assert out["status"] == "sent"
    assert out["dispatched"] is False
    [event] = await outbox(session, "announcement.sent")
    assert event.payload == {
        "announcement_id": out["id"],
        "audience": audience,
        "channels": ["in_app", "email"],
    }
    assert event.event_id == crowd.scene.event.id

    assert await dispatch(session) == ["announcement.sent"]
    notified = crowd.names({n.user_id for n in await told(session, event.id)})
    assert notified == EXPECTED[audience]
    mailed = crowd.names({m.user_id for m in await mails(session, event.id) if m.user_id})
    assert mailed == EXPECTED[audience]
    recipients = await session.scalars(
        select(AnnouncementRecipient.user_id).where(
            AnnouncementRecipient.announcement_id == uuid.UUID(out["id"])
        )
    )
    assert crowd.names(set(recipients)) == EXPECTED[audience]

    got = (await client.get(f"{crowd.base}/{out['id']}", headers=crowd.organizer)).json()
    assert got["dispatched"] is True
    assert got["figures"]["recipients"] == len(EXPECTED[audience])


async def test_the_fan_out_tells_nobody_twice(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    sent = await client.post(crowd.base, json=body(), headers=crowd.organizer)
    [event] = await outbox(session, "announcement.sent")
    assert await fan_out(session, event.id) == "announcement.sent"
    # a run that could not see the mark (a worker killed after its commit) adds nothing
    event.dispatched_at = None
    await session.flush()
    assert await fan_out(session, event.id) == "announcement.sent"
    notes = await told(session, event.id)
    assert len(notes) == len({n.user_id for n in notes}) == len(EXPECTED["registered"])
    assert len(await mails(session, event.id)) == len(EXPECTED["registered"])
    got = (await client.get(f"{crowd.base}/{sent.json()['id']}", headers=crowd.organizer)).json()
    assert got["figures"]["recipients"] == len(EXPECTED["registered"])


async def test_the_preview_is_what_people_read(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    draft = await client.post(
        crowd.base,
        json=body("checked_in", deliver="draft", title="  Dinner   is served  "),
        headers=crowd.organizer,
    )
    assert draft.status_code == 201, draft.text
    announcement = draft.json()
    assert announcement["status"] == "draft"
    assert announcement["title"] == "Dinner is served"
    preview = await client.get(
        f"{crowd.base}/{announcement['id']}/preview", headers=crowd.organizer
    )
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    org, event = crowd.scene.org, crowd.scene.event
    link = f"/orgs/{org.slug}/events/{event.slug}/announcements/{announcement['id']}"
    assert shown == {
        "subject": f"{event.name}: Dinner is served",
        "title": "Dinner is served",
        # the notification and the mail's text part read without Markdown syntax
        "text": "The final pitches are in Hall B, not Hall A.\n\n• doors at 17:30",
        "html": (
            "<p>The final pitches are in <strong>Hall B</strong>, not Hall A.</p>\n"
            "<ul>\n<li>doors at 17:30</li>\n</ul>\n"
        ),
        "link": link,
        "audience": "checked_in",
        "audience_label": "People checked in at the venue",
        "channels": ["email", "in_app"],
        "recipients_now": 1,
    }
    assert await outbox(session, "announcement.sent") == []

    sent = await client.post(f"{crowd.base}/{announcement['id']}/send", headers=crowd.organizer)
    assert sent.status_code == 200, sent.text
    await dispatch(session)
    [event_row] = await outbox(session, "announcement.sent")
    [note] = await told(session, event_row.id)
    assert (note.user_id, note.title, note.body, note.link, note.category) == (
        crowd.people["checked_in"].id,
        shown["title"],
        shown["text"],
        shown["link"],
        "announcements",
    )
    [mail] = await mails(session, event_row.id)
    assert mail.subject == shown["subject"]
    assert mail.body_text is not None
    assert shown["text"] in mail.body_text
    assert shown["link"] in mail.body_text
    received = await client.get(f"{crowd.base}/received", headers=crowd.auth("checked_in"))
    assert [r["body_html"] for r in received.json()] == [shown["html"]]


async def test_channels_and_preferences_decide_how_people_are_told(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    # the waitlisted person turned announcement mail off
    await create_notification_preference(
        session, crowd.people["waitlisted"], category="announcements", channel=Channel.EMAIL
    )
    await client.post(
        crowd.base, json=body("waitlisted", channels=["email"]), headers=crowd.organizer
    )
    await client.post(
        crowd.base, json=body("mentors", channels=["in_app"]), headers=crowd.organizer
    )
    await dispatch(session)
    mail_only, in_app_only = await outbox(session, "announcement.sent")
    assert await told(session, mail_only.id) == []
    assert await mails(session, mail_only.id) == []  # the one recipient turned mail off
    assert [n.user_id for n in await told(session, in_app_only.id)] == [crowd.people["mentor"].id]
    assert await mails(session, in_app_only.id) == []


async def test_figures_count_deliveries_reads_and_mail_outcomes(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    sent = (await client.post(crowd.base, json=body(), headers=crowd.organizer)).json()
    draft = (
        await client.post(crowd.base, json=body(deliver="draft"), headers=crowd.organizer)
    ).json()
    await dispatch(session)
    [event] = await outbox(session, "announcement.sent")
    people = crowd.people
    read_by = [people["registered"].id, people["a_captain"].id]
    await session.execute(
        update(Notification)
        .where(Notification.outbox_event_id == event.id, Notification.user_id.in_(read_by))
        .values(read_at=datetime.now(UTC))
    )
    keys = [f"{event.id}:{people[n].id}" for n in ("c_captain", "c_member", "d_captain")]
    await session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.dedupe_key.in_(keys[:2]))
        .values(sent_at=datetime.now(UTC))
    )
    await session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.dedupe_key == keys[2])
        .values(last_error="smtp.example.com:25 answered 550 mailbox unavailable")
    )
    await session.flush()

    got = (await client.get(f"{crowd.base}/{sent['id']}", headers=crowd.organizer)).json()
    assert got["figures"] == {
        "recipients": 9,
        "in_app_delivered": 9,
        "in_app_read": 2,
        "mails_queued": 9,
        "mails_sent": 2,
        "mails_failed": 1,
    }
    listed = (await client.get(crowd.base, headers=crowd.organizer)).json()
    assert [(a["id"], a["figures"]) for a in listed] == [
        (draft["id"], None),
        (sent["id"], got["figures"]),
    ]


async def test_the_list_takes_as_many_queries_for_one_as_for_twenty(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    crowd = await build_crowd(session)

    async def queries() -> int:
        with count_queries(connection) as log:
            response = await client.get(crowd.base, headers=crowd.organizer)
        assert response.status_code == 200
        return log.count

    await client.post(crowd.base, json=body(), headers=crowd.organizer)
    await dispatch(session)
    one = await queries()
    await session.execute(text("SELECT set_config('hackops.platform_admin', '', true)"))
    for n in range(19):
        deliver = "now" if n < 8 else "draft"
        await client.post(crowd.base, json=body(deliver=deliver), headers=crowd.organizer)
    await dispatch(session)
    assert len((await client.get(crowd.base, headers=crowd.organizer)).json()) == 20
    assert await queries() == one


async def test_participants_read_what_was_meant_for_them(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    for audience, title in (("registered", "For everyone"), ("mentors", "For mentors")):
        await client.post(crowd.base, json=body(audience, title=title), headers=crowd.organizer)
    await client.post(
        crowd.base,
        json=body("track", title="For the track", track_id=str(crowd.track.id)),
        headers=crowd.organizer,
    )
    await client.post(
        crowd.base, json=body(title="Not yet", deliver="draft"), headers=crowd.organizer
    )
    await dispatch(session)

    async def titles(name: str) -> list[str]:
        response = await client.get(f"{crowd.base}/received", headers=crowd.auth(name))
        assert response.status_code == 200, response.text
        return sorted(r["title"] for r in response.json())

    assert await titles("registered") == ["For everyone"]
    assert await titles("c_member") == ["For everyone", "For the track"]
    assert await titles("mentor") == ["For mentors"]
    assert await titles("outsider") == []
    assert await titles("elsewhere_registered") == []
    everything = await client.get(f"{crowd.base}/received", headers=crowd.organizer)
    assert sorted(r["title"] for r in everything.json()) == [
        "For everyone",
        "For mentors",
        "For the track",
    ]
    # someone registering afterwards reads what everyone registered was told
    late, token = await person(session, verified=True)
    await create_registration(session, crowd.scene.event, late)
    response = await client.get(f"{crowd.base}/received", headers=bearer(token))
    assert [r["title"] for r in response.json()] == ["For everyone"]


async def test_only_organizers_reach_the_organizer_routes(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    draft = (
        await client.post(crowd.base, json=body(deliver="draft"), headers=crowd.organizer)
    ).json()
    for name, code in (("registered", 404), ("mentor", 403), ("outsider", 404)):
        headers = crowd.auth(name)
        assert (await client.get(crowd.base, headers=headers)).status_code == code
        assert (await client.post(crowd.base, json=body(), headers=headers)).status_code == code
        one = f"{crowd.base}/{draft['id']}"
        assert (await client.get(one + "/preview", headers=headers)).status_code == code
        assert (await client.post(one + "/send", headers=headers)).status_code == code
    assert await outbox(session, "announcement.sent") == []
    other = f"/api/v1/organizations/{crowd.scene.org.slug}/events/{crowd.other_event.slug}"
    response = await client.get(f"{other}/announcements/{draft['id']}", headers=crowd.organizer)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "announcement_not_found"


async def test_a_draft_is_edited_and_sent_once(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    draft = (
        await client.post(crowd.base, json=body(deliver="draft"), headers=crowd.organizer)
    ).json()
    one = f"{crowd.base}/{draft['id']}"
    edited = await client.patch(
        one,
        json={"title": "Room change, again", "body": "Hall C.", "audience": "mentors"},
        headers=crowd.organizer,
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["title"], edited.json()["audience"]) == ("Room change, again", "mentors")
    assert edited.json()["body_html"] == "<p>Hall C.</p>\n"
    assert (await client.post(one + "/send", headers=crowd.organizer)).status_code == 200
    again = await client.post(one + "/send", headers=crowd.organizer)
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "announcement_not_draft",
        "message": "This announcement is sent; only a draft can be changed, sent or scheduled.",
        "details": {"status": "sent"},
    }
    late_edit = await client.patch(
        one, json={"title": "x", "body": "y", "audience": "mentors"}, headers=crowd.organizer
    )
    assert late_edit.status_code == 409
    assert len(await outbox(session, "announcement.sent")) == 1
