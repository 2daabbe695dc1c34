"""The invitation core (`hackops.invitations`) through the real API, over its three kinds:
organization, event-role and team invitations. One life cycle — issued, pending until it
expires, then exactly one of accepted / declined / revoked — and every refusal with the
domain's own status and code: a second accept, a revoked link, an expired link, an answer from
another address (which consumes nothing). An acceptance proves the address where the domain
says so (organizations, event roles), not for teams. Each settlement writes its audit row.

Two accepts at the same moment over a live server: `test_invitations_concurrency.py`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.models import EventRoleGrant, Membership, TeamInvitation, TeamMember, User
from tests.accounts.helpers import last_link
from tests.helpers import frozen_time
from tests.people import person
from tests.security.audit import Recorder
from tests.teams.helpers import Stage, stage
from tests.web.test_org_pages import as_tenant


@dataclass(frozen=True)
class Kind:
    """What each domain answers (its API: status and code) for each way a link is refused."""

    audit_name: str
    used: tuple[int, str]
    revoked: tuple[int, str]
    expired: tuple[int, str]
    other_address: tuple[int, str]
    no_pending: tuple[int, str]  # revoking what is not pending
    proves_address: bool


KINDS = {
    "organization": Kind(
        audit_name="invitation",
        used=(404, "invitation_not_found"),
        revoked=(404, "invitation_not_found"),
        expired=(404, "invitation_not_found"),
        other_address=(403, "invitation_email_mismatch"),
        no_pending=(404, "invitation_not_found"),
        proves_address=True,
    ),
    "event_role": Kind(
        audit_name="event_role_invitation",
        used=(409, "role_invitation_used"),
        revoked=(410, "role_invitation_revoked"),
        expired=(410, "role_invitation_expired"),
        other_address=(403, "role_invitation_other_address"),
        no_pending=(404, "role_invitation_not_found"),
        proves_address=True,
    ),
    "team": Kind(
        audit_name="team_invitation",
        used=(404, "team_invitation_not_found"),
        revoked=(404, "team_invitation_not_found"),
        expired=(404, "team_invitation_not_found"),
        other_address=(403, "invitation_not_yours"),
        no_pending=(404, "team_invitation_not_found"),
        proves_address=False,
    ),
}


def refusal(response: httpx2.Response) -> tuple[int, str]:
    return response.status_code, str(response.json()["error"]["code"])


class World:
    """A published event (`tests.teams.helpers.stage`: bob and carol registered, their addresses
    not confirmed), an organization admin, olga organizing, alice captain of a team; the calls
    of one kind of invitation."""

    def __init__(self, kind: str, s: Stage, client: httpx2.AsyncClient, session: AsyncSession):
        self.kind, self.s, self.client, self.session = kind, s, client, session
        self.admin_token = ""
        self.team_id = ""

    @classmethod
    async def make(cls, kind: str, client: httpx2.AsyncClient, session: AsyncSession) -> World:
        world = cls(kind, await stage(session), client, session)
        s = world.s
        admin, world.admin_token = await person(
            session, email=f"admin-{uuid.uuid4().hex[:6]}@example.com", verified=True
        )
        await as_tenant(session, s.org.id)
        session.add(Membership(org_id=s.org.id, user_id=admin.id, role="admin"))
        await session.flush()
        if kind == "team":
            team = await client.post(
                f"{s.base}/teams", headers=s.auth("alice"), json={"name": "Alice's team"}
            )
            assert team.status_code == 201, team.text
            world.team_id = str(team.json()["id"])
        return world

    def _as(self, who: str) -> dict[str, str]:
        return self.s.auth(who)

    async def issue(self, to: str = "bob") -> tuple[str, str]:
        """Invite `to` by address; the invitation's id and the token of its mail."""
        s, email = self.s, self.s.users[to].email
        if self.kind == "organization":
            answer = await self.client.post(
                f"/api/v1/organizations/{s.org.slug}/invitations",
                headers={"Authorization": f"Bearer {self.admin_token}"},
                json={"email": email, "role": "member"},
            )
            path = "/invitations/accept"
        elif self.kind == "event_role":
            answer = await self.client.post(
                f"{s.base}/roles", headers=self._as("olga"), json={"email": email, "role": "mentor"}
            )
            path = "/events/invitations/accept"
        else:
            answer = await self.client.post(
                s.team_url(self.team_id, "/invitations"),
                headers=self._as("alice"),
                json={"email": email},
            )
            path = "/team-invitations"
        assert answer.status_code in (201, 202), answer.text
        return str(answer.json()["id"]), await last_link(self.session, email, path)

    async def accept(self, token: str, who: str = "bob") -> httpx2.Response:
        s = self.s
        if self.kind == "organization":
            url, body = "/api/v1/invitations/accept", {"org": s.org.slug, "token": token}
        elif self.kind == "event_role":
            url, body = "/api/v1/events/invitations/accept", {"org": s.org.slug, "token": token}
        else:
            url, body = f"{s.base}/team-invitations/accept", {"token": token}
        return await self.client.post(url, headers=self._as(who), json=body)

    async def revoke(self, ident: str) -> httpx2.Response:
        s = self.s
        if self.kind == "organization":
            return await self.client.delete(
                f"/api/v1/organizations/{s.org.slug}/invitations/{ident}",
                headers={"Authorization": f"Bearer {self.admin_token}"},
            )
        if self.kind == "event_role":
            return await self.client.delete(
                f"{s.base}/role-invitations/{ident}", headers=self._as("olga")
            )
        return await self.client.delete(
            s.team_url(self.team_id, f"/invitations/{ident}"), headers=self._as("alice")
        )

    async def held(self, who: str = "bob") -> int:
        """How many of what the invitation gives `who` holds: membership, role grant, seat."""
        s, user_id = self.s, self.s.users[who].id
        await as_tenant(self.session, s.org.id)
        if self.kind == "organization":
            query = select(func.count()).where(
                Membership.org_id == s.org.id, Membership.user_id == user_id
            )
        elif self.kind == "event_role":
            query = select(func.count()).where(
                EventRoleGrant.event_id == s.event.id,
                EventRoleGrant.user_id == user_id,
                EventRoleGrant.role == "mentor",
            )
        else:
            query = select(func.count()).where(
                TeamMember.team_id == uuid.UUID(self.team_id), TeamMember.user_id == user_id
            )
        return int(await self.session.scalar(query) or 0)

    async def address_proven(self, who: str = "bob") -> bool:
        verified = await self.session.scalar(
            select(User.email_verified_at)
            .where(User.id == self.s.users[who].id)
            .execution_options(populate_existing=True)
        )
        return verified is not None


KIND_NAMES = list(KINDS)


@pytest.mark.parametrize("kind", KIND_NAMES)
async def test_accepted_once_then_every_use_is_refused(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, kind: str
) -> None:
    world = await World.make(kind, client, session)
    _, token = await world.issue()
    assert not await world.address_proven()
    recorder = Recorder(client, connection)
    before = await recorder.audit_actions()

    accepted = await world.accept(token)
    assert accepted.status_code == 200, accepted.text
    assert await world.held() == 1
    assert f"{KINDS[kind].audit_name}.accepted" in (await recorder.audit_actions())[len(before) :]
    # The link reached the inbox: a proof of the address where the domain counts it as one.
    assert await world.address_proven() is KINDS[kind].proves_address

    again = await world.accept(token)
    assert refusal(again) == KINDS[kind].used
    assert await world.held() == 1


@pytest.mark.parametrize("kind", KIND_NAMES)
async def test_a_revoked_invitation_is_refused(
    client: httpx2.AsyncClient, session: AsyncSession, kind: str
) -> None:
    world = await World.make(kind, client, session)
    ident, token = await world.issue()
    revoked = await world.revoke(ident)
    assert revoked.status_code == 204, revoked.text
    assert refusal(await world.accept(token)) == KINDS[kind].revoked
    assert refusal(await world.revoke(ident)) == KINDS[kind].no_pending
    assert await world.held() == 0


@pytest.mark.parametrize("kind", KIND_NAMES)
async def test_an_expired_invitation_is_refused_by_the_database_clock(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, kind: str
) -> None:
    world = await World.make(kind, client, session)
    _, token = await world.issue()
    async with frozen_time(connection, datetime.now(UTC) + timedelta(days=7, minutes=1)):
        assert refusal(await world.accept(token)) == KINDS[kind].expired
    assert await world.held() == 0


@pytest.mark.parametrize("kind", KIND_NAMES)
async def test_another_address_is_refused_and_consumes_nothing(
    client: httpx2.AsyncClient, session: AsyncSession, kind: str
) -> None:
    world = await World.make(kind, client, session)
    _, token = await world.issue(to="bob")
    assert refusal(await world.accept(token, who="carol")) == KINDS[kind].other_address
    assert (await world.held("carol"), await world.held("bob")) == (0, 0)
    assert not await world.address_proven("carol")
    accepted = await world.accept(token, who="bob")
    assert accepted.status_code == 200, accepted.text
    assert await world.held("bob") == 1


async def test_a_declined_team_invitation_is_settled(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """Declining is the third settlement (team invitations only): once, by the addressee."""
    world = await World.make("team", client, session)
    _, token = await world.issue()
    decline = f"{world.s.base}/team-invitations/decline"
    not_yours = await client.post(decline, headers=world.s.auth("carol"), json={"token": token})
    assert refusal(not_yours) == KINDS["team"].other_address
    declined = await client.post(decline, headers=world.s.auth("bob"), json={"token": token})
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    assert refusal(await world.accept(token)) == KINDS["team"].used
    again = await client.post(decline, headers=world.s.auth("bob"), json={"token": token})
    assert refusal(again) == KINDS["team"].used
    assert await world.held() == 0


async def test_disbanding_a_team_revokes_its_pending_invitations(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """The one bulk settlement (`invitations.close_pending`): recorded with `team.disbanded`."""
    world = await World.make("team", client, session)
    ident, token = await world.issue()
    disbanded = await client.post(
        world.s.team_url(world.team_id, "/disband"), headers=world.s.auth("alice")
    )
    assert disbanded.status_code == 204, disbanded.text
    await as_tenant(session, world.s.org.id)
    row = await session.scalar(
        select(TeamInvitation)
        .where(TeamInvitation.id == uuid.UUID(ident))
        .execution_options(populate_existing=True)
    )
    assert row is not None
    assert (row.status, row.decided_at is not None) == ("revoked", True)
    assert refusal(await world.accept(token)) == KINDS["team"].revoked
    assert await world.held() == 0
