"""Empty and hostile announcements get a clear error written for people, and nothing is sent;
the organization's hourly budget and its plan's monthly cap refuse with what was reached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Organization
from tests.accounts.helpers import bearer
from tests.announcements.helpers import body, build_crowd, outbox
from tests.factories import create_membership, create_track
from tests.people import person
from tests.registrations.helpers import as_admin

HOSTILE: list[tuple[str, dict[str, Any], str]] = [
    ("empty title", {"title": ""}, "Write a title"),
    ("blank title", {"title": "   \n  "}, "Write a title"),
    ("long title", {"title": "x" * 201}, "Keep the title to 200 characters; this one has 201."),
    ("tag in title", {"title": "Hi <script>x</script>"}, "remove the HTML tag <script>"),
    ("control char", {"title": "Hi\x00there"}, "control or direction-changing characters"),
    ("bidi override", {"title": "Invoice \u202egnp.exe"}, "direction-changing characters"),
    ("invisible title", {"title": "\u200b\u200b"}, "Write a title"),
    ("invisible body", {"body": "\u200b \u2060"}, "Write the message: it cannot be empty."),
    ("empty body", {"body": ""}, "Write the message: it cannot be empty."),
    ("blank body", {"body": " \n\t "}, "Write the message: it cannot be empty."),
    ("script only", {"body": "<script>alert(1)</script>"}, "The message is only HTML"),
    ("markup only", {"body": "<div><img src=x onerror=alert(1)></div>"}, "only HTML"),
    ("comment only", {"body": "<!-- nothing -->"}, "only HTML"),
    ("script inside", {"body": "Hello <script>alert(1)</script>"}, "HTML such as <script>"),
    ("inline tag", {"body": "Hello <b>world</b>"}, "HTML such as <b> is not allowed"),
    ("100k body", {"body": "a" * 100_000}, "too long: 100,000 characters, at most 20,000"),
    ("nothing shown", {"body": "---"}, "The message has no text to show"),
    ("unknown audience", {"audience": "everyone"}, "Unknown audience 'everyone'; choose one of"),
    ("track without id", {"audience": "track"}, "Choose the track whose teams should hear this"),
    ("id without track", {"track_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12}, "track_id only"),
    ("no channel", {"channels": []}, "Choose at least one channel"),
    ("unknown channel", {"channels": ["sms"]}, "Channels must be one of in_app or email"),
    ("at without time", {"deliver": "at"}, "Say when to send it (send_at)"),
    ("time without at", {"send_at": "2031-01-01T10:00:00Z"}, "send_at only goes with"),
    ("unknown field", {"priority": "high"}, "“priority” is not something this accepts"),
]


@pytest.mark.parametrize(("case", "change", "message"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_or_empty_input_gets_a_clear_error(
    client: httpx2.AsyncClient,
    session: AsyncSession,
    case: str,
    change: dict[str, Any],
    message: str,
) -> None:
    crowd = await build_crowd(session)
    response = await client.post(crowd.base, json=body(**change), headers=crowd.organizer)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(message in d["message"] for d in error["details"]), error["details"]
    listed = await client.get(crowd.base, headers=crowd.organizer)
    assert listed.json() == []
    assert await outbox(session, "announcement.sent") == []


async def test_a_track_must_be_one_of_the_events(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    elsewhere = await create_track(session, crowd.other_event, name="Elsewhere")
    response = await client.post(
        crowd.base, json=body("track", track_id=str(elsewhere.id)), headers=crowd.organizer
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_track"
    assert response.json()["error"]["message"] == (
        "That track is not one of this event's tracks; choose one of its tracks."
    )


async def test_a_send_time_in_the_past_is_refused_in_the_events_zone(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    past = (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    response = await client.post(
        crowd.base,
        json=body(deliver="at", send_at=past.isoformat()),  # naive: Asia/Kolkata's wall clock
        headers=crowd.organizer,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_send_at"
    assert "(UTC+05:30) has already passed in Asia/Kolkata" in error["message"]
    too_far = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    response = await client.post(
        crowd.base, json=body(deliver="at", send_at=too_far), headers=crowd.organizer
    )
    assert response.json()["error"]["message"] == (
        "An announcement can be scheduled at most a year ahead."
    )


async def test_the_plan_caps_announcements_over_thirty_days(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    await as_admin(session)
    await session.execute(
        update(Organization)
        .where(Organization.id == crowd.scene.org.id)
        .values(max_announcements_per_month=2)
    )
    first = await client.post(crowd.base, json=body(), headers=crowd.organizer)
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    second = await client.post(
        crowd.base, json=body(deliver="at", send_at=later), headers=crowd.organizer
    )
    assert (first.status_code, second.status_code) == (201, 201)
    draft = await client.post(crowd.base, json=body(deliver="draft"), headers=crowd.organizer)
    assert draft.status_code == 201  # drafts cost nothing
    refused = await client.post(crowd.base, json=body(), headers=crowd.organizer)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "announcement_cap_reached"
    assert error["message"].startswith(
        "Your organization's plan allows 2 announcements in any 30 days, and they are used up;"
        " the next one can go out on "
    )
    assert error["details"]["limit"] == 2
    assert error["details"]["used"] == 2
    one = f"{crowd.base}/{draft.json()['id']}"
    assert (await client.post(one + "/send", headers=crowd.organizer)).status_code == 409
    # cancelling the scheduled one gives its place back
    cancel = await client.post(
        f"{crowd.base}/{second.json()['id']}/cancel", headers=crowd.organizer
    )
    assert cancel.status_code == 200, cancel.text
    assert (await client.post(one + "/send", headers=crowd.organizer)).status_code == 200
    assert len(await outbox(session, "announcement.sent")) == 2


async def test_the_hourly_budget_refuses_with_a_retry_time(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    crowd = await build_crowd(session)
    for _ in range(10):
        sent = await client.post(crowd.base, json=body(), headers=crowd.organizer)
        assert sent.status_code == 201, sent.text
    refused = await client.post(crowd.base, json=body(), headers=crowd.organizer)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 3000
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"] == (
        "Your organization has sent or scheduled 10 announcements in the last hour; the next"
        " one can go out in about 60 minutes."
    )
    # the budget is the organization's: another organizer of it is refused too
    colleague, token = await person(session, verified=True)
    await create_membership(session, crowd.scene.org, colleague, role="organizer")
    again = await client.post(crowd.base, json=body(), headers=bearer(token))
    assert again.status_code == 429
    assert len(await outbox(session, "announcement.sent")) == 10
