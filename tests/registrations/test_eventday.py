"""The event-day tools through the API: the check-in desk (search by code, name or email, check
in from the list, undo a mistaken check-in), the waitlist (positions, manual promotion) and
manual approval (pending, approve, decline) — with the errors people get."""

from __future__ import annotations

import httpx2
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import AuditEntry, OutboundEmail
from tests.accounts.helpers import bearer
from tests.helpers import count_queries
from tests.outbox.helpers import check, dispatch, events, one
from tests.people import person
from tests.registrations.helpers import as_admin, registered_count, scene, statuses


async def _register(client: httpx2.AsyncClient, base: str, token: str) -> dict[str, object]:
    response = await client.post(f"{base}/registrations", headers=bearer(token), json={})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_desk_finds_by_code_name_or_email_checks_in_from_the_list_and_undoes(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=5)
    org = bearer(s.organizer_token)
    ada, ada_token = await person(session, verified=True, name="Ada Lovelace")
    bob, bob_token = await person(session, verified=True, name="Bob Stone")
    mine = await _register(client, s.base, ada_token)
    await _register(client, s.base, bob_token)

    by_name = await client.get(f"{s.base}/checkin/search", params={"q": "lovel"}, headers=org)
    assert by_name.status_code == 200, by_name.text
    assert [i["user"]["name"] for i in by_name.json()["items"]] == ["Ada Lovelace"]
    assert (by_name.json()["checked_in"], by_name.json()["registered"]) == (0, 2)
    by_email = await client.get(
        f"{s.base}/checkin/search", params={"q": bob.email.upper()}, headers=org
    )
    assert [i["user"]["id"] for i in by_email.json()["items"]] == [str(bob.id)]
    code = str(mine["checkin_code"])
    by_code = await client.get(
        f"{s.base}/checkin/search", params={"q": code.lower()[:6] + "-" + code[6:]}, headers=org
    )
    assert [i["id"] for i in by_code.json()["items"]] == [mine["id"]]
    nobody = await client.get(f"{s.base}/checkin/search", params={"q": "zzzq"}, headers=org)
    assert nobody.json()["items"] == []
    wildcard = await client.get(f"{s.base}/checkin/search", params={"q": "%"}, headers=org)
    assert wildcard.json()["items"] == []  # a literal %, not "everyone"

    checked = await client.post(f"{s.base}/registrations/{mine['id']}/checkin", headers=org)
    assert checked.status_code == 200, checked.text
    assert checked.json()["already_checked_in"] is False
    again = await client.post(f"{s.base}/registrations/{mine['id']}/checkin", headers=org)
    assert again.json()["already_checked_in"] is True
    counted = await client.get(f"{s.base}/checkin/search", params={"q": "ada"}, headers=org)
    assert (counted.json()["checked_in"], counted.json()["registered"]) == (1, 2)

    undone = await client.post(
        f"{s.base}/registrations/{mine['id']}/undo-checkin",
        headers=org,
        json={"reason": "  wrong Ada  "},
    )
    assert undone.status_code == 200, undone.text
    assert (undone.json()["status"], undone.json()["checked_in_at"]) == ("registered", None)
    assert await statuses(session, s.event) == {"registered": 2}
    assert await registered_count(session, s.event) == 2
    audit = await session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "registration.check_in_undone",
            AuditEntry.resource_id == mine["id"],
        )
    )
    assert audit is not None
    assert audit.details["reason"] == "wrong Ada"
    assert audit.details["was_checked_in_at"] == checked.json()["checked_in_at"].replace(
        "Z", "+00:00"
    )
    row = await one(session, "registration.check_in_undone", s.event.id)
    check(
        row,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.organizer.id,
        payload={"registration_id": mine["id"], "user_id": ada.id},
    )
    told = await dispatch(session, row)
    assert set(told.in_app) == {ada.id}
    assert told.title(ada.id) == f"Your check-in at {s.event.name} was undone"
    assert told.mailed == {}

    twice = await client.post(
        f"{s.base}/registrations/{mine['id']}/undo-checkin", headers=org, json={}
    )
    assert twice.status_code == 409
    assert twice.json()["error"] == {
        "code": "not_checked_in",
        "message": "Ada Lovelace is not checked in: there is no check-in to undo.",
        "details": {"status": "registered"},
    }
    assert len(await events(session, "registration.check_in_undone", s.event.id)) == 1
    missing = await client.post(
        f"{s.base}/registrations/{s.event.id}/undo-checkin", headers=org, json={}
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "registration_not_found"
    long_reason = await client.post(
        f"{s.base}/registrations/{mine['id']}/undo-checkin", headers=org, json={"reason": "x" * 501}
    )
    assert long_reason.status_code == 422
    participant = await client.post(
        f"{s.base}/registrations/{mine['id']}/undo-checkin", headers=bearer(bob_token), json={}
    )
    assert participant.status_code == 404  # organizers only: not even shown


async def test_desk_search_is_bounded_and_its_query_count_flat(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await scene(session, capacity=50)
    org = bearer(s.organizer_token)
    for i in range(25):
        _, token = await person(session, verified=True, name=f"Sam {i:02d}")
        await _register(client, s.base, token)
    with count_queries(connection) as few:
        one_hit = await client.get(f"{s.base}/checkin/search", params={"q": "sam 07"}, headers=org)
    with count_queries(connection) as many:
        all_hits = await client.get(f"{s.base}/checkin/search", params={"q": "sam"}, headers=org)
    assert len(one_hit.json()["items"]) == 1
    assert [i["user"]["name"] for i in all_hits.json()["items"]] == [
        f"Sam {i:02d}" for i in range(20)
    ]
    assert len(few.statements) == len(many.statements)


async def test_waitlist_positions_and_manual_promotion(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=1)
    org = bearer(s.organizer_token)
    people = []
    for name in ("Seated", "First", "Second", "Third"):
        user, token = await person(session, verified=True, name=name)
        people.append((user, await _register(client, s.base, token)))
    listed = await client.get(f"{s.base}/waitlist", headers=org)
    assert listed.status_code == 200, listed.text
    assert [(e["position"], e["user"]["name"]) for e in listed.json()] == [
        (1, "First"),
        (2, "Second"),
        (3, "Third"),
    ]
    second_id = people[2][1]["id"]

    full = await client.post(f"{s.base}/registrations/{second_id}/promote", headers=org, json={})
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "no_free_seat"
    assert full.json()["error"]["message"] == (
        "The event is full (1 of 1 seats): promoting Second needs one more seat. Raise the "
        "capacity by one to promote them, or free a seat first."
    )
    assert await statuses(session, s.event) == {"registered": 1, "waitlisted": 3}

    promoted = await client.post(
        f"{s.base}/registrations/{second_id}/promote", headers=org, json={"raise_capacity": True}
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["status"] == "registered"
    await as_admin(session)
    capacity = await session.scalar(
        text("SELECT capacity FROM events WHERE id = :e"), {"e": s.event.id}
    )
    assert capacity == 2
    assert await registered_count(session, s.event) == 2
    after = await client.get(f"{s.base}/waitlist", headers=org)
    assert [(e["position"], e["user"]["name"]) for e in after.json()] == [
        (1, "First"),
        (2, "Third"),
    ]
    # The same notice as an automatic promotion: the mail and the outbox event.
    mail = await session.scalar(
        select(OutboundEmail).where(OutboundEmail.to_address == people[2][0].email)
    )
    assert mail is not None
    assert mail.subject == f"You have a seat at {s.event.name}"
    row = await one(session, "registration.promoted", s.event.id)
    assert row.payload == {"registration_id": second_id, "user_id": str(people[2][0].id)}
    audit = await session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "registration.promoted", AuditEntry.resource_id == second_id
        )
    )
    assert audit is not None
    assert audit.details["manual"] is True
    assert audit.details["capacity_raised_to"] == 2

    again = await client.post(
        f"{s.base}/registrations/{second_id}/promote", headers=org, json={"raise_capacity": True}
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_waitlisted"
    assert again.json()["error"]["message"] == (
        "Second is not on the waitlist (already registered): nothing to promote."
    )
    assert await registered_count(session, s.event) == 2


async def test_approval_pending_approve_decline_and_their_errors(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=1)
    org = bearer(s.organizer_token)
    turned_on = await client.patch(s.base, headers=org, json={"approval_required": True})
    assert turned_on.status_code == 200, turned_on.text
    assert turned_on.json()["approval_required"] is True
    ada, ada_token = await person(session, verified=True, name="Ada")
    _, bob_token = await person(session, verified=True, name="Bob")
    cy, cy_token = await person(session, verified=True, name="Cy")
    a = await _register(client, s.base, ada_token)
    b = await _register(client, s.base, bob_token)
    c = await _register(client, s.base, cy_token)
    assert (a["status"], a["checkin_code"]) == ("pending", None)
    mine = await client.get(f"{s.base}/registrations/me", headers=bearer(ada_token))
    assert (mine.json()["status"], mine.json()["checkin_code"]) == ("pending", None)
    qr = await client.get(f"{s.base}/registrations/me/qr.svg", headers=bearer(ada_token))
    assert qr.status_code == 409
    assert qr.json()["error"]["code"] == "no_checkin_code"
    assert await statuses(session, s.event) == {"pending": 3}
    assert await registered_count(session, s.event) == 0  # pending holds no seat
    requested = await events(session, "registration.requested", s.event.id)
    assert len(requested) == 3
    assert await events(session, "registration.created", s.event.id) == []
    told = await dispatch(session, requested[0])
    assert set(told.in_app) == set(told.mailed) == {ada.id}
    assert told.title(ada.id) == f"Your registration for {s.event.name} awaits approval"
    listed = await client.get(f"{s.base}/registrations?status=pending", headers=org)
    assert listed.json()["total"] == 3

    approved = await client.post(f"{s.base}/registrations/{a['id']}/approve", headers=org)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "registered"
    twice = await client.post(f"{s.base}/registrations/{a['id']}/approve", headers=org)
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "not_pending"
    assert twice.json()["error"]["message"] == (
        "The registration of Ada is not awaiting approval: it is already approved and registered."
    )
    waiting = await client.post(f"{s.base}/registrations/{b['id']}/approve", headers=org)
    assert waiting.json()["status"] == "waitlisted"  # full: approval queues
    assert await registered_count(session, s.event) == 1
    shown = await client.get(f"{s.base}/registrations/me", headers=bearer(ada_token))
    assert shown.json()["checkin_code"] is not None
    rows = await events(session, "registration.approved", s.event.id)
    assert [r.payload["status"] for r in rows] == ["registered", "waitlisted"]
    told = await dispatch(session, rows[0])
    assert told.title(ada.id) == f"Your registration for {s.event.name} is approved"
    assert told.mailed[ada.id].subject == f"Your registration for {s.event.name} is approved"

    declined = await client.post(f"{s.base}/registrations/{c['id']}/decline", headers=org)
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    decline_again = await client.post(f"{s.base}/registrations/{c['id']}/decline", headers=org)
    assert decline_again.status_code == 409
    assert decline_again.json()["error"]["message"] == (
        "The registration of Cy is not awaiting approval: it was already declined."
    )
    approve_declined = await client.post(f"{s.base}/registrations/{c['id']}/approve", headers=org)
    assert approve_declined.json()["error"]["code"] == "not_pending"
    told = await dispatch(session, await one(session, "registration.declined", s.event.id))
    assert set(told.mailed) == {cy.id}
    assert told.title(cy.id) == f"Your registration for {s.event.name} was not approved"
    again = await client.post(f"{s.base}/registrations", headers=bearer(cy_token), json={})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "registration_declined"
    assert await statuses(session, s.event) == {"registered": 1, "waitlisted": 1, "declined": 1}
    # A pending person cannot be checked in; the declined one has no code to show either.
    d_user, d_token = await person(session, verified=True, name="Dee")
    d = await _register(client, s.base, d_token)
    at_desk = await client.post(f"{s.base}/registrations/{d['id']}/checkin", headers=org)
    assert at_desk.status_code == 409
    assert at_desk.json()["error"]["code"] == "not_seated"
    not_found = await client.post(f"{s.base}/registrations/{s.event.id}/approve", headers=org)
    assert not_found.status_code == 404
    by_participant = await client.post(
        f"{s.base}/registrations/{d['id']}/approve", headers=bearer(d_token)
    )
    assert by_participant.status_code == 404
    assert d_user.id  # the pending person stays pending
    assert (await statuses(session, s.event))["pending"] == 1


async def test_approving_when_full_without_waitlist_is_refused(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=1, waitlist_enabled=False, approval_required=True)
    org = bearer(s.organizer_token)
    _, ada = await person(session, verified=True)
    _, bob = await person(session, verified=True)
    a = await _register(client, s.base, ada)
    b = await _register(client, s.base, bob)
    assert (await client.post(f"{s.base}/registrations/{a['id']}/approve", headers=org)).json()[
        "status"
    ] == "registered"
    full = await client.post(f"{s.base}/registrations/{b['id']}/approve", headers=org)
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "event_full"
    assert await statuses(session, s.event) == {"registered": 1, "pending": 1}
    # The pending person may withdraw their request (it held no seat: nothing to promote).
    withdrawn = await client.post(f"{s.base}/registrations/me/cancel", headers=bearer(bob))
    assert withdrawn.json()["status"] == "cancelled"
    assert await registered_count(session, s.event) == 1


async def test_the_waitlist_list_costs_the_same_queries_for_1_and_20(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    org_events = []
    for waiting in (1, 20):
        s = await scene(session, capacity=1)
        for _ in range(waiting + 1):
            _, token = await person(session, verified=True)
            await _register(client, s.base, token)
        org_events.append((s, waiting))
    counted = []
    for s, waiting in org_events:
        with count_queries(connection) as log:
            listed = await client.get(f"{s.base}/waitlist", headers=bearer(s.organizer_token))
        assert [e["position"] for e in listed.json()] == list(range(1, waiting + 1))
        counted.append(len(log.statements))
    assert counted[0] == counted[1], counted
