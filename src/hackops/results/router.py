"""Results API: the published results (public once published), winner picks (organizers)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from hackops.db import SessionDep, TransactionalRoute
from hackops.errors import error_responses
from hackops.events.deps import EventDep, EventOrganizerDep
from hackops.results import service
from hackops.schemas import InputModel, OutputModel

router = APIRouter(
    prefix="/organizations/{slug}/events/{event_slug}",
    tags=["results"],
    route_class=TransactionalRoute,
)


class ResultsOut(OutputModel):
    method: str | None
    published_at: datetime | None
    ranking: list[dict[str, Any]]
    winners: list[dict[str, Any]]


class WinnersIn(InputModel):
    submission_ids: Annotated[list[uuid.UUID], Field(max_length=50)]


@router.get(
    "/results",
    response_model=ResultsOut,
    summary="Results and winners (everyone once published; organizers preview before)",
    responses=error_responses(401, 404, 422),
)
async def results(session: SessionDep, access: EventDep) -> ResultsOut:
    return ResultsOut.model_validate(await service.public_results(session, access))


@router.put(
    "/results/awards/{award_id}/winners",
    response_model=ResultsOut,
    summary="Pick the winners of an award (organizers, before publishing)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def pick(
    award_id: uuid.UUID, body: WinnersIn, session: SessionDep, access: EventOrganizerDep
) -> ResultsOut:
    await service.pick_winners(session, access, award_id, body.submission_ids)
    return ResultsOut.model_validate(await service.preview(session, access))
