"""Request and response bodies of the judging API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from hackops.schemas import InputModel, OutputModel


class CriterionIn(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: Annotated[str, Field(max_length=2000)] = ""
    weight: Annotated[float, Field(gt=0, le=100)] = 1.0
    max_score: Annotated[int, Field(ge=1, le=100)] = 10
    position: Annotated[int, Field(ge=0, le=1000)] = 0
    track_id: uuid.UUID | None = None


class CriterionUpdate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    weight: Annotated[float, Field(gt=0, le=100)] | None = None
    max_score: Annotated[int, Field(ge=1, le=100)] | None = None
    position: Annotated[int, Field(ge=0, le=1000)] | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent with a value (null means "leave it")."""
        return self.model_dump(exclude_unset=True, exclude_none=True)


class CriterionOut(OutputModel):
    id: uuid.UUID
    name: str
    description: str
    weight: float
    max_score: int
    position: int
    track_id: uuid.UUID | None


class ConflictIn(InputModel):
    team_id: uuid.UUID
    judge_id: uuid.UUID | None = None  # organizers declare for a judge; judges for themselves
    reason: Annotated[str, Field(max_length=500)] = ""


class ConflictOut(OutputModel):
    id: uuid.UUID
    judge_id: uuid.UUID
    team_id: uuid.UUID
    source: str
    reason: str
    created_at: datetime


class AssignIn(InputModel):
    k: Annotated[int, Field(ge=1, le=20)] = 3
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


class AssignmentReportOut(OutputModel):
    assigned: int
    withdrawn: int
    submissions: int
    judges: int
    load_min: int
    load_max: int
    connected: bool
    shortfalls: dict[str, int]


class QueueItemOut(OutputModel):
    submission_id: uuid.UUID
    title: str
    status: str | None  # the judge's evaluation: None, draft or submitted


class QueueOut(OutputModel):
    done: int
    total: int
    items: list[QueueItemOut]


class EvaluationIn(InputModel):
    scores: Annotated[dict[uuid.UUID, Annotated[float, Field(ge=0, le=100)]], Field(max_length=50)]
    private_comment: Annotated[str, Field(max_length=5000)] = ""
    feedback: Annotated[str, Field(max_length=5000)] = ""
    submit: bool = False


class EvaluationOut(OutputModel):
    id: uuid.UUID
    submission_id: uuid.UUID
    scores: dict[str, Any]
    raw_score: float | None
    private_comment: str
    feedback: str
    status: str
    submitted_at: datetime | None
    updated_at: datetime


class RankingItemOut(OutputModel):
    submission_id: uuid.UUID
    rank: int
    score: float
    raw_mean: float
    evaluations: int


class RankingOut(OutputModel):
    method: str
    track_id: uuid.UUID | None = None  # None: the overall ranking
    items: list[RankingItemOut]


class VoteIn(InputModel):
    winner_id: uuid.UUID


class PairOut(OutputModel):
    done: bool
    first_id: uuid.UUID | None = None
    first_title: str = ""
    first_table: int | None = None
    second_id: uuid.UUID | None = None
    second_title: str = ""
    second_table: int | None = None
    comparisons: int = 0
