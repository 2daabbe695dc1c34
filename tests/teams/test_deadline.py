"""Team changes close with submissions (grace included), read from the frozen database clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tests.helpers import frozen_time
from tests.teams.helpers import stage

CLOSES = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


async def test_a_team_change_one_second_after_submissions_close_is_refused(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await stage(session, submissions_close_at=CLOSES)
    async with frozen_time(connection, CLOSES - SECOND):
        created = await client.post(f"{s.base}/teams", headers=s.auth("alice"), json={"name": "A"})
        assert created.status_code == 201, created.text
    code = created.json()["join_code"]
    async with frozen_time(connection, CLOSES + SECOND):
        calls = [
            ("POST", f"{s.base}/teams", "bob", {"name": "Late"}),
            ("POST", f"{s.base}/teams/join", "bob", {"code": code}),
            ("PATCH", s.team_url(created.json()["id"]), "alice", {"name": "Renamed"}),
            ("POST", s.team_url(created.json()["id"], "/leave"), "alice", None),
            ("POST", s.team_url(created.json()["id"], "/disband"), "alice", None),
            ("POST", s.team_url(created.json()["id"], "/join-requests"), "carol", {}),
        ]
        for method, url, who, body in calls:
            response = await client.request(method, url, headers=s.auth(who), json=body)
            assert response.status_code == 409, (method, url, response.text)
            assert response.json()["error"]["code"] == "teams_locked"
        # Reads still work.
        seen = await client.get(s.team_url(created.json()["id"]), headers=s.auth("alice"))
        assert seen.json()["name"] == "A"


async def test_grace_minutes_extend_the_window(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s = await stage(session, submissions_close_at=CLOSES, grace_minutes=10)
    async with frozen_time(connection, CLOSES + timedelta(minutes=10) - SECOND):
        ok = await client.post(f"{s.base}/teams", headers=s.auth("alice"), json={"name": "A"})
        assert ok.status_code == 201, ok.text
    async with frozen_time(connection, CLOSES + timedelta(minutes=10)):
        late = await client.post(f"{s.base}/teams", headers=s.auth("bob"), json={"name": "B"})
        assert late.status_code == 409
        assert late.json()["error"]["code"] == "teams_locked"
