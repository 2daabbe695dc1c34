"""Request and response bodies of the submissions API, and a submission's standing in the
published results (`StandingOut`: the results API answers it too, the results domain computes it,
`hooks.standing`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator

from hackops.schemas import InputModel, OutputModel
from hackops.submissions.pipeline.links import validate_submission_url


def _url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    return validate_submission_url(value)


SubmissionUrl = Annotated[str | None, Field(max_length=2000), AfterValidator(_url)]
Technology = Annotated[str, Field(min_length=1, max_length=64)]


class SubmissionIn(InputModel):
    """The working copy: every field optional; what is sent replaces what was there."""

    title: Annotated[str, Field(max_length=200)] | None = None
    tagline: Annotated[str, Field(max_length=300)] | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None
    repository_url: SubmissionUrl = None
    demo_url: SubmissionUrl = None
    video_url: SubmissionUrl = None
    technologies: Annotated[list[Technology], Field(max_length=30)] | None = None
    track_ids: Annotated[list[uuid.UUID], Field(max_length=20)] | None = None

    @field_validator("technologies")
    @classmethod
    def _normalize(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        seen: dict[str, None] = {}
        for item in value:
            seen.setdefault(item.strip().lower(), None)
        return [t for t in seen if t]


class FileVisibilityIn(InputModel):
    public: bool


class FileOut(OutputModel):
    id: uuid.UUID
    name: str
    content_type: str
    kind: str
    size: int
    sha256: str
    details: dict[str, Any]
    public: bool = False
    created_at: datetime


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


class SubmissionOut(OutputModel):
    id: uuid.UUID
    team_id: uuid.UUID
    status: str
    title: str
    tagline: str
    description: str
    description_html: str
    repository_url: str | None
    demo_url: str | None
    video_url: str | None
    technologies: list[str]
    track_ids: list[uuid.UUID]
    version_count: int
    latest_version_id: uuid.UUID | None
    submitted_at: datetime | None
    late: bool
    decision_reason: str
    decided_at: datetime | None
    reopened_until: datetime | None
    created_at: datetime
    updated_at: datetime
    files: list[FileOut] = []
    standing: StandingOut | None = Field(
        default=None,
        description="Its awards and places in the published results, as "
        "`GET …/results/submissions/{submission_id}` gives them. Null until the event's results "
        "are published (nothing of scores, ranks or winners shows before), and when the "
        "submission has no place in them.",
    )


class VersionOut(OutputModel):
    id: uuid.UUID
    number: int
    snapshot: dict[str, Any]
    files: list[dict[str, Any]]
    submitted_by: uuid.UUID | None
    submitted_at: datetime
    late: bool
    latest: bool = False


class StepOut(OutputModel):
    step: str
    state: str
    attempts: int
    reason: str
    retry_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any]


class PipelineOut(OutputModel):
    version_id: uuid.UUID | None
    version_number: int | None
    steps: list[StepOut]


class DownloadLinkOut(OutputModel):
    url: str
    expires_at: datetime


class DecisionIn(InputModel):
    status: Literal["under_review", "approved", "rejected", "disqualified"]
    reason: Annotated[str, Field(max_length=2000)] = ""


class BulkDecisionIn(DecisionIn):
    submission_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=500)]


class BulkDecisionOut(OutputModel):
    updated: int


class ReopenIn(InputModel):
    until: datetime | None = None


class ReviewItemOut(OutputModel):
    id: uuid.UUID
    team_id: uuid.UUID
    team_name: str
    status: str
    title: str
    track_ids: list[uuid.UUID]
    technologies: list[str]
    version_count: int
    submitted_at: datetime | None
    late: bool
    open_flags: int
    failed_steps: int


class ReviewPage(OutputModel):
    items: list[ReviewItemOut]
    limit: int
    offset: int


class FlagOut(OutputModel):
    id: uuid.UUID
    submission_id: uuid.UUID
    other_submission_id: uuid.UUID
    kind: str
    score: float
    details: dict[str, Any]
    status: str
    note: str
    decided_at: datetime | None
    created_at: datetime


class FlagDecisionIn(InputModel):
    status: Literal["dismissed", "confirmed", "open"]
    note: Annotated[str, Field(max_length=2000)] = ""


class GalleryItemOut(OutputModel):
    id: uuid.UUID
    title: str
    tagline: str
    team_name: str
    technologies: list[str]
    track_ids: list[uuid.UUID]
    submitted_at: datetime | None


class GalleryPage(OutputModel):
    items: list[GalleryItemOut]
    limit: int
    offset: int


class GalleryProjectOut(OutputModel):
    id: uuid.UUID
    title: str
    tagline: str
    description_html: str
    team_name: str
    members: list[str]
    repository_url: str | None
    demo_url: str | None
    video_url: str | None
    technologies: list[str]
    track_ids: list[uuid.UUID]
    submitted_at: datetime | None
    files: list[FileOut]
