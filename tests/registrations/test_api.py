"""Registration, waitlist, cancellation, removal, check-in, lists and exports through the API."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx2
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.actor import SYSTEM
from hackops.models import Event, Membership, OutboundEmail
from hackops.registrations.waitlist import promote_waitlisted
from hackops.tenancy import set_tenant
from tests.accounts.helpers import bearer
from tests.helpers import count_queries, frozen_time
from tests.people import person
from tests.registrations.helpers import NOW, as_admin, registered_count, scene, statuses


async def test_seats_then_waitlist_then_full(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=2)
    results = []
    for _ in range(4):
        _, token = await person(session, verified=True)
        response = await client.post(f"{s.base}/registrations", headers=bearer(token), json={})
        assert response.status_code == 201, response.text
        mine = (await client.get(f"{s.base}/registrations/me", headers=bearer(token))).json()
        results.append((response.json()["status"], mine["waitlist_position"]))
    assert results == [
        ("registered", None),
        ("registered", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    assert await statuses(session, s.event) == {"registered": 2, "waitlisted": 2}
    assert await registered_count(session, s.event) == 2

    closed = await scene(session, capacity=1, waitlist_enabled=False)
    _, first = await person(session, verified=True)
    _, second = await person(session, verified=True)
    ok = await client.post(f"{closed.base}/registrations", headers=bearer(first), json={})
    assert ok.status_code == 201
    full = await client.post(f"{closed.base}/registrations", headers=bearer(second), json={})
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "event_full"


async def test_registering_twice_is_refused_and_anonymous_is_401(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session)
    _, token = await person(session, verified=True)
    assert (
        await client.post(f"{s.base}/registrations", headers=bearer(token), json={})
    ).status_code == 201
    again = await client.post(f"{s.base}/registrations", headers=bearer(token), json={})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_registered"
    anonymous = await client.post(f"{s.base}/registrations", json={})
    assert anonymous.status_code == 401


async def test_cancel_promotes_the_first_waitlisted_and_mails_them(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=1)
    tokens = []
    users = []
    for _ in range(3):
        user, token = await person(session, verified=True)
        users.append(user)
        tokens.append(token)
        await client.post(f"{s.base}/registrations", headers=bearer(token), json={})
    cancelled = await client.post(f"{s.base}/registrations/me/cancel", headers=bearer(tokens[0]))
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    second = (await client.get(f"{s.base}/registrations/me", headers=bearer(tokens[1]))).json()
    third = (await client.get(f"{s.base}/registrations/me", headers=bearer(tokens[2]))).json()
    assert (second["status"], third["status"], third["waitlist_position"]) == (
        "registered",
        "waitlisted",
        1,
    )
    await as_admin(session)
    mails = list(
        await session.scalars(
            select(OutboundEmail.to_address).where(OutboundEmail.subject.like("You have a seat%"))
        )
    )
    assert mails == [users[1].email]
    assert await registered_count(session, s.event) == 1

    # Cancelling again changes nothing; registering again reuses the row, at the back.
    again = await client.post(f"{s.base}/registrations/me/cancel", headers=bearer(tokens[0]))
    assert again.json()["status"] == "cancelled"
    back = await client.post(f"{s.base}/registrations", headers=bearer(tokens[0]), json={})
    assert back.status_code == 201
    assert back.json()["id"] == cancelled.json()["id"]
    again_mine = (await client.get(f"{s.base}/registrations/me", headers=bearer(tokens[0]))).json()
    assert (again_mine["status"], again_mine["waitlist_position"]) == ("waitlisted", 2)


async def test_organizer_removal_promotes_and_capacity_raise_promotes_as_many_as_fit(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=1)
    ids = []
    for _ in range(4):
        _, token = await person(session, verified=True)
        ids.append(
            (await client.post(f"{s.base}/registrations", headers=bearer(token), json={})).json()[
                "id"
            ]
        )
    removed = await client.delete(
        f"{s.base}/registrations/{ids[0]}", headers=bearer(s.organizer_token)
    )
    assert removed.status_code == 204
    assert await statuses(session, s.event) == {"cancelled": 1, "registered": 1, "waitlisted": 2}

    event = await session.get(Event, s.event.id)
    assert event is not None
    event.capacity = 10
    await session.flush()
    promoted = await promote_waitlisted(session, event, SYSTEM)
    assert [str(r.id) for r in promoted] == ids[2:]
    assert await statuses(session, s.event) == {"cancelled": 1, "registered": 3}
    assert await registered_count(session, s.event) == 3


async def test_check_in_is_idempotent_and_says_who_and_when(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=1)
    user, token = await person(session, name="Grace Hopper", verified=True)
    _, waiting = await person(session, verified=True)
    mine = (await client.post(f"{s.base}/registrations", headers=bearer(token), json={})).json()
    queued = (await client.post(f"{s.base}/registrations", headers=bearer(waiting), json={})).json()
    code = mine["checkin_code"]
    assert len(code) == 12

    first = await client.post(
        f"{s.base}/checkin", headers=bearer(s.organizer_token), json={"code": code.lower()}
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["user"]["name"] == "Grace Hopper"
    assert body["already_checked_in"] is False
    assert body["checked_in_by_id"] == str(s.organizer.id)
    second = await client.post(
        f"{s.base}/checkin", headers=bearer(s.organizer_token), json={"code": code}
    )
    assert second.json()["already_checked_in"] is True
    assert second.json()["checked_in_at"] == body["checked_in_at"]

    # A waitlisted person is shown no code (it comes with the seat); the one on their row is
    # refused at the desk.
    assert queued["status"] == "waitlisted"
    assert queued["checkin_code"] is None
    qr = await client.get(f"{s.base}/registrations/me/qr.svg", headers=bearer(waiting))
    assert (qr.status_code, qr.json()["error"]["code"]) == (409, "no_checkin_code")
    queued_code = await session.scalar(
        text("SELECT checkin_code FROM registrations WHERE id = :id"), {"id": queued["id"]}
    )
    refused = await client.post(
        f"{s.base}/checkin",
        headers=bearer(s.organizer_token),
        json={"code": queued_code},
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "not_seated")
    unknown = await client.post(
        f"{s.base}/checkin", headers=bearer(s.organizer_token), json={"code": "NOPE-NOPE"}
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "checkin_code_not_found")
    participant = await client.post(f"{s.base}/checkin", headers=bearer(token), json={"code": code})
    assert participant.status_code == 404
    cancel = await client.post(f"{s.base}/registrations/me/cancel", headers=bearer(token))
    assert (cancel.status_code, cancel.json()["error"]["code"]) == (409, "already_checked_in")
    assert (await statuses(session, s.event)) == {"checked_in": 1, "waitlisted": 1}
    assert user.id is not None


async def test_qr_code_is_an_svg_of_my_code(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session)
    _, token = await person(session, verified=True)
    nothing = await client.get(f"{s.base}/registrations/me/qr.svg", headers=bearer(token))
    assert nothing.status_code == 404
    await client.post(f"{s.base}/registrations", headers=bearer(token), json={})
    qr = await client.get(f"{s.base}/registrations/me/qr.svg", headers=bearer(token))
    assert qr.status_code == 200
    assert qr.headers["content-type"] == "image/svg+xml"
    assert qr.text.startswith("<svg")
    assert "Check-in code" in qr.text


async def test_answers_are_validated_against_the_event_questions(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    questions = [
        {
            "id": "shirt",
            "kind": "choice",
            "label": "Shirt",
            "required": True,
            "options": ["S", "M"],
        },
        {"id": "coc", "kind": "checkbox", "label": "Code of conduct", "required": True},
    ]
    s = await scene(session, questions=questions)
    _, token = await person(session, verified=True)
    bad = await client.post(
        f"{s.base}/registrations", headers=bearer(token), json={"answers": {"shirt": "XL"}}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_answers"
    assert {d["field"] for d in bad.json()["error"]["details"]} == {"answers.shirt", "answers.coc"}
    good = await client.post(
        f"{s.base}/registrations",
        headers=bearer(token),
        json={"answers": {"shirt": "M", "coc": True}},
    )
    assert good.status_code == 201
    assert good.json()["answers"] == {"shirt": "M", "coc": True}


async def test_email_domains_and_private_events(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, allowed_email_domains=["uni.example"])
    _, outsider = await person(session, "a@else.example", verified=True)
    _, unverified = await person(session, "b@uni.example", verified=False)
    _, student = await person(session, "c@uni.example", verified=True)
    for token in (outsider, unverified):
        refused = await client.post(f"{s.base}/registrations", headers=bearer(token), json={})
        assert (refused.status_code, refused.json()["error"]["code"]) == (
            403,
            "email_domain_not_allowed",
        )
    assert (
        await client.post(f"{s.base}/registrations", headers=bearer(student), json={})
    ).status_code == 201

    private = await scene(session, visibility="private")
    hidden = await client.post(f"{private.base}/registrations", headers=bearer(student), json={})
    assert hidden.status_code == 404
    staff = await client.post(
        f"{private.base}/registrations", headers=bearer(private.organizer_token), json={}
    )
    assert staff.status_code == 201


async def test_registration_window_uses_the_database_clock(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    closes = NOW + timedelta(days=1)
    s = await scene(
        session, registration_opens_at=NOW - timedelta(days=1), registration_closes_at=closes
    )
    _, early = await person(session, verified=True)
    _, late = await person(session, verified=True)
    async with frozen_time(connection, closes - timedelta(seconds=1)):
        accepted = await client.post(f"{s.base}/registrations", headers=bearer(early), json={})
    assert accepted.status_code == 201, accepted.text
    async with frozen_time(connection, closes + timedelta(seconds=1)):
        refused = await client.post(f"{s.base}/registrations", headers=bearer(late), json={})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "registration_closed")


async def _fill(client: httpx2.AsyncClient, session: AsyncSession, base: str, n: int) -> None:
    for i in range(n):
        _, token = await person(
            session, f"p{i:02d}-{base[-6:]}@example.com", name=f"Person {i:02d}", verified=True
        )
        assert (
            await client.post(f"{base}/registrations", headers=bearer(token), json={})
        ).status_code == 201


async def test_organizer_list_filters_sorts_and_paginates(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=3)
    await _fill(client, session, s.base, 5)
    auth = bearer(s.organizer_token)
    page = (
        await client.get(f"{s.base}/registrations?sort=name&order=desc&limit=2", headers=auth)
    ).json()
    assert page["total"] == 5
    assert [i["user"]["name"] for i in page["items"]] == ["Person 04", "Person 03"]
    waiting = (
        await client.get(f"{s.base}/registrations?status=waitlisted&sort=queue", headers=auth)
    ).json()
    assert [i["user"]["name"] for i in waiting["items"]] == ["Person 03", "Person 04"]
    found = (await client.get(f"{s.base}/registrations?q=p01-", headers=auth)).json()
    assert [i["user"]["name"] for i in found["items"]] == ["Person 01"]
    assert (await client.get(f"{s.base}/registrations?checked_in=true", headers=auth)).json()[
        "total"
    ] == 0
    assert (await client.get(f"{s.base}/registrations?limit=201", headers=auth)).status_code == 422
    _, participant = await person(session, verified=True)
    assert (
        await client.get(f"{s.base}/registrations", headers=bearer(participant))
    ).status_code == 404


async def test_organizer_list_query_count_does_not_grow(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    counts = []
    for n in (1, 20):
        s = await scene(session, capacity=50)
        await _fill(client, session, s.base, n)
        with count_queries(connection) as log:
            response = await client.get(
                f"{s.base}/registrations?limit=50", headers=bearer(s.organizer_token)
            )
        assert len(response.json()["items"]) == n
        counts.append(log.count)
    assert counts[0] == counts[1]


async def test_csv_export_streams_every_registration(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=2)
    await _fill(client, session, s.base, 3)
    _, evil = await person(session, name="=HYPERLINK(1)", verified=True)
    await client.post(f"{s.base}/registrations", headers=bearer(evil), json={})
    response = await client.get(
        f"{s.base}/registrations/export.csv", headers=bearer(s.organizer_token)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["status"] for r in rows] == ["registered", "registered", "waitlisted", "waitlisted"]
    assert rows[-1]["name"] == "'=HYPERLINK(1)"
    only = await client.get(
        f"{s.base}/registrations/export.csv?status=waitlisted", headers=bearer(s.organizer_token)
    )
    assert len(list(csv.DictReader(io.StringIO(only.text)))) == 2


async def test_my_registrations_across_organizations(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    first = await scene(session)
    second = await scene(session)
    _, token = await person(session, verified=True)
    for s in (first, second):
        await client.post(f"{s.base}/registrations", headers=bearer(token), json={})
    mine = await client.get("/api/v1/me/registrations", headers=bearer(token))
    assert mine.status_code == 200
    assert sorted(r["org_slug"] for r in mine.json()) == sorted([first.org.slug, second.org.slug])
    assert all(r["status"] == "registered" for r in mine.json())
    await as_admin(session)
    total = await session.scalar(text("SELECT count(*) FROM registrations"))
    assert total is not None
    assert total >= 2
    assert (await client.get("/api/v1/me/registrations")).status_code == 401


async def test_raising_capacity_through_the_api_promotes_the_waitlist(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=1)
    for _ in range(3):
        _, token = await person(session, verified=True)
        await client.post(f"{s.base}/registrations", headers=bearer(token), json={})
    assert await statuses(session, s.event) == {"registered": 1, "waitlisted": 2}
    raised = await client.patch(s.base, headers=bearer(s.organizer_token), json={"capacity": 2})
    assert raised.status_code == 200, raised.text
    assert await statuses(session, s.event) == {"registered": 2, "waitlisted": 1}


async def test_my_registrations_name_a_private_event_of_another_organization(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """Registered while invited (here: as an organization member), then listed from /me without
    a tenant: the private event is readable to its registrant, and only to them."""
    s = await scene(session, visibility="private")
    user, token = await person(session, verified=True)
    await set_tenant(session, s.org.id)
    session.add(Membership(org_id=s.org.id, user_id=user.id, role="member"))
    await session.flush()
    registered = await client.post(f"{s.base}/registrations", headers=bearer(token), json={})
    assert registered.status_code == 201, registered.text
    mine = await client.get("/api/v1/me/registrations", headers=bearer(token))
    assert mine.status_code == 200
    [row] = mine.json()
    assert (row["org_slug"], row["event_slug"]) == (s.org.slug, s.event.slug)
    _, stranger = await person(session, verified=True)
    hidden = await client.get(s.base, headers=bearer(stranger))
    assert hidden.status_code == 404
