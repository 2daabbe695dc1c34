"""Who registered: the organizers' filtered, sorted, paged list (and the query the export
shares), and a person's own registrations across organizations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, asc, desc, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Event, Organization, Registration, User

SORTS = {
    "created": Registration.created_at,
    "name": User.name,
    "email": User.email,
    "status": Registration.status,
    "queue": Registration.queue_seq,
    "checked_in": Registration.checked_in_at,
}


def organizer_query(
    event: Event,
    *,
    status: str | None = None,
    checked_in: bool | None = None,
    q: str | None = None,
) -> Select[Registration, User]:
    query = (
        select(Registration, User)
        .join(User, User.id == Registration.user_id)
        .where(Registration.event_id == event.id)
    )
    if status is not None:
        query = query.where(Registration.status == status)
    if checked_in is not None:
        query = query.where(
            Registration.checked_in_at.is_not(None)
            if checked_in
            else Registration.checked_in_at.is_(None)
        )
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.name.ilike(pattern), User.email.ilike(pattern)))
    return query


async def list_for_organizer(
    session: AsyncSession,
    event: Event,
    *,
    status: str | None = None,
    checked_in: bool | None = None,
    q: str | None = None,
    sort: str = "created",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[tuple[Registration, User]], int]:
    """One page and the total, in two queries whatever the page size."""
    query = organizer_query(event, status=status, checked_in=checked_in, q=q)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    column = SORTS[sort]
    order = desc(column).nulls_last() if descending else asc(column).nulls_last()
    rows = await session.execute(query.order_by(order, Registration.id).limit(limit).offset(offset))
    return [(r[0], r[1]) for r in rows], int(total or 0)


async def list_mine(session: AsyncSession, user: User) -> list[tuple[Registration, Any, Any]]:
    """The caller's registrations in every organization (RLS: their own rows are readable).

    Events the caller may not read without a tenant (private ones of another organization)
    come back with no event or organization details."""
    rows = await session.execute(
        select(Registration, Event, Organization)
        .outerjoin(Event, Event.id == Registration.event_id)
        .outerjoin(Organization, Organization.id == Registration.org_id)
        .where(Registration.user_id == user.id)
        .order_by(Registration.created_at.desc(), Registration.id)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def timestamp(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""
