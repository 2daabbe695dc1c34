"""An event's tracks and awards: readable by whoever can see the event; changing them takes an
organizer."""

from __future__ import annotations

import uuid

from fastapi import Response, status

from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.events.deps import EventDep, EventOrganizerDep
from hackops.events.schemas import AwardIn, AwardOut, AwardUpdate, TrackIn, TrackOut, TrackUpdate
from hackops.events.tracks import service as tracks
from hackops.routing import Router

router = Router(prefix="/organizations", tags=["events"])

EVENT = "/{slug}/events/{event_slug}"
READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.get(EVENT + "/tracks", response_model=list[TrackOut], responses=READ_ERRORS)
async def list_tracks(session: SessionDep, access: EventDep) -> list[TrackOut]:
    """The event's tracks (prize categories)."""
    return [TrackOut.model_validate(t) for t in await tracks.list_tracks(session, access.event)]


@router.post(
    EVENT + "/tracks",
    status_code=status.HTTP_201_CREATED,
    response_model=TrackOut,
    responses=WRITE_ERRORS,
)
async def create_track(body: TrackIn, session: SessionDep, access: EventOrganizerDep) -> TrackOut:
    """Add a track (organizers)."""
    track = await tracks.create_track(session, access.actor, access.event, body.model_dump())
    return TrackOut.model_validate(track)


@router.patch(EVENT + "/tracks/{track_id}", response_model=TrackOut, responses=WRITE_ERRORS)
async def update_track(
    track_id: uuid.UUID, body: TrackUpdate, session: SessionDep, access: EventOrganizerDep
) -> TrackOut:
    """Rename, describe or reorder a track (organizers)."""
    track = await tracks.get_track(session, access.event, track_id)
    changes = body.model_dump(exclude_unset=True)
    track = await tracks.update_track(session, access.actor, access.event, track, changes)
    return TrackOut.model_validate(track)


@router.delete(EVENT + "/tracks/{track_id}", status_code=NO_CONTENT, responses=WRITE_ERRORS)
async def delete_track(
    track_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> Response:
    """Delete a track and the awards attached to it (organizers)."""
    track = await tracks.get_track(session, access.event, track_id)
    await tracks.delete_track(session, access.actor, access.event, track)
    return Response(status_code=NO_CONTENT)


# --- awards --------------------------------------------------------------------------------


@router.get(EVENT + "/awards", response_model=list[AwardOut], responses=READ_ERRORS)
async def list_awards(session: SessionDep, access: EventDep) -> list[AwardOut]:
    """The event's awards."""
    return [AwardOut.model_validate(a) for a in await tracks.list_awards(session, access.event)]


@router.post(
    EVENT + "/awards",
    status_code=status.HTTP_201_CREATED,
    response_model=AwardOut,
    responses=WRITE_ERRORS,
)
async def create_award(body: AwardIn, session: SessionDep, access: EventOrganizerDep) -> AwardOut:
    """Add an award, optionally for one of the event's tracks (organizers)."""
    award = await tracks.create_award(session, access.actor, access.event, body.model_dump())
    return AwardOut.model_validate(award)


@router.patch(EVENT + "/awards/{award_id}", response_model=AwardOut, responses=WRITE_ERRORS)
async def update_award(
    award_id: uuid.UUID, body: AwardUpdate, session: SessionDep, access: EventOrganizerDep
) -> AwardOut:
    """Edit an award; `track_id: null` detaches it from its track (organizers)."""
    award = await tracks.get_award(session, access.event, award_id)
    changes = body.model_dump(exclude_unset=True)
    award = await tracks.update_award(session, access.actor, access.event, award, changes)
    return AwardOut.model_validate(award)


@router.delete(EVENT + "/awards/{award_id}", status_code=NO_CONTENT, responses=WRITE_ERRORS)
async def delete_award(
    award_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> Response:
    """Delete an award (organizers)."""
    award = await tracks.get_award(session, access.event, award_id)
    await tracks.delete_award(session, access.actor, access.event, award)
    return Response(status_code=NO_CONTENT)
