"""The events where I hold a role (organizer, judge, mentor), in every organization.

An invited judge is often not a member of the organization, so these cannot be found through
memberships: each person may read their own `event_roles` rows (migration 0012); the events are
then read under each organization's tenant, drafts included (holding a role is access).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.deps import CurrentUserDep
from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.models import Event, EventRoleGrant, Organization, User
from hackops.routing import Router
from hackops.schemas import OutputModel
from hackops.tenancy import set_tenant

router = Router(prefix="/me", tags=["me"])


class MyEventRoleOut(OutputModel):
    role: str
    granted_at: datetime
    org_slug: str
    org_name: str
    event_slug: str
    event_name: str
    starts_at: datetime | None
    judging_closes_at: datetime | None


async def list_my_roles(
    session: AsyncSession, user: User
) -> list[tuple[EventRoleGrant, Event, Organization]]:
    """My role grants with their events and organizations, soonest event first."""
    await set_tenant(session, None)
    grants = list(
        await session.scalars(select(EventRoleGrant).where(EventRoleGrant.user_id == user.id))
    )
    org_ids = {g.org_id for g in grants}
    orgs = {
        org.id: org
        for org in await session.scalars(
            select(Organization).where(
                Organization.id.in_(org_ids), Organization.deleted_at.is_(None)
            )
        )
    }
    events: dict[uuid.UUID, Event] = {}
    for org_id in sorted(orgs):
        await set_tenant(session, org_id)
        wanted = [g.event_id for g in grants if g.org_id == org_id]
        for event in await session.scalars(select(Event).where(Event.id.in_(wanted))):
            events[event.id] = event
    await set_tenant(session, None)
    found = [(g, events[g.event_id], orgs[g.org_id]) for g in grants if g.event_id in events]
    found.sort(
        key=lambda row: (
            row[1].starts_at is None,
            row[1].starts_at.timestamp() if row[1].starts_at else 0.0,
            row[1].name,
            row[0].role,
        )
    )
    return found


@router.get(
    "/event-roles",
    response_model=list[MyEventRoleOut],
    summary="Events where I am an organizer, judge or mentor, in every organization",
    responses=error_responses(401),
)
async def my_event_roles(session: SessionDep, user: CurrentUserDep) -> list[MyEventRoleOut]:
    return [
        MyEventRoleOut(
            role=grant.role,
            granted_at=grant.created_at,
            org_slug=org.slug,
            org_name=org.name,
            event_slug=event.slug,
            event_name=event.name,
            starts_at=event.starts_at,
            judging_closes_at=event.judging_closes_at,
        )
        for grant, event, org in await list_my_roles(session, user)
    ]
