"""Every write route of registrations and check-in records exactly one audit row."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tests.accounts.helpers import bearer
from tests.people import person
from tests.registrations.helpers import scene
from tests.security.audit import EVENT, Recorder, owned_by


async def test_registration_routes_write_exactly_one_audit_row(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await scene(session, capacity=5)
    _, ada = await person(session, verified=True)
    _, bob = await person(session, verified=True)
    r = Recorder(client, connection)

    await r.call(
        "POST",
        EVENT + "/registrations",
        f"{s.base}/registrations",
        expect="registration.created",
        headers=bearer(ada),
        json={},
    )
    mine = await r.call(
        "POST",
        EVENT + "/registrations",
        f"{s.base}/registrations",
        expect="registration.created",
        headers=bearer(bob),
        json={},
    )
    await r.call(
        "POST",
        EVENT + "/checkin",
        f"{s.base}/checkin",
        expect="registration.checked_in",
        headers=bearer(s.organizer_token),
        json={"code": mine.json()["checkin_code"]},
    )
    await r.call(
        "POST",
        EVENT + "/registrations/me/cancel",
        f"{s.base}/registrations/me/cancel",
        expect="registration.cancelled",
        headers=bearer(ada),
    )
    await r.call(
        "DELETE",
        EVENT + "/registrations/{registration_id}",
        f"{s.base}/registrations/{mine.json()['id']}",
        expect="registration.removed",
        headers=bearer(s.organizer_token),
    )
    await r.call(
        "POST",
        EVENT + "/registrations/import",
        f"{s.base}/registrations/import?partial=true",
        expect="registration.imported",
        headers={**bearer(s.organizer_token), "Content-Type": "text/csv"},
        content=b"email,name\nnew@example.com,New\nbad,Bad\n",
    )

    # The event-day routes: approval, manual promotion, check-in from the desk's list, undo.
    a = await scene(session, capacity=1, approval_required=True)
    org = bearer(a.organizer_token)
    ids = []
    for _ in range(3):
        _, token = await person(session, verified=True)
        made = await client.post(f"{a.base}/registrations", headers=bearer(token), json={})
        ids.append(made.json()["id"])
    one = EVENT + "/registrations/{registration_id}"
    for registration_id in ids[:2]:  # a seat, then the waitlist
        await r.call(
            "POST",
            one + "/approve",
            f"{a.base}/registrations/{registration_id}/approve",
            expect="registration.approved",
            headers=org,
        )
    await r.call(
        "POST",
        one + "/decline",
        f"{a.base}/registrations/{ids[2]}/decline",
        expect="registration.declined",
        headers=org,
    )
    await r.call(
        "POST",
        one + "/promote",
        f"{a.base}/registrations/{ids[1]}/promote",
        expect="registration.promoted",
        headers=org,
        json={"raise_capacity": True},
    )
    await r.call(
        "POST",
        one + "/checkin",
        f"{a.base}/registrations/{ids[0]}/checkin",
        expect="registration.checked_in",
        headers=org,
    )
    await r.call(
        "POST",
        one + "/undo-checkin",
        f"{a.base}/registrations/{ids[0]}/undo-checkin",
        expect="registration.check_in_undone",
        headers=org,
        json={"reason": "the wrong person"},
    )

    ours = {key for key in owned_by((EVENT,), excluding=()) if "registration" in key[1]}
    ours |= {("post", EVENT + "/checkin")}
    ours -= {("patch", EVENT + "/finder/me")}  # the team finder's
    assert ours - r.covered == set()
