"""Who a rule can tell: the people around an event, a team or a person, as user ids.

Read by the fan-out (`fanout.people`) when it runs, so the people are those of that moment: a
member who left before the fan-out is not told about their old team. Deleted accounts are left
out here; disabled ones by `service.deliver`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import (
    SEATED,
    Event,
    EventRole,
    EventRoleGrant,
    OutboxEvent,
    Registration,
    TeamMember,
    User,
)
from hackops.submissions.pipeline.notify import organizer_recipients


async def team_members(session: AsyncSession, team_id: uuid.UUID) -> list[uuid.UUID]:
    """The team's current members, in the order they joined."""
    rows = await session.scalars(
        select(TeamMember.user_id)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id == team_id, User.deleted_at.is_(None))
        .order_by(TeamMember.joined_at, TeamMember.id)
    )
    return list(rows)


async def event_team_members(session: AsyncSession, event_id: uuid.UUID) -> list[uuid.UUID]:
    """Everyone on a team of the event."""
    rows = await session.scalars(
        select(TeamMember.user_id)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.event_id == event_id, User.deleted_at.is_(None))
        .order_by(TeamMember.user_id)
    )
    return list(rows)


async def organizers(session: AsyncSession, event: Event) -> list[uuid.UUID]:
    """The event's organizers: its organizer role and the organization's organizers, admins and
    owners (the same people the processing-failure and flag mails reach)."""
    return [user_id for user_id, _ in await organizer_recipients(session, event.org_id, event.id)]


async def judges(session: AsyncSession, event_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(EventRoleGrant.user_id)
        .join(User, User.id == EventRoleGrant.user_id)
        .where(
            EventRoleGrant.event_id == event_id,
            EventRoleGrant.role == EventRole.JUDGE,
            User.deleted_at.is_(None),
        )
        .order_by(EventRoleGrant.user_id)
    )
    return list(rows)


async def participants(session: AsyncSession, event_id: uuid.UUID) -> list[uuid.UUID]:
    """Everyone holding a seat (registered or checked in); not the waitlist."""
    rows = await session.scalars(
        select(Registration.user_id)
        .join(User, User.id == Registration.user_id)
        .where(
            Registration.event_id == event_id,
            Registration.status.in_(SEATED),
            User.deleted_at.is_(None),
        )
        .order_by(Registration.user_id)
    )
    return list(rows)


def but(people: Iterable[uuid.UUID], *left_out: uuid.UUID | None) -> list[uuid.UUID]:
    """`people` without the ones left out (the actor, the person the news is about), once each,
    in order."""
    skip = {person for person in left_out if person is not None}
    return [person for person in dict.fromkeys(people) if person not in skip]


def others_than_actor(row: OutboxEvent, people: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Whoever acted knows what they did: they are not told about it."""
    return but(people, row.actor_id)


async def name_of(
    session: AsyncSession, user_id: uuid.UUID | None, default: str = "Someone"
) -> str:
    """A person's display name for a message to others (never their address)."""
    if user_id is None:
        return default
    name = await session.scalar(select(User.name).where(User.id == user_id))
    return (name or "").strip() or default
