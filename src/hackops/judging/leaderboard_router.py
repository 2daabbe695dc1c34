"""The organizers' live leaderboard: a JSON board served from the cache and a server-sent-events
stream that sends it again within a second of a score."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from hackops.db import SessionDep, TransactionalRoute
from hackops.errors import error_responses
from hackops.events.deps import EventOrganizerDep
from hackops.judging import leaderboard

router = APIRouter(
    prefix="/organizations/{slug}/events/{event_slug}",
    tags=["judging"],
    route_class=TransactionalRoute,
)
READ_ERRORS = error_responses(401, 403, 404, 422)


def board_cache(request: Request) -> leaderboard.Cache:
    state = request.app.state
    cache: leaderboard.Cache | None = getattr(state, "leaderboard_cache", None)
    if cache is None:
        cache = leaderboard.Cache(getattr(state, "redis", None), leaderboard.LocalCache())
        state.leaderboard_cache = cache
    return cache


@router.get(
    "/judging/leaderboard",
    summary="Live leaderboard (organizers), served from a cache invalidated on every score",
    responses={**READ_ERRORS, 200: {"content": {"application/json": {}}}},
)
async def leaderboard_view(
    request: Request,
    session: SessionDep,
    access: EventOrganizerDep,
    limit: Annotated[int, Query(ge=1, le=leaderboard.MAX_LIMIT)] = leaderboard.DEFAULT_LIMIT,
) -> Response:
    body = await leaderboard.read(session, access, board_cache(request), limit)
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


@router.get(
    "/judging/leaderboard/stream",
    summary="The leaderboard as server-sent events: sent again within a second of a score",
    responses={**READ_ERRORS, 200: {"content": {"text/event-stream": {}}}},
    response_class=StreamingResponse,
)
async def leaderboard_stream(request: Request, access: EventOrganizerDep) -> StreamingResponse:
    return StreamingResponse(
        leaderboard.stream(request.app.state.db, access, board_cache(request)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
