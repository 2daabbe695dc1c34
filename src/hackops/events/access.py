"""Who may see an event and in which roles: framework-free, so services and jobs can take an
`EventAccess` without importing FastAPI (`events.deps` wraps `load_event_access` as the
`EventDep` dependency).

Who sees what:
- a published public or unlisted event: everyone (unlisted ones are not listed anywhere);
- a draft, archived-hidden or private event: the organization's organizers/admins/owners, the
  event's own roles (organizer, judge, mentor), platform admins — and, for a private event, the
  organization's members and the people registered for it. Anyone else gets 404: existence
  never leaks.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops import gate
from hackops.actor import Actor
from hackops.errors import Forbidden, NotFound
from hackops.models import (
    Event,
    EventRole,
    EventRoleGrant,
    Membership,
    Organization,
    OrgRole,
    Registration,
    Visibility,
)
from hackops.orgs.service import rank
from hackops.tenancy import set_tenant


class EventNotFound(NotFound):
    code = "event_not_found"
    message = "No such event."


class NotAnOrganizer(Forbidden):
    code = "not_an_organizer"
    message = "Only the event's organizers can do this."


@dataclass(frozen=True)
class EventAccess:
    org: Organization
    event: Event
    actor: Actor
    org_role: OrgRole | None  # the caller's role in the organization, if any
    event_roles: frozenset[EventRole]  # organizer / judge / mentor granted on this event
    registration: Registration | None  # the caller's registration, if any

    @property
    def is_organizer(self) -> bool:
        """Runs the event: org organizer and up, an event organizer, or a platform admin."""
        if self.actor.is_platform_admin or EventRole.ORGANIZER in self.event_roles:
            return True
        return self.org_role is not None and rank(self.org_role) >= rank(OrgRole.ORGANIZER)

    @property
    def is_staff(self) -> bool:
        """Organizers, judges and mentors."""
        return self.is_organizer or bool(self.event_roles)

    @property
    def sees_every_team(self) -> bool:
        """Organizers and mentors. A judge sees only the teams whose submission they judge
        (`events.roles.reach`), so being a judge alone does not open the event's teams."""
        return self.is_organizer or EventRole.MENTOR in self.event_roles

    @property
    def is_judge(self) -> bool:
        return self.actor.user is not None and EventRole.JUDGE in self.event_roles


async def load_event_access(
    session: AsyncSession, actor: Actor, org_slug: str, event_slug: str
) -> EventAccess:
    user_id = actor.user.id if actor.user is not None else None
    fetched = gate.take_event(session, org_slug, event_slug, user_id)
    if fetched is not None:
        return await _from_gate(session, actor, fetched)
    org = await session.scalar(
        select(Organization).where(Organization.slug == org_slug, Organization.deleted_at.is_(None))
    )
    if org is None:
        raise EventNotFound
    await set_tenant(session, org.id)
    event = await session.scalar(
        select(Event).where(Event.org_id == org.id, Event.slug == event_slug)
    )
    if event is None:
        raise EventNotFound
    org_role: OrgRole | None = None
    roles: frozenset[EventRole] = frozenset()
    registration: Registration | None = None
    if actor.user is not None:
        org_role = await session.scalar(
            select(Membership.role).where(
                Membership.org_id == org.id, Membership.user_id == actor.user.id
            )
        )
        roles = frozenset(
            await session.scalars(
                select(EventRoleGrant.role).where(
                    EventRoleGrant.event_id == event.id, EventRoleGrant.user_id == actor.user.id
                )
            )
        )
        registration = await session.scalar(
            select(Registration).where(
                Registration.event_id == event.id, Registration.user_id == actor.user.id
            )
        )
    access = EventAccess(org, event, actor, org_role, roles, registration)
    if not _visible(access):
        raise EventNotFound
    return access


async def _from_gate(session: AsyncSession, actor: Actor, fetched: gate.Prefetched) -> EventAccess:
    """`load_event_access` on what the request gate read, in the same order of refusals."""
    if fetched.org is None:
        raise EventNotFound
    await set_tenant(session, fetched.org.id)  # the gate set it: no statement
    if fetched.event is None:
        raise EventNotFound
    org_role = OrgRole(fetched.org_role) if fetched.org_role is not None else None
    roles = frozenset(EventRole(role) for role in fetched.event_roles)
    access = EventAccess(fetched.org, fetched.event, actor, org_role, roles, fetched.registration)
    if not _visible(access):
        raise EventNotFound
    return access


def _visible(access: EventAccess) -> bool:
    event = access.event
    if access.is_staff:
        return True
    if event.published_at is None:
        return False
    if event.visibility in (Visibility.PUBLIC, Visibility.UNLISTED):
        return True
    # Private: the organization's members (an internal hackathon) and the people an organizer
    # registered (CSV import) or who registered while they were members.
    return access.registration is not None or access.org_role is not None
