"""Response bodies of the results API. A submission's standing (`StandingOut`) and its
breakdown (`BreakdownOut`) are declared in `submissions.schemas`: the submissions API shows them
too, and results build on submissions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from hackops.schemas import InputModel, OutputModel
from hackops.submissions.schemas import BreakdownOut


class TrackRowOut(OutputModel):
    rank: int
    submission_id: uuid.UUID
    title: str
    team_name: str
    score: float
    evaluations: int


class TrackRankingOut(OutputModel):
    """One track's own ranking (ranks 1..n within the track)."""

    track_id: uuid.UUID
    name: str
    ranking: list[TrackRowOut]


class ResultsOut(OutputModel):
    method: str | None
    published_at: datetime | None
    breakdown_shown: bool
    # Rows: rank, submission_id, title, team_name, track_ids, tracks [{id, name, rank}], score,
    # raw_mean, evaluations, and `breakdown` while the event shows it.
    ranking: list[dict[str, Any]]
    tracks: list[TrackRankingOut]
    winners: list[dict[str, Any]]


class WinnersIn(InputModel):
    submission_ids: Annotated[list[uuid.UUID], Field(max_length=50)]


class FeedbackOut(OutputModel):
    judge: str
    text: str


class TeamFeedbackOut(OutputModel):
    submission_id: uuid.UUID
    feedback: list[FeedbackOut]
    breakdown: BreakdownOut | None
