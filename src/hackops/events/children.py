"""An event's tracks (prize categories), awards and per-event roles (organizer, judge, mentor).

Children are always looked up by (event_id, id): an id from another event, or another tenant,
is simply not found. Name uniqueness of tracks is `uq_event_tracks_event_id_name`; an award's
track belongs to the same event by the composite FK (event_id, track_id).

Roles go to accounts whose address is confirmed; any other address gets an invitation instead
(`events.role_invitations`). Granting or revoking the judge role re-balances an existing
assignment run in the same transaction (`judging.rebalance`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.credentials import normalize_email
from hackops.actor import Actor
from hackops.audit.service import record
from hackops.errors import AppError, Conflict, NotFound
from hackops.events.service import EventArchived
from hackops.judging.rebalance import Rebalance, after_judge_added, after_judge_removed
from hackops.models import Award, Event, EventRole, EventRoleGrant, Track, User

#: An event's child with a name and a display position: a track or an award.
C = TypeVar("C", Track, Award)


class TrackNotFound(NotFound):
    code = "track_not_found"
    message = "No such track in this event."


class AwardNotFound(NotFound):
    code = "award_not_found"
    message = "No such award in this event."


class RoleGrantNotFound(NotFound):
    code = "role_grant_not_found"
    message = "No such role in this event."


class TrackNameTaken(Conflict):
    code = "track_name_taken"
    message = "This event already has a track with that name."


class RoleAlreadyGranted(Conflict):
    code = "role_already_granted"
    message = "That person already has this role in this event."


def _writable(event: Event) -> None:
    if event.archived_at is not None:
        raise EventArchived


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    kind: str,
    ident: uuid.UUID,
    event: Event,
    details: dict[str, Any],
) -> None:
    await record(
        session,
        actor,
        action,
        resource_type=kind,
        resource_id=ident,
        org_id=event.org_id,
        details={"event_id": str(event.id), **details},
    )


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
    _writable(event)
    await _track_name_free(session, event, values["name"])
    track = Track(org_id=event.org_id, event_id=event.id, **values)
    session.add(track)
    await session.flush()
    await session.refresh(track)
    await _audit(session, actor, "track.created", "track", track.id, event, {"name": track.name})
    return track


async def update_track(
    session: AsyncSession, actor: Actor, event: Event, track: Track, changes: dict[str, Any]
) -> Track:
    _writable(event)
    changed = {k: v for k, v in changes.items() if getattr(track, k) != v}
    if not changed:
        return track
    if "name" in changed:
        await _track_name_free(session, event, changed["name"], except_id=track.id)
    for key, value in changed.items():
        setattr(track, key, value)
    await session.flush()
    await _audit(session, actor, "track.updated", "track", track.id, event, changed)
    return track


async def delete_track(session: AsyncSession, actor: Actor, event: Event, track: Track) -> None:
    """Delete a track; its awards go with it (FK cascade), as the award was for that track."""
    _writable(event)
    await session.delete(track)
    await session.flush()
    await _audit(session, actor, "track.deleted", "track", track.id, event, {"name": track.name})


# --- awards --------------------------------------------------------------------------------


async def list_awards(session: AsyncSession, event: Event) -> list[Award]:
    return await _list_children(session, Award, event)


async def get_award(session: AsyncSession, event: Event, award_id: uuid.UUID) -> Award:
    return await _get_child(session, Award, event, award_id, AwardNotFound)


async def create_award(
    session: AsyncSession, actor: Actor, event: Event, values: dict[str, Any]
) -> Award:
    _writable(event)
    if values.get("track_id") is not None:
        await get_track(session, event, values["track_id"])
    award = Award(org_id=event.org_id, event_id=event.id, **values)
    session.add(award)
    await session.flush()
    await session.refresh(award)
    await _audit(session, actor, "award.created", "award", award.id, event, {"name": award.name})
    return award


async def update_award(
    session: AsyncSession, actor: Actor, event: Event, award: Award, changes: dict[str, Any]
) -> Award:
    _writable(event)
    changed = {k: v for k, v in changes.items() if getattr(award, k) != v}
    if not changed:
        return award
    if changed.get("track_id") is not None:
        await get_track(session, event, changed["track_id"])
    for key, value in changed.items():
        setattr(award, key, value)
    await session.flush()
    details = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in changed.items()}
    await _audit(session, actor, "award.updated", "award", award.id, event, details)
    return award


async def delete_award(session: AsyncSession, actor: Actor, event: Event, award: Award) -> None:
    _writable(event)
    await session.delete(award)
    await session.flush()
    await _audit(session, actor, "award.deleted", "award", award.id, event, {"name": award.name})


# --- roles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Granted:
    """A role given to someone with an account; `rebalance` is what granting the judge role did
    to an existing assignment run (None: no run, or not a judge)."""

    grant: EventRoleGrant
    user: User
    rebalance: Rebalance | None


async def list_role_grants(
    session: AsyncSession, event: Event
) -> list[tuple[EventRoleGrant, User]]:
    rows = await session.execute(
        select(EventRoleGrant, User)
        .join(User, User.id == EventRoleGrant.user_id)
        .where(EventRoleGrant.event_id == event.id)
        .order_by(EventRoleGrant.role, User.email)
    )
    return [(grant, user) for grant, user in rows]


async def find_account(session: AsyncSession, email: str) -> User | None:
    """The account using this address (422 if it is not an address), or None."""
    return await session.scalar(
        select(User).where(User.email == normalize_email(email), User.deleted_at.is_(None))
    )


async def grant_role(
    session: AsyncSession,
    actor: Actor,
    event: Event,
    user: User,
    role: str,
    *,
    details: dict[str, Any] | None = None,
) -> Granted:
    """Give an account a role in this event. A new judge joins an existing assignment run
    (re-balanced in this transaction, `judging.rebalance`)."""
    _writable(event)
    existing = await session.scalar(
        select(EventRoleGrant.id).where(
            EventRoleGrant.event_id == event.id,
            EventRoleGrant.user_id == user.id,
            EventRoleGrant.role == role,
        )
    )
    if existing is not None:
        raise RoleAlreadyGranted
    grant = EventRoleGrant(org_id=event.org_id, event_id=event.id, user_id=user.id, role=role)
    session.add(grant)
    await session.flush()
    await session.refresh(grant)
    await _audit(
        session,
        actor,
        "event_role.granted",
        "event_role",
        grant.id,
        event,
        {"user_id": str(user.id), "role": role, **(details or {})},
    )
    rebalance = None
    if role == EventRole.JUDGE.value:
        rebalance = await after_judge_added(session, actor, event)
    return Granted(grant, user, rebalance)


async def revoke_role(
    session: AsyncSession, actor: Actor, event: Event, grant_id: uuid.UUID
) -> Rebalance | None:
    """Take a role back. A judge's unstarted reviews go to the others; their submitted
    evaluations stay and count (`judging.rebalance`)."""
    grant = await session.scalar(
        select(EventRoleGrant).where(
            EventRoleGrant.event_id == event.id, EventRoleGrant.id == grant_id
        )
    )
    if grant is None:
        raise RoleGrantNotFound
    await session.delete(grant)
    await session.flush()
    await _audit(
        session,
        actor,
        "event_role.revoked",
        "event_role",
        grant.id,
        event,
        {"user_id": str(grant.user_id), "role": grant.role},
    )
    if grant.role != EventRole.JUDGE.value:
        return None
    return await after_judge_removed(session, actor, event, grant.user_id)
