"""An event's judging criteria: listed in order, created, changed and deleted by its organizers.

Criteria are editable until the first evaluation arrives; afterwards only descriptions (409
`criteria_locked`). Names are unique per event, case-insensitively (409 `criterion_name_taken`).
Every change is audited (`service.audit_judging`).
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.constraints import savepoint
from hackops.events.access import EventAccess
from hackops.judging.schemas import CriterionIn, CriterionUpdate
from hackops.judging.service import (
    CONSTRAINT_ERRORS,
    CriteriaLocked,
    CriterionNameTaken,
    CriterionNotFound,
    audit_judging,
)
from hackops.models import Criterion, Evaluation


async def list_criteria(session: AsyncSession, access: EventAccess) -> list[Criterion]:
    rows = await session.scalars(
        select(Criterion)
        .where(Criterion.event_id == access.event.id)
        .order_by(Criterion.position, Criterion.name)
    )
    return list(rows)


async def _scores_exist(session: AsyncSession, access: EventAccess) -> bool:
    return bool(
        await session.scalar(
            select(func.count()).where(Evaluation.event_id == access.event.id).limit(1)
        )
    )


async def _require_free_name(
    session: AsyncSession, access: EventAccess, name: str, *, other_than: uuid.UUID | None = None
) -> None:
    """Criterion names are unique per event, case-insensitively (`uq_judging_criteria_event_id_name`
    holds it under races): two “Impact” rows would be indistinguishable to judges."""
    query = select(Criterion.id).where(
        Criterion.event_id == access.event.id, func.lower(Criterion.name) == name.lower()
    )
    if other_than is not None:
        query = query.where(Criterion.id != other_than)
    if await session.scalar(query.limit(1)) is not None:
        raise CriterionNameTaken(
            f"This event already has a criterion named “{name}”; choose another name.",
            details={"field": "name"},
        )


async def create_criterion(
    session: AsyncSession, access: EventAccess, body: CriterionIn
) -> Criterion:
    if await _scores_exist(session, access):
        raise CriteriaLocked
    await _require_free_name(session, access, body.name)
    criterion = Criterion(org_id=access.event.org_id, event_id=access.event.id, **body.model_dump())
    async with savepoint(session, CONSTRAINT_ERRORS):
        session.add(criterion)
        await session.flush()
    await session.refresh(criterion)
    await audit_judging(session, access, "criterion.created", criterion.id)
    return criterion


async def update_criterion(
    session: AsyncSession, access: EventAccess, criterion_id: uuid.UUID, body: CriterionUpdate
) -> Criterion:
    criterion = await _criterion(session, access, criterion_id)
    data = body.changes()
    if set(data) - {"description"} and await _scores_exist(session, access):
        raise CriteriaLocked
    if "name" in data:
        await _require_free_name(session, access, data["name"], other_than=criterion.id)
    for name, value in data.items():
        setattr(criterion, name, value)
    async with savepoint(session, CONSTRAINT_ERRORS):
        await session.flush()
    await session.refresh(criterion)
    await audit_judging(session, access, "criterion.updated", criterion.id, fields=sorted(data))
    return criterion


async def delete_criterion(
    session: AsyncSession, access: EventAccess, criterion_id: uuid.UUID
) -> None:
    criterion = await _criterion(session, access, criterion_id)
    if await _scores_exist(session, access):
        raise CriteriaLocked
    await session.delete(criterion)
    await session.flush()
    await audit_judging(session, access, "criterion.deleted", criterion_id)


async def _criterion(
    session: AsyncSession, access: EventAccess, criterion_id: uuid.UUID
) -> Criterion:
    criterion = await session.scalar(
        select(Criterion).where(Criterion.id == criterion_id, Criterion.event_id == access.event.id)
    )
    if criterion is None:
        raise CriterionNotFound
    return criterion
