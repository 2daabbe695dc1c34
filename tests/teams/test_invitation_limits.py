"""Team invitations: by user id only for people registered for the event (a refusal that does not
say whether the account exists), never an invitee's email in an answer, an email invitation
linked to no account, and invitations and join requests limited per captain (or requester) and
per event, like role invitations."""

from __future__ import annotations

import uuid
from typing import Any

import httpx2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import OutboundEmail, TeamInvitation
from hackops.teams.recruiting import (
    INVITATIONS_PER_EVENT,
    JOIN_REQUESTS_PER_EVENT,
    JOIN_REQUESTS_PER_PERSON,
)
from tests.teams.helpers import Stage, stage
from tests.teams.test_api import code, create


async def team_of(client: httpx2.AsyncClient, s: Stage, who: str = "alice") -> str:
    return str((await create(client, s, who))["id"])


async def test_inviting_by_user_id_needs_someone_registered_for_the_event(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    url = s.team_url(await team_of(client, s), "/invitations")
    refusals = []
    # Registered nowhere; waitlisted; no such account: the same answer.
    for target in (s.id("otto"), s.id("walt"), str(uuid.uuid4())):
        response = await client.post(url, headers=s.auth("alice"), json={"user_id": target})
        refusals.append((response.status_code, response.json()))
    assert refusals[0] == refusals[1] == refusals[2]
    assert refusals[0][0] == 404
    assert refusals[0][1]["error"]["code"] == "participant_not_found"
    ok = await client.post(url, headers=s.auth("alice"), json={"user_id": s.id("bob")})
    assert ok.status_code == 201, ok.text
    assert await session.scalar(select(func.count()).select_from(OutboundEmail)) == 1


def carries(body: Any, value: str) -> bool:
    return value.casefold() in str(body).casefold()


async def test_answers_never_carry_the_invitees_email(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team = await team_of(client, s)
    url = s.team_url(team, "/invitations")
    by_id = await client.post(url, headers=s.auth("alice"), json={"user_id": s.id("bob")})
    assert by_id.status_code == 201, by_id.text
    assert not carries(by_id.json(), s.users["bob"].email)
    assert by_id.json()["invitee"] == "Bob"
    by_email = await client.post(
        url, headers=s.auth("alice"), json={"email": s.users["carol"].email}
    )
    assert by_email.status_code == 201, by_email.text
    # Neither the address nor whether it has an account.
    assert not carries(by_email.json(), s.users["carol"].email)
    assert by_email.json()["invited_user_id"] is None
    listed = await client.get(url, headers=s.auth("alice"))
    for who in ("bob", "carol"):
        assert not carries(listed.json(), s.users[who].email)
    stored = await session.scalar(
        select(TeamInvitation.invited_user_id).where(
            TeamInvitation.id == uuid.UUID(by_email.json()["id"])
        )
    )
    assert stored is None  # an address links to no account; the link's holder accepts


async def test_a_captain_sends_a_bounded_number_of_invitations(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    url = s.team_url(await team_of(client, s), "/invitations")
    answers = []
    for n in range(25):
        response = await client.post(
            url, headers=s.auth("alice"), json={"email": f"stranger{n}@example.org"}
        )
        answers.append(response.status_code)
    assert answers == [201] * 20 + [429] * 5
    limited = await client.post(url, headers=s.auth("alice"), json={"email": "x@example.org"})
    assert (code(limited), "Retry-After" in limited.headers) == ("rate_limited", True)
    assert await session.scalar(select(func.count()).select_from(OutboundEmail)) == 20


async def test_an_event_has_a_budget_for_invitations_and_join_requests(
    client: httpx2.AsyncClient, session: AsyncSession, app: Any
) -> None:
    s = await stage(session)
    alice_team = await team_of(client, s)
    limiter = app.state.account_services.limiter
    for rule in (INVITATIONS_PER_EVENT, JOIN_REQUESTS_PER_EVENT):
        for _ in range(rule.limit.amount):
            await limiter.hit(rule, str(s.event.id))
    invited = await client.post(
        s.team_url(alice_team, "/invitations"),
        headers=s.auth("alice"),
        json={"user_id": s.id("bob")},
    )
    assert (invited.status_code, code(invited)) == (429, "rate_limited")
    asked = await client.post(
        s.team_url(alice_team, "/join-requests"), headers=s.auth("carol"), json={}
    )
    assert (asked.status_code, code(asked)) == (429, "rate_limited")


async def test_a_person_sends_a_bounded_number_of_join_requests(
    client: httpx2.AsyncClient, session: AsyncSession, app: Any
) -> None:
    s = await stage(session)
    alice_team = await team_of(client, s)
    limiter = app.state.account_services.limiter
    for _ in range(JOIN_REQUESTS_PER_PERSON.limit.amount):
        await limiter.hit(JOIN_REQUESTS_PER_PERSON, s.id("carol"))
    asked = await client.post(
        s.team_url(alice_team, "/join-requests"), headers=s.auth("carol"), json={}
    )
    assert (asked.status_code, code(asked)) == (429, "rate_limited")
    other = await client.post(
        s.team_url(alice_team, "/join-requests"), headers=s.auth("dave"), json={}
    )
    assert other.status_code == 201, other.text
