"""Response bodies of the results API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from hackops.schemas import InputModel, OutputModel


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


class CriterionMeanOut(OutputModel):
    id: uuid.UUID
    name: str
    max_score: int
    mean: float


class JudgeScoresOut(OutputModel):
    judge: str  # "Judge 1", "Judge 2" … (anonymized, stable for the submission)
    scores: dict[str, float]  # criterion id → score


class BreakdownOut(OutputModel):
    criteria: list[CriterionMeanOut]
    judges: list[JudgeScoresOut]


class AwardWonOut(OutputModel):
    award_id: uuid.UUID | None
    award: str
    prize: str
    label: str


class PlacementOut(OutputModel):
    track_id: uuid.UUID | None  # None: overall
    track: str | None
    rank: int
    of: int
    label: str


class StandingOut(OutputModel):
    """A submission's place in the published results."""

    submission_id: uuid.UUID
    title: str
    team_name: str
    awards: list[AwardWonOut]
    placements: list[PlacementOut]
    breakdown: BreakdownOut | None


class FeedbackOut(OutputModel):
    judge: str
    text: str


class TeamFeedbackOut(OutputModel):
    submission_id: uuid.UUID
    feedback: list[FeedbackOut]
    breakdown: BreakdownOut | None
