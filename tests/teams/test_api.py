"""Teams through the API: create, see, edit, join by code, invitations, join requests, leave,
captain transfer, disband, remove; each refusal with its exact status and code."""

from __future__ import annotations

from datetime import timedelta

import httpx2
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import digest
from hackops.models import Team, TeamInvitation, TeamMember
from tests.accounts.helpers import last_link
from tests.teams.helpers import Stage, stage


def code(response: httpx2.Response) -> str:
    return str(response.json()["error"]["code"])


async def create(
    client: httpx2.AsyncClient, s: Stage, who: str, **body: object
) -> dict[str, object]:
    payload = {"name": f"{who.title()}'s team", **body}
    response = await client.post(f"{s.base}/teams", headers=s.auth(who), json=payload)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_create_makes_the_creator_captain_and_first_member(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team = await create(
        client, s, "alice", description="We build", skills_wanted=[" Python", "python", "Rust "]
    )
    assert team["captain_id"] == s.id("alice")
    assert team["member_count"] == 1
    assert team["max_members"] == s.event.team_max
    assert team["skills_wanted"] == ["python", "rust"]
    assert team["my_role"] == "captain"
    assert len(str(team["join_code"])) == 8
    assert [(m["user_id"], m["role"]) for m in team["members"]] == [(s.id("alice"), "captain")]

    again = await client.post(f"{s.base}/teams", headers=s.auth("alice"), json={"name": "Two"})
    assert (again.status_code, code(again)) == (409, "already_in_a_team")
    same_name = await client.post(
        f"{s.base}/teams", headers=s.auth("bob"), json={"name": "ALICE'S TEAM"}
    )
    assert (same_name.status_code, code(same_name)) == (409, "team_name_taken")
    for who in ("walt", "otto"):  # waitlisted; registered nowhere
        refused = await client.post(f"{s.base}/teams", headers=s.auth(who), json={"name": who})
        assert (refused.status_code, code(refused)) == (409, "not_registered"), who
    anonymous = await client.post(f"{s.base}/teams", json={"name": "Anon"})
    assert anonymous.status_code == 401
    invalid = await client.post(
        f"{s.base}/teams", headers=s.auth("bob"), json={"name": "", "captain_id": s.id("carol")}
    )
    assert invalid.status_code == 422


async def test_who_sees_what(client: httpx2.AsyncClient, session: AsyncSession) -> None:
    s = await stage(session)
    team = await create(client, s, "alice")
    url = s.team_url(team["id"])
    for who in ("bob", "olga"):  # a registered participant; an organizer
        seen = await client.get(url, headers=s.auth(who))
        assert seen.status_code == 200, (who, seen.text)
        assert seen.json()["join_code"] is None
        assert seen.json()["my_role"] is None
    for who in ("otto", "walt", "anonymous"):
        hidden = await client.get(url, headers=s.auth(who))
        assert (hidden.status_code, code(hidden)) == (404, "team_not_found"), who
    for suffix in ("/invitations", "/join-requests"):  # member-only
        assert (await client.get(url + suffix, headers=s.auth("bob"))).status_code == 404
        assert (await client.get(url + suffix, headers=s.auth("alice"))).status_code == 200
    listed = await client.get(f"{s.base}/teams", headers=s.auth("bob"))
    assert [t["id"] for t in listed.json()["items"]] == [team["id"]]
    assert (await client.get(f"{s.base}/teams", headers=s.auth("otto"))).status_code == 404
    mine = await client.get(f"{s.base}/teams/mine", headers=s.auth("alice"))
    assert mine.json()["id"] == team["id"]
    assert (await client.get(f"{s.base}/teams/mine", headers=s.auth("bob"))).status_code == 404


async def test_the_captain_edits_the_team(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team = await create(client, s, "alice")
    url = s.team_url(team["id"])
    await client.post(
        f"{s.base}/teams/join", headers=s.auth("bob"), json={"code": team["join_code"]}
    )
    edited = await client.patch(
        url,
        headers=s.auth("alice"),
        json={
            "name": "Night Owls",
            "description": "d",
            "recruiting": False,
            "skills_wanted": ["Go"],
        },
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["name"], body["description"], body["recruiting"], body["skills_wanted"]) == (
        "Night Owls",
        "d",
        False,
        ["go"],
    )
    by_member = await client.patch(url, headers=s.auth("bob"), json={"name": "Mine"})
    assert (by_member.status_code, code(by_member)) == (403, "not_captain")
    by_outsider = await client.patch(url, headers=s.auth("carol"), json={"name": "Mine"})
    assert by_outsider.status_code == 404  # captain-only: 404 to non-members
    by_stranger = await client.patch(url, headers=s.auth("otto"), json={"name": "Mine"})
    assert by_stranger.status_code == 404


async def test_join_by_code_up_to_the_maximum(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session, team_max=2)
    team = await create(client, s, "alice")
    joined = await client.post(
        f"{s.base}/teams/join", headers=s.auth("bob"), json={"code": team["join_code"].lower()}
    )
    assert joined.status_code == 200, joined.text
    assert joined.json()["role"] == "member"
    full = await client.post(
        f"{s.base}/teams/join", headers=s.auth("carol"), json={"code": team["join_code"]}
    )
    assert (full.status_code, code(full)) == (409, "team_full")
    twice = await client.post(
        f"{s.base}/teams/join", headers=s.auth("bob"), json={"code": team["join_code"]}
    )
    assert (twice.status_code, code(twice)) == (409, "already_in_a_team")
    waitlisted = await client.post(
        f"{s.base}/teams/join", headers=s.auth("walt"), json={"code": team["join_code"]}
    )
    assert (waitlisted.status_code, code(waitlisted)) == (409, "not_registered")
    unknown = await client.post(
        f"{s.base}/teams/join", headers=s.auth("carol"), json={"code": "NOPE1234"}
    )
    assert (unknown.status_code, code(unknown)) == (404, "team_not_found")
    count = await session.scalar(select(Team.member_count).where(Team.id == team["id"]))
    assert count == 2


async def test_invitations_by_email_and_by_user(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team = await create(client, s, "alice")
    url = s.team_url(team["id"], "/invitations")
    by_email = await client.post(
        url, headers=s.auth("alice"), json={"email": f"  {s.users['bob'].email.upper()} "}
    )
    assert by_email.status_code == 201, by_email.text
    # Linked to no account, and the answer carries no address (test_invitation_limits).
    assert (by_email.json()["by_email"], by_email.json()["invited_user_id"]) == (True, None)
    again = await client.post(url, headers=s.auth("alice"), json={"user_id": s.id("bob")})
    assert (again.status_code, code(again)) == (409, "team_invitation_pending")
    by_member = await client.post(url, headers=s.auth("bob"), json={"user_id": s.id("carol")})
    assert by_member.status_code == 404  # bob is not a member yet: the team's inside is hidden
    both = await client.post(
        url, headers=s.auth("alice"), json={"email": "x@example.com", "user_id": s.id("carol")}
    )
    assert both.status_code == 422

    token = await last_link(session, s.users["bob"].email, "/team-invitations")
    stored = await session.scalar(
        select(TeamInvitation.token_hash).where(TeamInvitation.id == by_email.json()["id"])
    )
    assert stored == digest(token)  # only the hash is stored
    not_yours = await client.post(
        f"{s.base}/team-invitations/accept", headers=s.auth("carol"), json={"token": token}
    )
    assert (not_yours.status_code, code(not_yours)) == (403, "invitation_not_yours")
    accepted = await client.post(
        f"{s.base}/team-invitations/accept", headers=s.auth("bob"), json={"token": token}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["team_id"] == team["id"]
    reused = await client.post(
        f"{s.base}/team-invitations/accept", headers=s.auth("bob"), json={"token": token}
    )
    assert (reused.status_code, code(reused)) == (404, "team_invitation_not_found")

    # By user id; revoked; declined; expired.
    to_carol = await client.post(url, headers=s.auth("alice"), json={"user_id": s.id("carol")})
    assert to_carol.status_code == 201
    listed = await client.get(url, headers=s.auth("bob"))
    assert [i["id"] for i in listed.json()] == [to_carol.json()["id"]]
    revoked = await client.delete(f"{url}/{to_carol.json()['id']}", headers=s.auth("alice"))
    assert revoked.status_code == 204
    carol_token = await last_link(session, s.users["carol"].email, "/team-invitations")
    after_revoke = await client.post(
        f"{s.base}/team-invitations/accept", headers=s.auth("carol"), json={"token": carol_token}
    )
    assert after_revoke.status_code == 404
    await client.post(url, headers=s.auth("alice"), json={"user_id": s.id("carol")})
    carol_token = await last_link(session, s.users["carol"].email, "/team-invitations")
    declined = await client.post(
        f"{s.base}/team-invitations/decline", headers=s.auth("carol"), json={"token": carol_token}
    )
    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    await client.post(url, headers=s.auth("alice"), json={"user_id": s.id("dave")})
    dave_token = await last_link(session, s.users["dave"].email, "/team-invitations")
    await session.execute(
        update(TeamInvitation)
        .where(TeamInvitation.email == s.users["dave"].email)
        .values(expires_at=TeamInvitation.created_at - timedelta(seconds=1))
    )
    expired = await client.post(
        f"{s.base}/team-invitations/accept", headers=s.auth("dave"), json={"token": dave_token}
    )
    assert (expired.status_code, code(expired)) == (404, "team_invitation_not_found")


async def test_join_requests_approved_or_declined_by_the_captain(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team = await create(client, s, "alice")
    url = s.team_url(team["id"], "/join-requests")
    asked = await client.post(url, headers=s.auth("bob"), json={"message": "I do frontends"})
    assert asked.status_code == 201, asked.text
    twice = await client.post(url, headers=s.auth("bob"), json={})
    assert (twice.status_code, code(twice)) == (409, "join_request_pending")
    by_member = await client.post(f"{url}/{asked.json()['id']}/approve", headers=s.auth("carol"))
    assert (by_member.status_code, code(by_member)) == (404, "team_not_found")  # not a member
    approved = await client.post(f"{url}/{asked.json()['id']}/approve", headers=s.auth("alice"))
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    members = await session.scalars(
        select(TeamMember.user_id).where(TeamMember.team_id == team["id"])
    )
    assert {str(m) for m in members} == {s.id("alice"), s.id("bob")}

    carol = await client.post(url, headers=s.auth("carol"), json={})
    declined = await client.post(f"{url}/{carol.json()['id']}/decline", headers=s.auth("alice"))
    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    dave = await client.post(url, headers=s.auth("dave"), json={})
    not_his = await client.delete(f"{url}/{dave.json()['id']}", headers=s.auth("carol"))
    assert not_his.status_code == 404
    withdrawn = await client.delete(f"{url}/{dave.json()['id']}", headers=s.auth("dave"))
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")

    await client.patch(s.team_url(team["id"]), headers=s.auth("alice"), json={"recruiting": False})
    closed = await client.post(url, headers=s.auth("carol"), json={})
    assert (closed.status_code, code(closed)) == (409, "team_not_recruiting")


async def test_leave_transfer_remove_and_disband(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team = await create(client, s, "alice")
    url = s.team_url(team["id"])
    for who in ("bob", "carol"):
        await client.post(
            f"{s.base}/teams/join", headers=s.auth(who), json={"code": team["join_code"]}
        )
    captain_leaves = await client.post(f"{url}/leave", headers=s.auth("alice"))
    assert (captain_leaves.status_code, code(captain_leaves)) == (409, "captain_must_transfer")
    not_member = await client.post(
        f"{url}/captain", headers=s.auth("alice"), json={"user_id": s.id("dave")}
    )
    assert (not_member.status_code, code(not_member)) == (404, "team_member_not_found")
    moved = await client.post(
        f"{url}/captain", headers=s.auth("alice"), json={"user_id": s.id("bob")}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["captain_id"] == s.id("bob")
    roles = {m["user_id"]: m["role"] for m in moved.json()["members"]}
    assert roles == {s.id("alice"): "member", s.id("bob"): "captain", s.id("carol"): "member"}
    left = await client.post(f"{url}/leave", headers=s.auth("alice"))
    assert left.json() == {"team_id": team["id"], "disbanded": False}
    removed = await client.delete(f"{url}/members/{s.id('carol')}", headers=s.auth("bob"))
    assert removed.status_code == 204
    assert (await client.get(url, headers=s.auth("bob"))).json()["member_count"] == 1

    alone = await client.post(f"{url}/leave", headers=s.auth("bob"))
    assert alone.json() == {"team_id": team["id"], "disbanded": True}
    assert (await client.get(url, headers=s.auth("bob"))).status_code == 404

    other = await create(client, s, "carol", name="Again")
    await client.post(
        f"{s.base}/teams/join", headers=s.auth("dave"), json={"code": other["join_code"]}
    )
    by_member = await client.post(s.team_url(other["id"], "/disband"), headers=s.auth("dave"))
    assert by_member.status_code == 403
    disbanded = await client.post(s.team_url(other["id"], "/disband"), headers=s.auth("carol"))
    assert disbanded.status_code == 204
    # Everyone is free again, and the name can be used again.
    left_over = await session.scalar(select(TeamMember.id).where(TeamMember.team_id == other["id"]))
    assert left_over is None
    reborn = await create(client, s, "dave", name="Again")
    assert reborn["member_count"] == 1
