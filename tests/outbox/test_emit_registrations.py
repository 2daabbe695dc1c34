"""Registrations write their domain events through the real API: registered or waitlisted, a seat
from the waitlist, cancelled by the holder or removed by an organizer, checked in — exactly one
row each, none for a refused action — and their fan-out tells the person concerned only."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts.helpers import bearer
from tests.outbox.helpers import check, dispatch, events, one
from tests.people import person
from tests.registrations.helpers import scene


async def test_registering_writes_one_event_seated_or_waitlisted(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=1, waitlist_enabled=True)
    seated, seated_token = await person(session, verified=True)
    waiting, waiting_token = await person(session, verified=True)
    outsider, _ = await person(session, verified=True)
    first = await client.post(f"{s.base}/registrations", headers=bearer(seated_token), json={})
    assert first.status_code == 201, first.text
    again = await client.post(f"{s.base}/registrations", headers=bearer(seated_token), json={})
    assert again.status_code == 409  # already registered: no second event
    second = await client.post(f"{s.base}/registrations", headers=bearer(waiting_token), json={})
    assert second.json()["status"] == "waitlisted"
    bad = await client.post(
        f"{s.base}/registrations", headers=bearer(waiting_token), json={"answers": 3}
    )
    assert bad.status_code == 422

    rows = await events(session, "registration.created", s.event.id)
    assert len(rows) == 2
    check(
        rows[0],
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=seated.id,
        payload={
            "registration_id": first.json()["id"],
            "user_id": seated.id,
            "status": "registered",
        },
    )
    check(
        rows[1],
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=waiting.id,
        payload={
            "registration_id": second.json()["id"],
            "user_id": waiting.id,
            "status": "waitlisted",
        },
    )
    assert rows[0].subject_type == "registration"
    assert str(rows[0].subject_id) == first.json()["id"]
    told = await dispatch(session, rows[1])
    assert told.people == {waiting.id}
    assert outsider.id not in told.people


async def test_a_cancellation_promotes_the_waitlist_and_each_writes_its_event(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=1, waitlist_enabled=True)
    holder, holder_token = await person(session, verified=True)
    waiting, waiting_token = await person(session, verified=True)
    await client.post(f"{s.base}/registrations", headers=bearer(holder_token), json={})
    queued = await client.post(f"{s.base}/registrations", headers=bearer(waiting_token), json={})
    cancelled = await client.post(f"{s.base}/registrations/me/cancel", headers=bearer(holder_token))
    assert cancelled.status_code == 200, cancelled.text
    twice = await client.post(f"{s.base}/registrations/me/cancel", headers=bearer(holder_token))
    assert twice.status_code == 200  # already cancelled: nothing changes, no second event

    cancel = await one(session, "registration.cancelled", s.event.id)
    check(
        cancel,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=holder.id,
        payload={
            "registration_id": cancelled.json()["id"],
            "user_id": holder.id,
            "by_organizer": False,
        },
    )
    promoted = await one(session, "registration.promoted", s.event.id)
    check(
        promoted,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=holder.id,  # whoever freed the seat
        payload={"registration_id": queued.json()["id"], "user_id": waiting.id},
    )

    # A person who cancelled knows it.
    assert (await dispatch(session, cancel)).people == set()
    told = await dispatch(session, promoted)
    assert set(told.in_app) == {waiting.id}
    assert told.title(waiting.id) == f"You have a seat at {s.event.name}"
    assert told.in_app[waiting.id].link == f"/orgs/{s.org.slug}/events/{s.event.slug}/registration"
    # The waitlist's own mail says it already: no second mail through the outbox.
    assert told.mailed == {}


async def test_an_organizer_removal_tells_the_person_and_not_the_organizer(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session)
    holder, holder_token = await person(session, verified=True)
    outsider, outsider_token = await person(session, verified=True)
    mine = await client.post(f"{s.base}/registrations", headers=bearer(holder_token), json={})
    registration_id = mine.json()["id"]
    refused = await client.delete(
        f"{s.base}/registrations/{registration_id}", headers=bearer(outsider_token)
    )
    assert refused.status_code in (403, 404)
    unknown = await client.delete(
        f"{s.base}/registrations/{s.event.id}", headers=bearer(s.organizer_token)
    )
    assert unknown.status_code == 404
    assert await events(session, "registration.cancelled", s.event.id) == []

    removed = await client.delete(
        f"{s.base}/registrations/{registration_id}", headers=bearer(s.organizer_token)
    )
    assert removed.status_code == 204, removed.text
    row = await one(session, "registration.cancelled", s.event.id)
    check(
        row,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.organizer.id,
        payload={"registration_id": registration_id, "user_id": holder.id, "by_organizer": True},
    )
    told = await dispatch(session, row)
    assert set(told.in_app) == {holder.id}
    assert set(told.mailed) == {holder.id}  # transactional: by mail too
    assert told.title(holder.id) == f"Your registration for {s.event.name} was cancelled"
    assert told.mailed[holder.id].to_address == holder.email
    assert outsider.id not in told.people


async def test_a_check_in_writes_one_event_and_tells_the_person_in_the_app(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session)
    guest, token = await person(session, verified=True)
    mine = (await client.post(f"{s.base}/registrations", headers=bearer(token), json={})).json()
    wrong = await client.post(
        f"{s.base}/checkin", headers=bearer(s.organizer_token), json={"code": "NOPE-NOPE"}
    )
    assert wrong.status_code == 404
    by_guest = await client.post(
        f"{s.base}/checkin", headers=bearer(token), json={"code": mine["checkin_code"]}
    )
    assert by_guest.status_code in (403, 404)
    assert await events(session, "registration.checked_in", s.event.id) == []
    for _ in range(2):  # a second scan reports the first check-in and writes nothing
        done = await client.post(
            f"{s.base}/checkin",
            headers=bearer(s.organizer_token),
            json={"code": mine["checkin_code"]},
        )
        assert done.status_code == 200, done.text
    row = await one(session, "registration.checked_in", s.event.id)
    check(
        row,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.organizer.id,
        payload={"registration_id": mine["id"], "user_id": guest.id},
    )
    told = await dispatch(session, row)
    assert set(told.in_app) == {guest.id}
    assert told.mailed == {}  # the desk's scan is news in the app only


async def test_an_undone_check_in_writes_one_event_and_tells_the_person_in_the_app(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session)
    holder, holder_token = await person(session, verified=True)
    mine = await client.post(f"{s.base}/registrations", headers=bearer(holder_token), json={})
    registration_id = mine.json()["id"]
    organizer = bearer(s.organizer_token)
    refused = await client.post(
        f"{s.base}/registrations/{registration_id}/undo-checkin", headers=organizer
    )
    assert refused.status_code == 409  # not checked in: no event
    await client.post(
        f"{s.base}/checkin", headers=organizer, json={"code": mine.json()["checkin_code"]}
    )
    undone = await client.post(
        f"{s.base}/registrations/{registration_id}/undo-checkin",
        headers=organizer,
        json={"reason": "scanned the wrong code"},
    )
    assert undone.status_code == 200, undone.text
    again = await client.post(
        f"{s.base}/registrations/{registration_id}/undo-checkin", headers=organizer
    )
    assert again.status_code == 409

    row = await one(session, "registration.check_in_undone", s.event.id)
    check(
        row,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.organizer.id,
        payload={"registration_id": registration_id, "user_id": holder.id},
    )
    told = await dispatch(session, row)
    assert set(told.in_app) == {holder.id}
    assert told.title(holder.id) == f"Your check-in at {s.event.name} was undone"
    assert told.mailed == {}


async def test_approval_writes_requested_approved_declined_once_each_and_tells_the_person(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await scene(session, capacity=5, approval_required=True)
    organizer = bearer(s.organizer_token)
    yes, yes_token = await person(session, verified=True)
    no, no_token = await person(session, verified=True)
    first = await client.post(f"{s.base}/registrations", headers=bearer(yes_token), json={})
    second = await client.post(f"{s.base}/registrations", headers=bearer(no_token), json={})
    assert first.json()["status"] == second.json()["status"] == "pending"

    requested = await events(session, "registration.requested", s.event.id)
    assert len(requested) == 2
    check(
        requested[0],
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=yes.id,
        payload={"registration_id": first.json()["id"], "user_id": yes.id},
    )
    assert await events(session, "registration.created", s.event.id) == []
    told = await dispatch(session, requested[0])
    assert set(told.in_app) == set(told.mailed) == {yes.id}
    assert told.title(yes.id) == f"Your registration for {s.event.name} awaits approval"

    for _ in range(2):  # the second approval is refused and writes nothing
        await client.post(f"{s.base}/registrations/{first.json()['id']}/approve", headers=organizer)
        await client.post(
            f"{s.base}/registrations/{second.json()['id']}/decline", headers=organizer
        )
    approved = await one(session, "registration.approved", s.event.id)
    check(
        approved,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.organizer.id,
        payload={"registration_id": first.json()["id"], "user_id": yes.id, "status": "registered"},
    )
    told = await dispatch(session, approved)
    assert set(told.in_app) == set(told.mailed) == {yes.id}
    assert told.title(yes.id) == f"Your registration for {s.event.name} is approved"
    assert first.json()["checkin_code"] is None  # shown only once approved, in the confirmation
    mine = await client.get(f"{s.base}/registrations/me", headers=bearer(yes_token))
    assert f"Your check-in code: {mine.json()['checkin_code']}" in str(
        told.mailed[yes.id].body_text
    )
    declined = await one(session, "registration.declined", s.event.id)
    check(
        declined,
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.organizer.id,
        payload={"registration_id": second.json()["id"], "user_id": no.id},
    )
    told = await dispatch(session, declined)
    assert set(told.in_app) == set(told.mailed) == {no.id}
    assert told.title(no.id) == f"Your registration for {s.event.name} was not approved"
