"""A published event with two teams and the people around them, built with the factories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.auth_tokens import create_token
from hackops.actor import Actor
from hackops.models import Event, Membership, Organization, Team, TeamMember, TokenKind, User
from hackops.tenancy import set_tenant
from tests.accounts.helpers import bearer
from tests.factories import (
    create_event,
    create_organization,
    create_registration,
    create_team,
    create_user,
)


@dataclass
class World:
    org: Organization
    event: Event
    team: Team  # captain alice, member bob
    other_team: Team  # captain carol
    alice: User
    bob: User
    carol: User  # a member of another team of the same event
    organizer: User  # an organizer of this event's organization
    stranger: User  # the owner of another organization
    tokens: dict[str, str]  # name -> bearer token

    def auth(self, name: str) -> dict[str, str]:
        return bearer(self.tokens[name]) if name != "anonymous" else {}

    @property
    def base(self) -> str:
        return (
            f"/api/v1/organizations/{self.org.slug}/events/{self.event.slug}"
            f"/teams/{self.team.id}/tasks"
        )


async def token_for(session: AsyncSession, user: User) -> str:
    raw, _ = await create_token(
        session, Actor(user), user, kind=TokenKind.SESSION, lifetime=timedelta(days=1)
    )
    return raw


async def add_member(session: AsyncSession, event: Event, team: Team, user: User) -> None:
    session.add(
        TeamMember(org_id=event.org_id, event_id=event.id, team_id=team.id, user_id=user.id)
    )
    await session.flush()


async def build_world(session: AsyncSession) -> World:
    org = await create_organization(session)
    event = await create_event(session, org, published_at=datetime.now(UTC))
    people = {n: await create_user(session, name=n.title()) for n in ("alice", "bob", "carol")}
    for user in people.values():
        await create_registration(session, event, user)
    team = await create_team(session, event, people["alice"])
    await add_member(session, event, team, people["bob"])
    other_team = await create_team(session, event, people["carol"])
    organizer = await create_user(session, name="Organizer")
    session.add(Membership(org_id=org.id, user_id=organizer.id, role="organizer"))
    await session.flush()
    other_org = await create_organization(session)
    stranger = await create_user(session, name="Stranger")
    await set_tenant(session, other_org.id)
    session.add(Membership(org_id=other_org.id, user_id=stranger.id, role="owner"))
    await session.flush()
    await set_tenant(session, org.id)
    everyone = {**people, "organizer": organizer, "stranger": stranger}
    tokens = {name: await token_for(session, user) for name, user in everyone.items()}
    return World(
        org=org,
        event=event,
        team=team,
        other_team=other_team,
        alice=people["alice"],
        bob=people["bob"],
        carol=people["carol"],
        organizer=organizer,
        stranger=stranger,
        tokens=tokens,
    )
