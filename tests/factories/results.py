"""Results: award winners and the frozen results of a published event."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Award, AwardWinner, Event, EventResult, Submission
from hackops.tenancy import set_tenant
from tests.factories.events import create_award, create_event
from tests.factories.rows import insert
from tests.factories.submissions import create_submitted
from tests.factories.teams import create_team


async def create_award_winner(
    session: AsyncSession,
    award: Award | None = None,
    submission: Submission | None = None,
    **overrides: Any,
) -> AwardWinner:
    """`submission` picked as a winner of `award` (both of one event)."""
    award = award or await create_award(session)
    if submission is None:
        event = await session.get_one(Event, award.event_id)
        submission = await create_submitted(session, await create_team(session, event))
    await set_tenant(session, award.org_id)
    values: dict[str, Any] = {
        "org_id": award.org_id,
        "event_id": award.event_id,
        "award_id": award.id,
        "submission_id": submission.id,
    }
    values.update(overrides)
    return await insert(session, AwardWinner, values)


async def create_event_result(
    session: AsyncSession, event: Event | None = None, **overrides: Any
) -> EventResult:
    """`event`'s frozen results: an empty ranking with no winners."""
    event = event or await create_event(session)
    await set_tenant(session, event.org_id)
    values: dict[str, Any] = {
        "event_id": event.id,
        "org_id": event.org_id,
        "method": "judge_effect",
        "ranking": [],
        "winners": [],
    }
    values.update(overrides)
    return await insert(session, EventResult, values)
