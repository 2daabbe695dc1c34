""" "My events": the signed-in person's registrations (state, dates, team, task board) and the
events they organize, across every organization.

Row-level security shows a person their own registrations everywhere, but teams, event roles
and non-public events only inside one tenant at a time. So the page reads its registrations
and organizations first, then visits each organization involved (the ones it is a member of and
the ones it registered with) as the tenant, with a fixed number of queries per organization:
teams, event roles, then the events it needs. Event roles held in an organization the person is
neither a member of nor registered with are not found this way: that would take a policy on
`event_roles` letting people read their own grants, as `registrations` has.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.db import SessionDep, db_now
from hackops.events.lifecycle import state_at
from hackops.events.roles.mine import list_my_roles
from hackops.models import (
    Event,
    EventRole,
    EventRoleGrant,
    Organization,
    OrgRole,
    Registration,
    Team,
    TeamMember,
    User,
)
from hackops.orgs.service import list_my_organizations, rank
from hackops.registrations import listing
from hackops.tenancy import set_tenant
from hackops.web import eventkit, kit
from hackops.web.deps import PageUserDep, page_router

router = page_router()


@dataclass(frozen=True)
class Entry:
    """One row of the dashboard: an event, what I am there, and where to go."""

    org: Organization
    event: Event
    state: str
    starts: str
    url: str
    registration: Registration | None = None
    team: tuple[uuid.UUID, str] | None = None
    why: str = ""
    manage: bool = False


@dataclass
class _Org:
    """What one organization's visit found."""

    teams: dict[uuid.UUID, tuple[uuid.UUID, str]]
    roles: dict[uuid.UUID, set[str]]
    events: dict[uuid.UUID, Event]


async def _visit(
    session: AsyncSession,
    user: User,
    org_id: uuid.UUID,
    *,
    org_role: str | None,
    registered: set[uuid.UUID],
) -> _Org:
    await set_tenant(session, org_id)
    teams = {
        event_id: (team_id, name)
        for event_id, team_id, name in await session.execute(
            select(TeamMember.event_id, Team.id, Team.name)
            .join(Team, Team.id == TeamMember.team_id)
            .where(TeamMember.user_id == user.id, Team.disbanded_at.is_(None))
        )
    }
    roles: dict[uuid.UUID, set[str]] = {}
    for event_id, role in await session.execute(
        select(EventRoleGrant.event_id, EventRoleGrant.role).where(
            EventRoleGrant.user_id == user.id
        )
    ):
        roles.setdefault(event_id, set()).add(role)
    runs_all = org_role is not None and rank(org_role) >= rank(OrgRole.ORGANIZER)
    wanted = Event.id.in_(registered | set(roles))
    events = await session.scalars(
        select(Event).where(
            Event.org_id == org_id,
            or_(wanted, Event.archived_at.is_(None)) if runs_all else wanted,
        )
    )
    return _Org(teams, roles, {event.id: event for event in events})


def _order(entry: Entry) -> tuple[bool, bool, float, str]:
    """Cancelled last; otherwise by start (soonest first), undated events after dated ones."""
    cancelled = entry.registration is not None and entry.registration.status == "cancelled"
    start = entry.event.starts_at
    return (cancelled, start is None, start.timestamp() if start else 0.0, entry.event.name)


@router.get("/me/events", name="my_events")
async def my_events(request: Request, session: SessionDep, user: PageUserDep) -> Response:
    mine = await listing.list_mine(session, user)
    memberships = await list_my_organizations(session, user)
    orgs = {org.id: org for org, _ in memberships}
    org_roles = {org.id: membership.role for org, membership in memberships}
    for _, _, org in mine:
        if org is not None:
            orgs.setdefault(org.id, org)
    for _, _, org in await list_my_roles(session, user):  # an invited judge: no membership
        orgs.setdefault(org.id, org)
    visits = {
        org_id: await _visit(
            session,
            user,
            org_id,
            org_role=org_roles.get(org_id),
            registered={r.event_id for r, _, _ in mine if r.org_id == org_id},
        )
        for org_id in sorted(orgs)
    }
    await set_tenant(session, None)
    now = await db_now(session)

    def entry(
        org: Organization,
        event: Event,
        *,
        registration: Registration | None = None,
        team: tuple[uuid.UUID, str] | None = None,
        why: str = "",
        manage: bool = False,
    ) -> Entry:
        return Entry(
            org=org,
            event=event,
            state=state_at(event, now).value,
            starts=eventkit.clock(event.timezone)(event.starts_at),
            url=f"/orgs/{org.slug}/events/{event.slug}",
            registration=registration,
            team=team,
            why=why,
            manage=manage,
        )

    registered = [
        entry(
            orgs[r.org_id],
            visits[r.org_id].events[r.event_id],
            registration=r,
            team=visits[r.org_id].teams.get(r.event_id),
        )
        for r, _, _ in mine
        if r.org_id in visits and r.event_id in visits[r.org_id].events
    ]
    organizing: list[Entry] = []
    for org_id, visit in visits.items():
        org_role = org_roles.get(org_id)
        runs_all = org_role is not None and rank(org_role) >= rank(OrgRole.ORGANIZER)
        for event in visit.events.values():
            roles = sorted(visit.roles.get(event.id, set()))
            if not (runs_all or roles):
                continue
            why = ", ".join([*([f"organization {org_role}"] if runs_all else []), *roles])
            manage = runs_all or EventRole.ORGANIZER in roles
            organizing.append(entry(orgs[org_id], event, why=why, manage=manage))
    registered.sort(key=_order)
    organizing.sort(key=_order)
    context = {
        "registered": registered,
        "organizing": organizing,
        "status_labels": kit.REGISTRATION_STATUS_LABELS,
    }
    return kit.render(request, "registrations/dashboard.html", context)
