"""An event's tracks (prize categories) and awards.

Children are always looked up by (event_id, id): an id from another event, or another tenant,
is simply not found. Name uniqueness of tracks is `uq_event_tracks_event_id_name`; an award's
track belongs to the same event by the composite FK (event_id, track_id).
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.errors import AppError, Conflict, NotFound
from hackops.events.service import audit_event_child, require_writable
from hackops.models import Award, Event, Track

#: An event's child with a name and a display position: a track or an award.
C = TypeVar("C", Track, Award)


class TrackNotFound(NotFound):
    code = "track_not_found"
    message = "No such track in this event."


class AwardNotFound(NotFound):
    code = "award_not_found"
    message = "No such award in this event."


class TrackNameTaken(Conflict):
    code = "track_name_taken"
    message = "This event already has a track with that name."


async def _list_children(session: AsyncSession, model: type[C], event: Event) -> list[C]:
    """An event's tracks or awards, in their display order."""
    rows = await session.scalars(
        select(model).where(model.event_id == event.id).order_by(model.position, model.name)
    )
    return list(rows)


async def _get_child(
    session: AsyncSession, model: type[C], event: Event, ident: uuid.UUID, missing: type[AppError]
) -> C:
    """One track or award of this event (another event's is as absent as a made-up id)."""
    child = await session.scalar(select(model).where(model.event_id == event.id, model.id == ident))
    if child is None:
        raise missing
    return child


# --- tracks --------------------------------------------------------------------------------


async def list_tracks(session: AsyncSession, event: Event) -> list[Track]:
    return await _list_children(session, Track, event)


async def get_track(session: AsyncSession, event: Event, track_id: uuid.UUID) -> Track:
    return await _get_child(session, Track, event, track_id, TrackNotFound)


async def _track_name_free(
    session: AsyncSession, event: Event, name: str, *, except_id: uuid.UUID | None = None
) -> None:
    query = select(Track.id).where(
        Track.event_id == event.id, func.lower(Track.name) == name.lower()
    )
    if except_id is not None:
        query = query.where(Track.id != except_id)
    if await session.scalar(query) is not None:
        raise TrackNameTaken


async def create_track(
    session: AsyncSession, actor: Actor, event: Event, values: dict[str, Any]
) -> Track:
    require_writable(event)
    await _track_name_free(session, event, values["name"])
    track = Track(org_id=event.org_id, event_id=event.id, **values)
    session.add(track)
    await session.flush()
    await session.refresh(track)
    await audit_event_child(
        session, actor, "track.created", "track", track.id, event, {"name": track.name}
    )
    return track


async def update_track(
    session: AsyncSession, actor: Actor, event: Event, track: Track, changes: dict[str, Any]
) -> Track:
    require_writable(event)
    changed = {k: v for k, v in changes.items() if getattr(track, k) != v}
    if not changed:
        return track
    if "name" in changed:
        await _track_name_free(session, event, changed["name"], except_id=track.id)
    for key, value in changed.items():
        setattr(track, key, value)
    await session.flush()
    await audit_event_child(session, actor, "track.updated", "track", track.id, event, changed)
    return track


async def delete_track(session: AsyncSession, actor: Actor, event: Event, track: Track) -> None:
    """Delete a track; its awards go with it (FK cascade), as the award was for that track."""
    require_writable(event)
    await session.delete(track)
    await session.flush()
    await audit_event_child(
        session, actor, "track.deleted", "track", track.id, event, {"name": track.name}
    )


# --- awards --------------------------------------------------------------------------------


async def list_awards(session: AsyncSession, event: Event) -> list[Award]:
    return await _list_children(session, Award, event)


async def get_award(session: AsyncSession, event: Event, award_id: uuid.UUID) -> Award:
    return await _get_child(session, Award, event, award_id, AwardNotFound)


async def create_award(
    session: AsyncSession, actor: Actor, event: Event, values: dict[str, Any]
) -> Award:
    require_writable(event)
    if values.get("track_id") is not None:
        await get_track(session, event, values["track_id"])
    award = Award(org_id=event.org_id, event_id=event.id, **values)
    session.add(award)
    await session.flush()
    await session.refresh(award)
    await audit_event_child(
        session, actor, "award.created", "award", award.id, event, {"name": award.name}
    )
    return award


async def update_award(
    session: AsyncSession, actor: Actor, event: Event, award: Award, changes: dict[str, Any]
) -> Award:
    require_writable(event)
    changed = {k: v for k, v in changes.items() if getattr(award, k) != v}
    if not changed:
        return award
    if changed.get("track_id") is not None:
        await get_track(session, event, changed["track_id"])
    for key, value in changed.items():
        setattr(award, key, value)
    await session.flush()
    details = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in changed.items()}
    await audit_event_child(session, actor, "award.updated", "award", award.id, event, details)
    return award


async def delete_award(session: AsyncSession, actor: Actor, event: Event, award: Award) -> None:
    require_writable(event)
    await session.delete(award)
    await session.flush()
    await audit_event_child(
        session, actor, "award.deleted", "award", award.id, event, {"name": award.name}
    )
