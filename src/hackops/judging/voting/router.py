"""Public voting API: cast a vote (verified accounts, during the voting window) and read the
counts (organizers any time, everyone once voting closed). The rules: `voting.service`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.events.deps import EventDep
from hackops.judging.voting.schemas import VoteCount, VoteIn, VoteOut
from hackops.judging.voting.service import cast, counts
from hackops.models import OVERALL
from hackops.routing import Router

router = Router(
    prefix="/organizations/{slug}/events/{event_slug}",
    tags=["voting"],
)


@router.post(
    "/votes",
    response_model=VoteOut,
    summary="Vote for a project (one vote per track; voting again replaces it)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def vote(body: VoteIn, session: SessionDep, access: EventDep) -> VoteOut:
    cast_vote = await cast(session, access, body.submission_id, body.track_id)
    return VoteOut(
        id=cast_vote.id,
        submission_id=cast_vote.submission_id,
        track_id=None if cast_vote.track_key == OVERALL else cast_vote.track_key,
        flagged=cast_vote.flagged,
    )


@router.get(
    "/votes",
    response_model=list[VoteCount],
    summary="Vote counts (organizers any time; everyone once voting closed)",
    responses=error_responses(401, 404, 422),
)
async def vote_counts(
    session: SessionDep,
    access: EventDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> list[VoteCount]:
    return [VoteCount.model_validate(row) for row in (await counts(session, access))[:limit]]
