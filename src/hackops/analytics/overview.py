"""Events side by side: an organization's (for its organizers) or every organization's (for
platform admins), with the figures an organizer compares — participants, teams, submissions,
judges — and their dates. One statement (counts as correlated subqueries on indexed columns)
whatever the number of events; row-level security keeps an organization's page to its tenant,
and a platform admin's transaction sees every tenant (`is_platform_admin()` in the policies).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.db import db_now
from hackops.errors import NotFound
from hackops.events.lifecycle import state_at
from hackops.models import (
    Event,
    EventRole,
    EventRoleGrant,
    Organization,
    Registration,
    RegistrationStatus,
    Submission,
    Team,
)
from hackops.orgs.access import OrgAccess

#: The most events one page lists (newest first); the platform page says when there are more.
MAX_EVENTS = 200


@dataclass(frozen=True, slots=True)
class EventFigures:
    org_slug: str
    org_name: str
    slug: str
    name: str
    state: str
    starts_at: datetime | None
    submissions_close_at: datetime | None
    judging_closes_at: datetime | None
    capacity: int | None
    participants: int  # registrations holding a seat
    waitlisted: int
    teams: int
    submissions: int  # submitted projects
    judges: int


@dataclass(frozen=True, slots=True)
class Overview:
    events: list[EventFigures]
    more: bool  # more than MAX_EVENTS events exist


class PlatformAdminsOnly(NotFound):
    code = "not_found"
    message = "There is no such page."


Row = Select[Event, str, str, int, int, int, int]


def _count(model: type[Any], *where: ColumnElement[bool]) -> ScalarSelect[int]:
    return select(func.count()).select_from(model).where(*where).scalar_subquery()


def _query() -> Row:
    return (
        select(
            Event,
            Organization.slug,
            Organization.name,
            _count(
                Registration,
                Registration.event_id == Event.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            ),
            _count(Team, Team.event_id == Event.id, Team.disbanded_at.is_(None)),
            _count(
                Submission, Submission.event_id == Event.id, Submission.submitted_at.is_not(None)
            ),
            _count(
                EventRoleGrant,
                EventRoleGrant.event_id == Event.id,
                EventRoleGrant.role == EventRole.JUDGE,
            ),
        )
        .join(Organization, Organization.id == Event.org_id)
        .order_by(Event.starts_at.desc().nulls_last(), Event.created_at.desc(), Event.id)
        .limit(MAX_EVENTS + 1)
    )


async def _overview(session: AsyncSession, query: Row) -> Overview:
    now = await db_now(session)
    rows = (await session.execute(query)).all()
    events = [
        EventFigures(
            org_slug,
            org_name,
            event.slug,
            event.name,
            state_at(event, now).value,
            event.starts_at,
            event.submissions_close_at,
            event.judging_closes_at,
            event.capacity,
            event.registered_count,
            int(waitlisted),
            int(teams),
            int(submissions),
            int(judges),
        )
        for event, org_slug, org_name, waitlisted, teams, submissions, judges in rows[:MAX_EVENTS]
    ]
    return Overview(events, len(rows) > MAX_EVENTS)


async def organization(session: AsyncSession, access: OrgAccess) -> Overview:
    """The organization's events side by side (its organizers; the loader checked the role)."""
    return await _overview(session, _query().where(Event.org_id == access.org.id))


async def platform(session: AsyncSession, actor: Actor) -> Overview:
    """Every organization's events side by side: platform admins only (404 to anyone else)."""
    if not actor.is_platform_admin:
        raise PlatformAdminsOnly
    return await _overview(session, _query())
