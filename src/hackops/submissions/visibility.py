"""How much of a team's submission a caller sees (`submissions.service.open_submission`).

- The team's members and the event's organizers: the working copy and every version.
- A judge the submission is handed to, with no conflict (`judging.reach`): its latest submitted
  version only, its fields and its files (`SubmittedCopy`), never the working copy, earlier
  versions or the organizers' note to the team.
- Anyone else: 404.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from hackops.events.service import render_description
from hackops.models import Submission, SubmissionVersion


class Reach(enum.StrEnum):
    WORKING_COPY = "working_copy"  # the team's members and the event's organizers
    SUBMITTED = "submitted"  # a judge it is handed to: the latest submitted version only


@dataclass(frozen=True)
class SubmittedCopy:
    """A submission as a judge sees it: the row's identity and state with the content of its
    latest submitted version (never the working copy, nor the organizers' note to the team)."""

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
    created_at: datetime
    updated_at: datetime
    decision_reason: str = ""
    decided_at: datetime | None = None
    reopened_until: datetime | None = None
    file_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Seen:
    """The team's submission and how much of it the caller sees."""

    submission: Submission
    reach: Reach
    version: SubmissionVersion | None = None  # the latest version, for a judge

    @property
    def content(self) -> Submission | SubmittedCopy:
        """What the caller reads: the working copy, or the latest version's copy."""
        if self.version is None:
            return self.submission
        return submitted_copy(self.submission, self.version)


def submitted_copy(submission: Submission, version: SubmissionVersion) -> SubmittedCopy:
    snap = version.snapshot
    description = str(snap.get("description") or "")
    return SubmittedCopy(
        id=submission.id,
        team_id=submission.team_id,
        status=submission.status,
        title=str(snap.get("title") or ""),
        tagline=str(snap.get("tagline") or ""),
        description=description,
        description_html=render_description(description),
        repository_url=snap.get("repository_url"),
        demo_url=snap.get("demo_url"),
        video_url=snap.get("video_url"),
        technologies=list(snap.get("technologies") or []),
        track_ids=[uuid.UUID(str(t)) for t in snap.get("track_ids") or []],
        version_count=submission.version_count,
        latest_version_id=submission.latest_version_id,
        submitted_at=version.submitted_at,
        late=version.late,
        created_at=submission.created_at,
        updated_at=version.submitted_at,
        file_ids=frozenset(uuid.UUID(str(f["id"])) for f in version.files if f.get("id")),
    )
