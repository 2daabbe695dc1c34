"""Per-track rankings: `ranking.rank` over the track's subset of the scored submissions, with the
same tie-breaks as overall (more evaluations, higher raw mean, earlier submission). The scores
come from the one event-wide fit, so judge effects are estimated from every evaluation."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.events.access import EventAccess
from hackops.events.tracks.service import get_track
from hackops.judging.scoring import ranking
from hackops.judging.scoring.service import compute_ranking
from hackops.models import Submission


async def submission_facts(
    session: AsyncSession, event_id: uuid.UUID
) -> tuple[dict[Any, list[uuid.UUID]], dict[Any, datetime]]:
    """Each submission's tracks and submission time (the last tie-break)."""
    tracks: dict[Any, list[uuid.UUID]] = {}
    times: dict[Any, datetime] = {}
    rows = await session.execute(
        select(Submission.id, Submission.track_ids, Submission.submitted_at).where(
            Submission.event_id == event_id
        )
    )
    for sid, track_ids, submitted_at in rows:
        tracks[sid] = list(track_ids or [])
        if submitted_at is not None:
            times[sid] = submitted_at
    return tracks, times


def rank_in_track(
    ranked: Sequence[ranking.RankedItem],
    tracks_of: Mapping[Any, Sequence[uuid.UUID]],
    submitted_at: Mapping[Any, datetime],
    track_id: uuid.UUID,
) -> list[ranking.RankedItem]:
    """The track's own 1..n ranking; exact ties keep their overall order."""
    subset = [
        ranking.Scored(item.submission_id, item.score, item.raw_mean, item.evaluations)
        for item in ranked
        if track_id in tracks_of.get(item.submission_id, ())
    ]
    return ranking.rank(subset, submitted_at)


async def track_ranking(
    session: AsyncSession, access: EventAccess, method: ranking.Method, track_id: uuid.UUID
) -> list[ranking.RankedItem]:
    """The live ranking of one track (organizers); 404 `track_not_found` for another event's."""
    await get_track(session, access.event, track_id)
    ranked, _ = await compute_ranking(session, access, method)
    tracks_of, submitted_at = await submission_facts(session, access.event.id)
    return rank_in_track(ranked, tracks_of, submitted_at, track_id)
