"""Every state-changing event route writes exactly one audit row (see tests/security/audit.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tests.accounts.helpers import verified_user
from tests.events.helpers import org_with_staff
from tests.helpers import frozen_time
from tests.security.audit import AUDITED, EVENT, Recorder

ORG = "/api/v1/organizations/{slug}/events"
#: The routes this scenario answers for: events and their tracks, awards and roles.
EVENT_ROUTES = {
    key
    for key in AUDITED
    if key[1] == ORG
    or key[1] == EVENT
    or key[1].startswith(
        tuple(
            EVENT + part
            for part in ("/publish", "/unpublish", "/archive", "/tracks", "/awards", "/roles")
        )
    )
}


async def test_every_event_write_writes_exactly_one_audit_row(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    org = await org_with_staff(session, "acme")
    await verified_user(client, session, "judge@example.com")
    r = Recorder(client, connection)
    base = f"/api/v1/organizations/{org.slug}/events"
    hack = f"{base}/hack"
    start = datetime.now(UTC) + timedelta(days=1)
    await r.call(
        "POST",
        ORG,
        base,
        headers=org.organizer,
        json={
            "slug": "hack",
            "name": "Hack",
            "starts_at": start.isoformat(),
            "submissions_close_at": (start + timedelta(days=2)).isoformat(),
        },
    )
    await r.call("PATCH", EVENT, hack, headers=org.organizer, json={"tagline": "Two days"})
    await r.call("POST", EVENT + "/publish", f"{hack}/publish", headers=org.organizer)
    await r.call("POST", EVENT + "/unpublish", f"{hack}/unpublish", headers=org.organizer)
    await r.call("POST", EVENT + "/publish", f"{hack}/publish", headers=org.organizer)

    track = await r.call(
        "POST", EVENT + "/tracks", f"{hack}/tracks", headers=org.organizer, json={"name": "AI"}
    )
    track_url = f"{hack}/tracks/{track.json()['id']}"
    await r.call(
        "PATCH", EVENT + "/tracks/{track_id}", track_url, headers=org.organizer, json={"name": "ML"}
    )
    award = await r.call(
        "POST",
        EVENT + "/awards",
        f"{hack}/awards",
        headers=org.organizer,
        json={"name": "Best", "track_id": track.json()["id"]},
    )
    award_url = f"{hack}/awards/{award.json()['id']}"
    await r.call(
        "PATCH", EVENT + "/awards/{award_id}", award_url, headers=org.organizer, json={"prize": "€"}
    )
    await r.call("DELETE", EVENT + "/awards/{award_id}", award_url, headers=org.organizer)
    await r.call("DELETE", EVENT + "/tracks/{track_id}", track_url, headers=org.organizer)

    grant = await r.call(
        "POST",
        EVENT + "/roles",
        f"{hack}/roles",
        headers=org.organizer,
        json={"email": "judge@example.com", "role": "judge"},
    )
    await r.call(
        "DELETE",
        EVENT + "/roles/{grant_id}",
        f"{hack}/roles/{grant.json()['id']}",
        headers=org.organizer,
    )

    async with frozen_time(connection, start + timedelta(days=3)):
        await r.call(
            "POST", EVENT + "/publish-results", f"{hack}/publish-results", headers=org.organizer
        )
        await r.call("POST", EVENT + "/archive", f"{hack}/archive", headers=org.organizer)

    assert len(EVENT_ROUTES) == 14
    assert EVENT_ROUTES - r.covered == set()
