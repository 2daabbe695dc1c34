"""Teams write their domain events through the real API — an invitation, every way in (creation,
code, invitation, approved request), every way out (leaving, removal, a cancelled
registration, disbanding) — exactly one row per change, none for a refusal; the fan-out tells
the team and the person concerned, never the one who acted."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts.helpers import last_link
from tests.factories import create_team, create_team_member
from tests.outbox.helpers import check, dispatch, events
from tests.teams.helpers import stage


def code(response: httpx2.Response) -> str:
    return str(response.json()["error"]["code"])


async def test_every_way_into_a_team_writes_member_joined_and_tells_the_others(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    alice = s.users["alice"]
    alice.email_verified_at = datetime.now(UTC)
    await session.flush()
    created = await client.post(
        f"{s.base}/teams", headers=s.auth("alice"), json={"name": "Rockets"}
    )
    assert created.status_code == 201, created.text
    team = created.json()
    team_url = s.team_url(team["id"])

    wrong = await client.post(
        f"{s.base}/teams/join", headers=s.auth("bob"), json={"code": "ZZZZZZZZ"}
    )
    assert wrong.status_code == 404
    outsider = await client.post(
        f"{s.base}/teams/join", headers=s.auth("otto"), json={"code": team["join_code"]}
    )
    assert outsider.status_code in (403, 404, 409)
    by_code = await client.post(
        f"{s.base}/teams/join", headers=s.auth("bob"), json={"code": team["join_code"]}
    )
    assert by_code.status_code in (200, 201), by_code.text

    invited = await client.post(
        team_url + "/invitations", headers=s.auth("alice"), json={"user_id": s.id("carol")}
    )
    assert invited.status_code == 201, invited.text
    token = await last_link(session, s.users["carol"].email, "/team-invitations")
    accepted = await client.post(
        f"{s.base}/team-invitations/accept", headers=s.auth("carol"), json={"token": token}
    )
    assert accepted.status_code == 200, accepted.text
    again = await client.post(
        f"{s.base}/team-invitations/accept", headers=s.auth("carol"), json={"token": token}
    )
    assert again.status_code >= 400

    asked = await client.post(team_url + "/join-requests", headers=s.auth("dave"), json={})
    assert asked.status_code == 201, asked.text
    approved = await client.post(
        f"{team_url}/join-requests/{asked.json()['id']}/approve", headers=s.auth("alice")
    )
    assert approved.status_code == 200, approved.text

    rows = await events(session, "team.member_joined", s.event.id)
    assert [(r.payload["user_id"], r.payload["via"], r.actor_id) for r in rows] == [
        (s.id("alice"), "created", alice.id),
        (s.id("bob"), "code", s.users["bob"].id),
        (s.id("carol"), "invitation", s.users["carol"].id),
        (s.id("dave"), "request", alice.id),
    ]
    check(
        rows[1],
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.users["bob"].id,
        payload={"team_id": team["id"], "user_id": s.users["bob"].id, "via": "code"},
    )
    assert rows[1].subject_type == "team"
    assert str(rows[1].subject_id) == team["id"]

    created_told, code_told, invitation_told, request_told = [
        await dispatch(session, row) for row in rows
    ]
    ids = {name: s.users[name].id for name in ("alice", "bob", "carol", "dave", "otto", "olga")}
    assert created_told.people == set()  # the creator is its only member
    # By then the team is whoever is on it now: the fan-out reads the team when it runs.
    assert set(code_told.in_app) == {ids["alice"], ids["carol"], ids["dave"]}
    assert code_told.title(ids["alice"]) == "Bob joined your team Rockets"
    team_page = f"/orgs/{s.org.slug}/events/{s.event.slug}/teams/{team['id']}"
    assert code_told.in_app[ids["alice"]].link == team_page
    assert set(code_told.mailed) == {ids["alice"]}  # the only confirmed address
    assert set(invitation_told.in_app) == {ids["alice"], ids["bob"], ids["dave"]}
    # Approved by the captain: the others and the newcomer, not the captain.
    assert set(request_told.in_app) == {ids["bob"], ids["carol"], ids["dave"]}
    assert request_told.title(ids["dave"]) == "You are on the team Rockets"
    assert request_told.title(ids["bob"]) == "Dave joined your team Rockets"
    for told in (code_told, invitation_told, request_told):
        assert ids["otto"] not in told.people
        assert ids["olga"] not in told.people


async def test_an_invitation_writes_one_event_and_tells_the_invited_account_in_the_app(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    carol = s.users["carol"]
    carol.email_verified_at = datetime.now(UTC)
    await session.flush()
    team = await create_team(session, s.event, s.users["alice"])
    url = s.team_url(team.id, "/invitations")
    nobody = await client.post(url, headers=s.auth("alice"), json={"user_id": s.id("otto")})
    assert (nobody.status_code, code(nobody)) == (404, "participant_not_found")
    not_captain = await client.post(url, headers=s.auth("bob"), json={"user_id": s.id("carol")})
    assert not_captain.status_code == 404
    assert await events(session, "team.invitation_sent", s.event.id) == []

    by_id = await client.post(url, headers=s.auth("alice"), json={"user_id": s.id("carol")})
    assert by_id.status_code == 201, by_id.text
    twice = await client.post(url, headers=s.auth("alice"), json={"user_id": s.id("carol")})
    assert (twice.status_code, code(twice)) == (409, "team_invitation_pending")
    by_address = await client.post(url, headers=s.auth("alice"), json={"email": "pat@example.org"})
    assert by_address.status_code == 201, by_address.text

    rows = await events(session, "team.invitation_sent", s.event.id)
    assert len(rows) == 2
    check(
        rows[0],
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=s.users["alice"].id,
        payload={
            "team_id": team.id,
            "invitation_id": by_id.json()["id"],
            "invited_user_id": carol.id,
        },
    )
    assert rows[1].payload["invited_user_id"] is None  # by address: linked to no account
    assert "pat@example.org" not in str(rows[1].payload)

    told = await dispatch(session, rows[0])
    assert set(told.in_app) == {carol.id}
    assert told.title(carol.id) == f"Alice invited you to join the team {team.name}"
    # The invitation's own mail carries the link with its token: no second mail.
    assert told.mailed == {}
    assert (await dispatch(session, rows[1])).people == set()


async def test_every_way_out_of_a_team_writes_member_left_and_spares_the_actor(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team = await create_team(session, s.event, s.users["alice"])
    for name in ("bob", "carol", "dave"):
        await create_team_member(session, team, s.users[name])
    ids = {name: s.users[name].id for name in ("alice", "bob", "carol", "dave", "otto")}
    url = s.team_url(team.id)

    captain_alone = await client.post(url + "/leave", headers=s.auth("alice"))
    assert (captain_alone.status_code, code(captain_alone)) == (409, "captain_must_transfer")
    left = await client.post(url + "/leave", headers=s.auth("bob"))
    assert left.status_code in (200, 204), left.text
    self_removal = await client.delete(f"{url}/members/{s.id('alice')}", headers=s.auth("alice"))
    assert self_removal.status_code == 409
    gone = await client.delete(f"{url}/members/{s.id('bob')}", headers=s.auth("alice"))
    assert gone.status_code == 404
    removed = await client.delete(f"{url}/members/{s.id('carol')}", headers=s.auth("alice"))
    assert removed.status_code in (200, 204), removed.text
    cancelled = await client.post(f"{s.base}/registrations/me/cancel", headers=s.auth("dave"))
    assert cancelled.status_code == 200, cancelled.text

    rows = await events(session, "team.member_left", s.event.id)
    assert [
        (r.payload["user_id"], r.payload["reason"], r.payload["removed"], r.actor_id) for r in rows
    ] == [
        (s.id("bob"), "left", False, ids["bob"]),
        (s.id("carol"), "removed", True, ids["alice"]),
        (s.id("dave"), "registration_cancelled", False, ids["dave"]),
    ]
    check(
        rows[1],
        org_id=s.org.id,
        event_id=s.event.id,
        actor_id=ids["alice"],
        payload={
            "team_id": team.id,
            "user_id": ids["carol"],
            "removed": True,
            "reason": "removed",
        },
    )
    left_told, removed_told, cancelled_told = [await dispatch(session, row) for row in rows]
    # The ones still on the team when the fan-out runs; never the person who left.
    assert set(left_told.in_app) == {ids["alice"]}
    assert left_told.title(ids["alice"]) == f"Bob left your team {team.name}"
    # The captain who removed Carol is not told; Carol is.
    assert set(removed_told.in_app) == {ids["carol"]}
    assert removed_told.title(ids["carol"]) == f"You were removed from the team {team.name}"
    assert removed_told.in_app[ids["carol"]].link == (
        f"/orgs/{s.org.slug}/events/{s.event.slug}/teams"
    )
    assert set(cancelled_told.in_app) == {ids["alice"]}
    for told in (left_told, removed_told, cancelled_told):
        assert ids["otto"] not in told.people


async def test_disbanding_writes_one_member_left_per_member_and_tells_the_others(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team = await create_team(session, s.event, s.users["alice"])
    await create_team_member(session, team, s.users["bob"])
    by_member = await client.post(s.team_url(team.id, "/disband"), headers=s.auth("bob"))
    assert by_member.status_code >= 400
    assert await events(session, "team.member_left", s.event.id) == []
    done = await client.post(s.team_url(team.id, "/disband"), headers=s.auth("alice"))
    assert done.status_code in (200, 204), done.text

    rows = await events(session, "team.member_left", s.event.id)
    assert [(r.payload["user_id"], r.payload["removed"], r.payload["reason"]) for r in rows] == [
        (s.id("alice"), False, "disbanded"),
        (s.id("bob"), True, "disbanded"),
    ]
    assert {r.actor_id for r in rows} == {s.users["alice"].id}
    assert (await dispatch(session, rows[0])).people == set()
    told = await dispatch(session, rows[1])
    assert set(told.in_app) == {s.users["bob"].id}
    assert told.title(s.users["bob"].id) == f"The team {team.name} was disbanded"
