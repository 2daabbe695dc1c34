"""FastAPI dependencies over `events.access`: load an event by organization slug and event slug
AND authorize the caller, setting the tenant (`EventDep`, `EventOrganizerDep`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from hackops import gate
from hackops.accounts.deps import ActorDep
from hackops.db import SessionDep
from hackops.events.access import (
    EventAccess,
    EventNotFound,
    NotAnOrganizer,
    load_event_access,
)
from hackops.models import OrgRole
from hackops.orgs.service import InsufficientRole, rank
from hackops.routing import SlugPath

__all__ = [
    "EventAccess",
    "EventDep",
    "EventNotFound",
    "EventOrganizerDep",
    "NotAnOrganizer",
    "OrgOrganizerEventDep",
    "load_event_access",
]


@gate.loads(gate.EVENT)
async def event_access(
    slug: SlugPath,
    event_slug: SlugPath,
    session: SessionDep,
    actor: ActorDep,
) -> EventAccess:
    return await load_event_access(session, actor, slug, event_slug)


EventDep = Annotated[EventAccess, Depends(event_access)]


async def organizer_access(access: EventDep) -> EventAccess:
    """Organizer routes: 404 to the public (its organizer side does not exist for them), 403 to
    judges and mentors (they know it exists)."""
    if not access.is_organizer:
        if access.is_staff:
            raise NotAnOrganizer
        raise EventNotFound
    return access


EventOrganizerDep = Annotated[EventAccess, Depends(organizer_access)]


async def org_organizer_access(access: EventOrganizerDep) -> EventAccess:
    """Handing out event roles takes an organization organizer or up (or a platform admin)."""
    if access.actor.is_platform_admin:
        return access
    if access.org_role is None or rank(access.org_role) < rank(OrgRole.ORGANIZER):
        raise InsufficientRole
    return access


OrgOrganizerEventDep = Annotated[EventAccess, Depends(org_organizer_access)]
