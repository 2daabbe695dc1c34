"""The organizers' live leaderboard: a JSON board served from the cache and a server-sent-events
stream that sends it again within a second of a score.

The JSON board is read by many organizers' screens at once, so its route skips the dependency
chain: `leaderboard.gate` authenticates and authorizes in one statement and a cache hit is
answered from there; a miss (a new version) takes the normal path (`actor_in`,
`load_event_access`, `organizer_access`) in the same transaction."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from hackops.accounts.deps import SECURITY_REQUIREMENT, actor_in, credentials, invalid_token
from hackops.db import Database
from hackops.errors import error_responses
from hackops.events.deps import (
    EventNotFound,
    EventOrganizerDep,
    NotAnOrganizer,
    load_event_access,
    organizer_access,
)
from hackops.judging.leaderboard import service as leaderboard
from hackops.routing import Router

router = Router(
    prefix="/organizations/{slug}/events/{event_slug}",
    tags=["judging"],
)
# The JSON board's route manages its own transaction (see the module's docstring).
board_router = APIRouter(prefix="/organizations/{slug}/events/{event_slug}", tags=["judging"])
READ_ERRORS = error_responses(401, 403, 404, 422)
Slug = Annotated[str, Path(min_length=1, max_length=63)]


def board_cache(request: Request) -> leaderboard.Cache:
    state = request.app.state
    cache: leaderboard.Cache | None = getattr(state, "leaderboard_cache", None)
    if cache is None:
        cache = leaderboard.Cache(getattr(state, "redis", None), leaderboard.LocalCache())
        state.leaderboard_cache = cache
    return cache


@board_router.get(
    "/judging/leaderboard",
    summary="Live leaderboard (organizers), served from a cache invalidated on every score",
    responses={**READ_ERRORS, 200: {"content": {"application/json": {}}}},
    # It reads the caller itself (one statement, no dependency chain): declared by hand.
    openapi_extra={"security": SECURITY_REQUIREMENT},
)
async def leaderboard_view(
    request: Request,
    slug: Slug,
    event_slug: Slug,
    size: Annotated[
        leaderboard.Size,
        Query(alias="limit", description="How many places: 10, 25, 50, 100 or 500."),
    ] = leaderboard.Size.TOP_100,
) -> Response:
    limit = int(size)
    cache = board_cache(request)
    database: Database = request.app.state.db
    raw, from_cookie = credentials(request)
    args = (raw, not from_cookie, slug, event_slug)
    if database.reads is not None:
        gate = await leaderboard.gate_on_pool(database.reads, *args)
        body = None if gate is None else await cached_board(cache, gate, limit)
        if body is not None:
            return board_response(body)
    async with database.transaction() as session:
        body = await cached_board(cache, await leaderboard.gate(session, *args), limit)
        if body is None:
            actor = await actor_in(request, session)
            access = await organizer_access(
                await load_event_access(session, actor, slug, event_slug)
            )
            body = await leaderboard.read(session, access, cache, limit)
    return board_response(body)


async def cached_board(
    cache: leaderboard.Cache, gate: leaderboard.Gate, limit: int
) -> bytes | None:
    """The cached board the gate lets the caller read, or None (not cached yet); the gate's
    refusals become the same errors as the dependency chain's."""
    if gate.outcome == "invalid_token":
        raise invalid_token()
    if gate.outcome == "forbidden":
        raise NotAnOrganizer
    key = gate.key(limit)
    if key is None:
        raise EventNotFound
    return await cache.get(key)


def board_response(body: bytes) -> Response:
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})


@router.get(
    "/judging/leaderboard/stream",
    summary="The leaderboard as server-sent events: sent again within a second of a score",
    responses={**READ_ERRORS, 200: {"content": {"text/event-stream": {}}}},
    response_class=StreamingResponse,
)
async def leaderboard_stream(request: Request, access: EventOrganizerDep) -> StreamingResponse:
    raw, from_cookie = credentials(request)
    return StreamingResponse(
        leaderboard.stream(
            request.app.state.db, access, board_cache(request), (raw, not from_cookie)
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
