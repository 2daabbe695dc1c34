"""Public voting: window, verified accounts, one vote per track (a second replaces the first), no
self-votes, late accounts flagged, counts hidden from the public until the window closes."""

from __future__ import annotations

from datetime import timedelta

import httpx2
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import Event, PublicVote, User
from tests.helpers import frozen_time
from tests.judging.test_api import NOW, judged_event
from tests.people import person


def code(response: httpx2.Response) -> str:
    return str(response.json()["error"]["code"])


async def test_public_voting_rules(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection
) -> None:
    s, submissions, _ = await judged_event(session, teams=3, judges=1)
    opens, closes = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    await session.execute(
        update(Event)
        .where(Event.id == s.event.id)
        .values(voting_opens_at=opens, voting_closes_at=closes)
    )
    voter, token = await person(session, email="voter@example.org")
    await session.execute(
        update(User)
        .where(User.id == voter.id)
        .values(email_verified_at=NOW - timedelta(days=9), created_at=NOW - timedelta(days=9))
    )
    late, late_token = await person(session, email="late@example.org")
    await session.execute(update(User).where(User.id == late.id).values(email_verified_at=NOW))
    unverified, unverified_token = await person(session, email="new@example.org")
    await session.execute(
        update(User).where(User.id == unverified.id).values(email_verified_at=None)
    )
    await session.execute(
        update(User).where(User.id == s.users["p0"].id).values(email_verified_at=NOW)
    )
    await session.flush()
    url = f"{s.base}/votes"
    auth = {"Authorization": f"Bearer {token}"}
    first = await client.post(url, headers=auth, json={"submission_id": str(submissions[0])})
    assert first.status_code == 200, first.text
    assert first.json()["flagged"] is False
    again = await client.post(url, headers=auth, json={"submission_id": str(submissions[1])})
    assert again.json()["id"] == first.json()["id"]
    flagged = await client.post(
        url,
        headers={"Authorization": f"Bearer {late_token}"},
        json={"submission_id": str(submissions[1])},
    )
    assert flagged.json()["flagged"] is True
    refused = await client.post(
        url,
        headers={"Authorization": f"Bearer {unverified_token}"},
        json={"submission_id": str(submissions[1])},
    )
    assert (refused.status_code, code(refused)) == (403, "verified_account_required")
    own = await client.post(url, headers=s.auth("p0"), json={"submission_id": str(submissions[0])})
    assert (own.status_code, code(own)) == (409, "own_team")
    assert await session.scalar(select(func.count()).select_from(PublicVote)) == 2

    hidden = await client.get(url, headers=auth)
    assert (hidden.status_code, code(hidden)) == (404, "vote_counts_hidden")
    organizer = (await client.get(url, headers=s.auth("olga"))).json()
    assert organizer == [
        {"track_id": None, "submission_id": str(submissions[1]), "votes": 2, "flagged": 1}
    ]
    async with frozen_time(connection, closes + timedelta(seconds=1)):
        closed = await client.post(url, headers=auth, json={"submission_id": str(submissions[2])})
        assert (closed.status_code, code(closed)) == (409, "voting_closed")
        public = (await client.get(url)).json()
        assert public == [
            {"track_id": None, "submission_id": str(submissions[1]), "votes": 2, "flagged": None}
        ]
