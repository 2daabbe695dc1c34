"""Single use under concurrency, for each kind of invitation, through the real HTTP stack: the
live server (uvicorn on 127.0.0.1, its own database), two accepts of the same invitation by its
addressee released at once, each round on fresh rows seeded directly in the database. Exactly one
wins; the other is refused with the domain's code; the database holds one membership (role
grant, team seat) and the invitation settled once.

The guard is the invitation core's one guarded UPDATE (`hackops.invitations.transition`); the
organization and event-role flows also lock the row when they find it, so their loser is always
refused as "used". The team flow takes the invitation's row lock last (registration, team, then
the invitation), so its loser may meet the one-team rule first (409 `already_in_a_team`) or,
arriving after the winner committed, the settled invitation (404)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from hackops.accounts.credentials import new_secret
from hackops.config import to_sqlalchemy_url
from hackops.models import (
    EventRoleGrant,
    EventRoleInvitation,
    Invitation,
    Membership,
    TeamInvitation,
    TeamMember,
)
from tests.teams.test_concurrency import Seeder, release_together

pytestmark = pytest.mark.slow

ROUNDS = 6
#: Each kind's accept route (given the organization and event slugs) and what its loser gets.
ACCEPT = {
    "organization": ("/api/v1/invitations/accept", {(404, "invitation_not_found")}),
    "event_role": ("/api/v1/events/invitations/accept", {(409, "role_invitation_used")}),
    "team": (
        "/api/v1/organizations/{org}/events/{event}/team-invitations/accept",
        {(404, "team_invitation_not_found"), (409, "already_in_a_team")},
    ),
}


@pytest.fixture(scope="module")
async def owner(live_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(to_sqlalchemy_url(live_database_url), pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def http(live_server: str) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(base_url=live_server, timeout=30) as client:
        yield client


async def as_platform_admin(session: AsyncSession) -> None:
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))


@pytest.mark.parametrize("kind", list(ACCEPT))
async def test_two_accepts_at_once_one_wins(
    owner: AsyncEngine, http: httpx2.AsyncClient, kind: str
) -> None:
    route, loser_refusals = ACCEPT[kind]
    expires_at = datetime.now(UTC) + timedelta(days=7)
    for _ in range(ROUNDS):
        async with AsyncSession(owner, expire_on_commit=False) as session, session.begin():
            seed = Seeder(session)
            org, event = await seed.start(team_max=5)
            (captain, _), (invitee, bearer) = await seed.people(event, 2)
            team = await seed.team(event, captain, max_members=5)
            token, token_hash = new_secret()
            common = {"org_id": org.id, "email": invitee.email, "token_hash": token_hash}
            if kind == "organization":
                session.add(Invitation(**common, role="member", expires_at=expires_at))
            elif kind == "event_role":
                session.add(
                    EventRoleInvitation(
                        **common, event_id=event.id, role="mentor", expires_at=expires_at
                    )
                )
            else:
                session.add(
                    TeamInvitation(
                        **common,
                        event_id=event.id,
                        team_id=team.id,
                        invited_by_id=captain.id,
                        expires_at=expires_at,
                    )
                )
        url = route.format(org=org.slug, event=event.slug)
        body: dict[str, object] = {"token": token}
        if kind != "team":
            body["org"] = org.slug
        answers = await release_together(http, [(url, bearer, body), (url, bearer, body)])

        winners = [a for a in answers if a.status_code == 200]
        losers = [(a.status_code, a.json()["error"]["code"]) for a in answers if a not in winners]
        assert len(winners) == 1, [a.text for a in answers]
        assert len(losers) == 1
        assert losers[0] in loser_refusals, losers
        async with AsyncSession(owner) as session, session.begin():
            await as_platform_admin(session)
            if kind == "organization":
                held = select(func.count()).where(
                    Membership.org_id == org.id, Membership.user_id == invitee.id
                )
                settled = select(func.count()).where(
                    Invitation.org_id == org.id,
                    Invitation.accepted_by_id == invitee.id,
                    Invitation.accepted_at.is_not(None),
                )
            elif kind == "event_role":
                held = select(func.count()).where(
                    EventRoleGrant.event_id == event.id, EventRoleGrant.user_id == invitee.id
                )
                settled = select(func.count()).where(
                    EventRoleInvitation.event_id == event.id,
                    EventRoleInvitation.accepted_by_id == invitee.id,
                    EventRoleInvitation.accepted_at.is_not(None),
                )
            else:
                held = select(func.count()).where(
                    TeamMember.team_id == team.id, TeamMember.user_id == invitee.id
                )
                settled = select(func.count()).where(
                    TeamInvitation.team_id == team.id,
                    TeamInvitation.status == "accepted",
                    TeamInvitation.invited_user_id == invitee.id,
                    TeamInvitation.decided_at.is_not(None),
                )
            assert (await session.scalar(held), await session.scalar(settled)) == (1, 1)
