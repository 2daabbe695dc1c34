"""An event's schedule through the API: organizers add, change and remove items (audited), the
agenda shows them with the event's own dates, bad input gets messages written for people, and
nobody else may change it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.events.schedule.service import upcoming_items
from hackops.models import Organization
from hackops.tenancy import forget_tenant, set_tenant
from tests.events.test_query_counts import same_cost
from tests.factories import create_event, create_schedule_item
from tests.helpers import frozen_time
from tests.people import Cast, build_cast
from tests.security.audit import EVENT, Recorder

# Saturday 12 December 2026, 08:00 UTC = 09:00 in Berlin (CET, UTC+01:00).
START = datetime(2026, 12, 12, 8, 0, tzinfo=UTC)
DATES = {
    "timezone": "Europe/Berlin",
    "registration_opens_at": START - timedelta(days=30),
    "registration_closes_at": START - timedelta(days=1),
    "starts_at": START,
    "submissions_close_at": START + timedelta(days=1, hours=8),
    "judging_closes_at": START + timedelta(days=2),
}
SCHEDULE = EVENT + "/schedule"
ITEM = SCHEDULE + "/{schedule_item_id}"


@pytest.fixture
async def berlin(session: AsyncSession) -> Cast:
    return await build_cast(session, **DATES)


def talk(**overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Opening talk",
        "kind": "talk",
        "starts_at": "2026-12-12T09:30:00+01:00",
        "ends_at": "2026-12-12T10:00:00+01:00",
        "place": "Main hall",
        "url": "https://stream.example.org/opening",
        "description": "Welcome and rules.",
    }
    return body | overrides


async def test_organizers_add_change_and_remove_items(
    client: httpx2.AsyncClient, berlin: Cast
) -> None:
    c = berlin
    created = await client.post(f"{c.base}/schedule", headers=c.auth("org_organizer"), json=talk())
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["title"] == "Opening talk"
    assert item["kind"] == "talk"
    assert datetime.fromisoformat(item["starts_at"]) == START + timedelta(minutes=30)
    lunch = await client.post(
        f"{c.base}/schedule",
        headers=c.auth("event_organizer"),
        json={"title": "Lunch", "kind": "meal", "starts_at": "2026-12-12T12:00:00+01:00"},
    )
    assert lunch.status_code == 201, lunch.text
    assert lunch.json()["ends_at"] is None
    assert lunch.json()["place"] == lunch.json()["url"] == ""

    # The agenda: the items and the event's own dates, in time order, the dates marked.
    agenda = await client.get(f"{c.base}/schedule", headers=c.auth("participant"))
    assert agenda.status_code == 200
    assert [(e["title"], e["derived"], e["window"]) for e in agenda.json()] == [
        ("Registration opens", True, "registration_opens_at"),
        ("Registration closes", True, "registration_closes_at"),
        ("The event starts", True, "starts_at"),
        ("Opening talk", False, None),
        ("Lunch", False, None),
        ("Submissions close", True, "submissions_close_at"),
        ("Judging closes", True, "judging_closes_at"),
    ]
    assert agenda.json()[3]["id"] == item["id"]
    assert agenda.json()[3]["key"] == f"item-{item['id']}"
    assert agenda.json()[5]["kind"] == "deadline"
    assert agenda.json()[0]["id"] is None

    url = f"{c.base}/schedule/{item['id']}"
    changed = await client.patch(
        url, headers=c.auth("owner"), json={"title": "Opening", "ends_at": None, "place": ""}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["title"], changed.json()["ends_at"], changed.json()["place"]) == (
        "Opening",
        None,
        "",
    )
    assert (await client.get(url, headers=c.auth("participant"))).json()["title"] == "Opening"

    removed = await client.delete(url, headers=c.auth("org_organizer"))
    assert removed.status_code == 204
    gone = await client.get(url, headers=c.auth("org_organizer"))
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "schedule_item_not_found"
    titles = [e["title"] for e in (await client.get(f"{c.base}/schedule")).json()]
    assert "Opening" not in titles
    assert "Lunch" in titles


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"title": ""}, "title", "Title cannot be empty."),
        (
            {"kind": "party"},
            "kind",
            "Choose one of: talk, workshop, meal, deadline, other.",
        ),
        (
            {"url": "javascript:alert(1)"},
            "url",
            "must be a web address starting with http:// or https://",
        ),
        (
            {"url": "ftp://files.example.org/slides"},
            "url",
            "must be a web address starting with http:// or https://",
        ),
        (
            {"url": "https://example.org/a b"},
            "url",
            "must be a web address without spaces",
        ),
        (
            {"starts_at": "1999-12-31T23:00:00+00:00"},
            "starts_at",
            "must be between the years 2000 and 2099",
        ),
    ],
)
async def test_bad_input_is_refused_field_by_field(
    client: httpx2.AsyncClient, berlin: Cast, body: dict[str, Any], field: str, message: str
) -> None:
    c = berlin
    refused = await client.post(
        f"{c.base}/schedule", headers=c.auth("org_organizer"), json=talk(**body)
    )
    assert refused.status_code == 422, refused.text
    details = refused.json()["error"]["details"]
    assert [(d["field"], d["message"]) for d in details] == [(f"body.{field}", message)]
    # Nothing was written: the agenda holds the event's dates only.
    assert all(e["derived"] for e in (await client.get(f"{c.base}/schedule")).json())


async def test_an_end_must_come_after_the_start(client: httpx2.AsyncClient, berlin: Cast) -> None:
    c = berlin
    refused = await client.post(
        f"{c.base}/schedule",
        headers=c.auth("org_organizer"),
        json=talk(ends_at="2026-12-12T09:30:00+01:00"),
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid_schedule_times"
    assert error["message"] == (
        "The item would end before it starts: the end must come after the start."
    )
    assert error["details"] == [{"field": "ends_at", "message": "must be after the start"}]

    # Only the start changes, past the stored end: refused against what is stored.
    item = (
        await client.post(f"{c.base}/schedule", headers=c.auth("org_organizer"), json=talk())
    ).json()
    later = await client.patch(
        f"{c.base}/schedule/{item['id']}",
        headers=c.auth("org_organizer"),
        json={"starts_at": "2026-12-12T11:00:00+01:00"},
    )
    assert later.status_code == 422
    assert later.json()["error"]["code"] == "invalid_schedule_times"
    nulled = await client.patch(
        f"{c.base}/schedule/{item['id']}", headers=c.auth("org_organizer"), json={"title": None}
    )
    assert nulled.status_code == 422
    kept = await client.get(f"{c.base}/schedule/{item['id']}")
    assert (kept.json()["title"], kept.json()["starts_at"]) == (
        "Opening talk",
        "2026-12-12T08:30:00Z",
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [
        # Staff know the event's organizer side exists: 403; to everyone else it does not: 404.
        ("judge", 403),
        ("mentor", 403),
        ("participant", 404),
        ("member", 404),
        ("outsider", 404),
        ("anonymous", 404),
    ],
)
async def test_only_organizers_change_the_schedule(
    client: httpx2.AsyncClient, session: AsyncSession, berlin: Cast, who: str, status: int
) -> None:
    c = berlin
    item = await create_schedule_item(session, c.event, title="Keynote")
    headers = c.auth(who)
    assert (await client.get(f"{c.base}/schedule", headers=headers)).status_code == 200
    url = f"{c.base}/schedule/{item.id}"
    answers = [
        (await client.post(f"{c.base}/schedule", headers=headers, json=talk())).status_code,
        (await client.patch(url, headers=headers, json={"title": "Mine"})).status_code,
        (await client.delete(url, headers=headers)).status_code,
    ]
    assert answers == [status] * 3
    assert (await client.get(url)).json()["title"] == "Keynote"
    assert len((await client.get(f"{c.base}/schedule")).json()) == 6  # the dates and Keynote


async def test_another_organization_reaches_nothing(
    client: httpx2.AsyncClient, session: AsyncSession, berlin: Cast
) -> None:
    c = berlin
    other = await build_cast(session, **DATES)
    theirs = await create_schedule_item(session, other.event, title="Their talk")
    # Our organizer, with the other event's item id under our event: not found.
    url = f"{c.base}/schedule/{theirs.id}"
    assert (await client.get(url, headers=c.auth("org_organizer"))).status_code == 404
    patched = await client.patch(url, headers=c.auth("org_organizer"), json={"title": "Ours"})
    assert patched.status_code == 404
    assert (await client.delete(url, headers=c.auth("org_organizer"))).status_code == 404
    # The other organization's organizer on our event: not theirs to change.
    mine = await create_schedule_item(session, c.event, title="Our talk")
    outsider = other.auth("org_organizer")
    refused = await client.patch(
        f"{c.base}/schedule/{mine.id}", headers=outsider, json={"title": "Taken"}
    )
    assert refused.status_code == 404
    titles = [e["title"] for e in (await client.get(f"{other.base}/schedule")).json()]
    assert "Their talk" in titles


async def test_a_draft_events_schedule_is_hidden(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await build_cast(session, published_at=None, **DATES)
    await create_schedule_item(session, c.event, title="Secret")
    assert (await client.get(f"{c.base}/schedule")).status_code == 404
    assert (await client.get(f"{c.base}/schedule", headers=c.auth("outsider"))).status_code == 404
    shown = await client.get(f"{c.base}/schedule", headers=c.auth("org_organizer"))
    assert "Secret" in [e["title"] for e in shown.json()]


async def test_an_archived_events_schedule_is_frozen(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await build_cast(session, archived_at=START + timedelta(days=5), **DATES)
    refused = await client.post(f"{c.base}/schedule", headers=c.auth("owner"), json=talk())
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "event_archived"


async def test_upcoming_items_for_the_dashboard(
    session: AsyncSession, connection: AsyncConnection
) -> None:
    event = await create_event(session, **DATES)
    for title, hour in (("Breakfast", 7), ("Opening", 9), ("Lunch", 12), ("Demo", 15)):
        at = START.replace(hour=hour)
        await create_schedule_item(
            session, event, title=title, starts_at=at, ends_at=at + timedelta(hours=1)
        )
    async with frozen_time(connection, START.replace(hour=9, minute=30)):
        coming = await upcoming_items(session, event.id, 3)
    # Opening runs until 10:00; the start (08:00 UTC) is past.
    assert [e.title for e in coming] == ["Opening", "Lunch", "Demo"]
    async with frozen_time(connection, START.replace(hour=16, minute=30)):
        coming = await upcoming_items(session, event.id, 5)
    assert [(e.title, e.derived) for e in coming] == [
        ("Submissions close", True),
        ("Judging closes", True),
    ]
    assert await upcoming_items(session, event.id, 0) == []


async def test_every_schedule_change_is_audited(
    client: httpx2.AsyncClient, connection: AsyncConnection, berlin: Cast
) -> None:
    c = berlin
    r = Recorder(client, connection)
    base = f"{c.base}/schedule"
    headers = c.auth("org_organizer")
    created = await r.call("POST", SCHEDULE, base, headers=headers, json=talk())
    url = f"{base}/{created.json()['id']}"
    await r.call("PATCH", ITEM, url, headers=headers, json={"title": "Keynote"})
    await r.call("DELETE", ITEM, url, headers=headers)
    assert r.covered == {("post", SCHEDULE), ("patch", ITEM), ("delete", ITEM)}
    # A change that changes nothing records nothing.
    again = await client.post(base, headers=headers, json=talk())
    before = await r.audit_actions()
    same = await client.patch(
        f"{base}/{again.json()['id']}", headers=headers, json={"title": "Opening talk"}
    )
    assert same.status_code == 200
    assert await r.audit_actions() == before


async def test_the_agenda_costs_the_same_for_1_item_as_for_20(
    client: httpx2.AsyncClient,
    session: AsyncSession,
    connection: AsyncConnection,
) -> None:
    event = await create_event(session, published_at=START - timedelta(days=9))
    org_slug = await session.scalar(
        select(Organization.slug).where(Organization.id == event.org_id)
    )

    async def add(n: int) -> None:
        forget_tenant(session)
        await set_tenant(session, event.org_id)
        for k in range(n):
            await create_schedule_item(session, event, starts_at=START + timedelta(minutes=k))

    url = f"/api/v1/organizations/{org_slug}/events/{event.slug}/schedule"
    await same_cost(client, connection, url, {}, add)
