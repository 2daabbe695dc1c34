"""A cancelled or removed registration takes its holder out of the team: member removed, captain
replaced by the longest-standing member, a captain alone disbands; nothing moves once team
changes are locked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import AuditEntry, Registration, Team, TeamMember
from tests.helpers import frozen_time
from tests.teams.helpers import Stage, stage


async def team_of(client: httpx2.AsyncClient, s: Stage, captain: str, *members: str) -> str:
    created = await client.post(f"{s.base}/teams", headers=s.auth(captain), json={"name": "T"})
    assert created.status_code == 201, created.text
    team = created.json()
    for who in members:
        joined = await client.post(
            f"{s.base}/teams/join", headers=s.auth(who), json={"code": team["join_code"]}
        )
        assert joined.status_code in (200, 201), joined.text
    return str(team["id"])


async def members(session: AsyncSession, team_id: str) -> dict[str, str]:
    rows = await session.execute(
        select(TeamMember.user_id, TeamMember.role).where(TeamMember.team_id == team_id)
    )
    return {str(user_id): role for user_id, role in rows}


async def test_a_member_who_cancels_leaves_the_team(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team_id = await team_of(client, s, "alice", "bob", "carol")
    cancelled = await client.post(f"{s.base}/registrations/me/cancel", headers=s.auth("bob"))
    assert cancelled.status_code == 200, cancelled.text
    assert await members(session, team_id) == {s.id("alice"): "captain", s.id("carol"): "member"}
    team = await session.get(Team, team_id, populate_existing=True)
    assert team is not None
    assert team.member_count == 2
    reasons = await session.scalars(
        select(AuditEntry.details["reason"].astext).where(
            AuditEntry.action == "team_member.removed", AuditEntry.resource_id == str(team.id)
        )
    )
    assert list(reasons) == ["registration_cancelled"]


async def test_a_captain_who_cancels_hands_over_to_the_first_member(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team_id = await team_of(client, s, "alice", "bob", "carol")
    cancelled = await client.post(f"{s.base}/registrations/me/cancel", headers=s.auth("alice"))
    assert cancelled.status_code == 200, cancelled.text
    assert await members(session, team_id) == {s.id("bob"): "captain", s.id("carol"): "member"}
    team = await session.get(Team, team_id, populate_existing=True)
    assert team is not None
    assert str(team.captain_id) == s.id("bob")


async def test_removal_by_an_organizer_of_a_lone_captain_disbands_the_team(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s = await stage(session)
    team_id = await team_of(client, s, "alice")
    registration_id = await session.scalar(
        select(Registration.id).where(Registration.user_id == s.users["alice"].id)
    )
    removed = await client.delete(
        f"{s.base}/registrations/{registration_id}", headers=s.auth("olga")
    )
    assert removed.status_code == 204, removed.text
    assert await members(session, team_id) == {}
    team = await session.get(Team, team_id, populate_existing=True)
    assert team is not None
    assert team.disbanded_at is not None
    # Free to register again and join a new team.
    again = await client.post(f"{s.base}/registrations", headers=s.auth("alice"), json={})
    assert again.status_code == 201, again.text
    await team_of(client, s, "alice")


async def test_after_submissions_close_the_team_keeps_its_members(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    now = datetime.now(UTC)
    s = await stage(
        session,
        registration_opens_at=now - timedelta(days=3),
        starts_at=now - timedelta(days=2),
        submissions_close_at=now + timedelta(hours=1),
    )
    team_id = await team_of(client, s, "alice", "bob")
    assert s.event.submissions_close_at is not None
    async with frozen_time(connection, s.event.submissions_close_at + timedelta(seconds=1)):
        registration_id = await session.scalar(
            select(Registration.id).where(Registration.user_id == s.users["bob"].id)
        )
        removed = await client.delete(
            f"{s.base}/registrations/{registration_id}", headers=s.auth("olga")
        )
        assert removed.status_code == 204, removed.text
    assert await members(session, team_id) == {s.id("alice"): "captain", s.id("bob"): "member"}
