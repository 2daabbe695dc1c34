"""An organization with someone in every role, and the webhooks API's addresses."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Organization, User
from tests.factories import create_membership, create_organization
from tests.people import person

ROLES = ("owner", "admin", "organizer", "member")


@dataclass
class Crew:
    """An organization, one member per role, and a signed-in outsider (tokens by role)."""

    org: Organization
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"/api/v1/organizations/{self.org.slug}/webhooks"


async def crew(session: AsyncSession) -> Crew:
    org = await create_organization(session)
    team = Crew(org)
    for role in (*ROLES, "outsider"):
        user, token = await person(session, verified=True)
        if role != "outsider":
            await create_membership(session, org, user, role=role)
        team.users[role], team.tokens[role] = user, token
    return team
