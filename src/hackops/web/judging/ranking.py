"""The ranking on the organizers' judging admin page (`admin.py`): one GET form
picks the method and the track. "All projects" is the event-wide ranking; a track is that
track's own ranking, ranks 1..n over its projects, exactly as the API's `?track_id=` gives it
(`results.tracks.track_ranking`: the scores of the one event-wide fit). Both show the same
columns: normalized score and raw mean side by side.

The track travels as `?track=<id>`: empty is every project; a malformed id, or one that is not a
track of this event, is the normal 404 page (`TrackNotFound`), as the API answers 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.events.access import EventAccess
from hackops.events.tracks.service import TrackNotFound
from hackops.judging.scoring import ranking
from hackops.judging.scoring import service as evaluations
from hackops.judging.scoring.tracks import track_ranking
from hackops.models import Track

METHODS = [
    (ranking.Method.judge_effect.value, "Judge effect (corrects lenient and harsh judges)"),
    (ranking.Method.zscore.value, "Z-score per judge"),
    (ranking.Method.raw_mean.value, "Raw mean (no correction)"),
    (ranking.Method.crowd_bt.value, "Pairwise comparisons (Crowd-BT)"),
]
ALL_PROJECTS = ""


def chosen_method(value: str) -> ranking.Method:
    """The method the form asked for; the default for anything else."""
    return next((ranking.Method(v) for v, _ in METHODS if v == value), ranking.DEFAULT_METHOD)


def chosen_track(value: str, tracks: Sequence[Track]) -> Track | None:
    """None for every project; 404 for an id that is malformed or not a track of the event."""
    if value == ALL_PROJECTS:
        return None
    try:
        track_id = uuid.UUID(value)
    except ValueError:
        raise TrackNotFound from None
    track = next((t for t in tracks if t.id == track_id), None)
    if track is None:
        raise TrackNotFound
    return track


async def ranking_section(
    session: AsyncSession, access: EventAccess, params: Mapping[str, str], tracks: Sequence[Track]
) -> dict[str, Any]:
    """The ranking's part of the page context: the form's choices and the ranked rows."""
    method = chosen_method(params.get("method", ""))
    track = chosen_track(params.get("track", ALL_PROJECTS).strip(), tracks)
    if track is None:
        ranked, _ = await evaluations.compute_ranking(session, access, method)
    else:
        ranked = await track_ranking(session, access, method, track.id)
    return {
        "methods": METHODS,
        "method": method.value,
        "ranked": ranked,
        "ranking_track": track,
        "ranking_tracks": [(ALL_PROJECTS, "All projects")] + [(str(t.id), t.name) for t in tracks],
    }
