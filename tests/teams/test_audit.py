"""Every state-changing team and finder route writes exactly one audit row (its listed action)."""

from __future__ import annotations

import httpx2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tests.accounts.helpers import last_link
from tests.security.audit import AUDITED, EVENT, Recorder
from tests.teams.helpers import stage

TEAM = EVENT + "/teams/{team_id}"


async def test_every_team_write_route_writes_exactly_one_audit_row(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await stage(session)
    r = Recorder(client, connection)
    base = s.base

    async def invitation_token(who: str) -> str:
        return await last_link(session, s.users[who].email, "/team-invitations")

    await r.call(
        "PATCH",
        EVENT + "/finder/me",
        f"{base}/finder/me",
        headers=s.auth("alice"),
        json={"looking_for_team": False, "skills": ["python"]},
    )
    team = (
        await r.call(
            "POST", EVENT + "/teams", f"{base}/teams", headers=s.auth("alice"), json={"name": "A"}
        )
    ).json()
    url = s.team_url(team["id"])
    await r.call("PATCH", TEAM, url, headers=s.auth("alice"), json={"recruiting": True})
    await r.call(
        "POST",
        EVENT + "/teams/join",
        f"{base}/teams/join",
        headers=s.auth("bob"),
        json={"code": team["join_code"]},
    )
    invited = await r.call(
        "POST",
        TEAM + "/invitations",
        url + "/invitations",
        headers=s.auth("alice"),
        json={"user_id": s.id("carol")},
    )
    await r.call(
        "DELETE",
        TEAM + "/invitations/{invitation_id}",
        f"{url}/invitations/{invited.json()['id']}",
        headers=s.auth("alice"),
    )
    await client.post(
        url + "/invitations", headers=s.auth("alice"), json={"user_id": s.id("carol")}
    )
    await r.call(
        "POST",
        EVENT + "/team-invitations/accept",
        f"{base}/team-invitations/accept",
        headers=s.auth("carol"),
        json={"token": await invitation_token("carol")},
    )
    await client.post(url + "/invitations", headers=s.auth("alice"), json={"user_id": s.id("dave")})
    await r.call(
        "POST",
        EVENT + "/team-invitations/decline",
        f"{base}/team-invitations/decline",
        headers=s.auth("dave"),
        json={"token": await invitation_token("dave")},
    )

    async def ask() -> str:
        created = await r.call(
            "POST", TEAM + "/join-requests", url + "/join-requests", headers=s.auth("dave"), json={}
        )
        return str(created.json()["id"])

    request_id = await ask()
    await r.call(
        "POST",
        TEAM + "/join-requests/{request_id}/decline",
        f"{url}/join-requests/{request_id}/decline",
        headers=s.auth("alice"),
    )
    request_id = await ask()
    await r.call(
        "DELETE",
        TEAM + "/join-requests/{request_id}",
        f"{url}/join-requests/{request_id}",
        headers=s.auth("dave"),
    )
    request_id = await ask()
    await r.call(
        "POST",
        TEAM + "/join-requests/{request_id}/approve",
        f"{url}/join-requests/{request_id}/approve",
        headers=s.auth("alice"),
    )
    await r.call(
        "DELETE",
        TEAM + "/members/{user_id}",
        f"{url}/members/{s.id('dave')}",
        headers=s.auth("alice"),
    )
    await r.call(
        "POST",
        TEAM + "/captain",
        url + "/captain",
        headers=s.auth("alice"),
        json={"user_id": s.id("bob")},
    )
    await r.call("POST", TEAM + "/leave", url + "/leave", headers=s.auth("alice"))
    await r.call("POST", TEAM + "/disband", url + "/disband", headers=s.auth("bob"))

    mine = {
        key
        for key in AUDITED
        if key[1].startswith(EVENT) and "/tasks" not in key[1] and "/submission" not in key[1]
    }
    mine = {key for key in mine if "/teams" in key[1] or "/team-" in key[1] or "/finder" in key[1]}
    assert r.covered == mine, mine - r.covered
