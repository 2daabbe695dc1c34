"""How much of a team's submission a caller sees, and the loaders that apply it
(`open_submission`, `seen_files`, `seen_versions`, `judged_copy`).

- The team's members and the event's organizers: the working copy and every version.
- A judge the submission is handed to, with no conflict (`events.roles.reach`): its latest submitted
  version only, its fields and its files (`SubmittedCopy`), never the working copy, earlier
  versions or the organizers' note to the team.
- Anyone else: 404, so existence never leaks. The public sees approved projects in the gallery
  once the organizer opens it (`review`).

Everything a judge meets names the project the same way (`judge_copies`: their queue, the
pairwise pair, the messages after their actions): by its latest submitted version, "Untitled"
for a row that has none (never handed to judges by the app; nothing of its working copy shows).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.events.roles.reach import reachable
from hackops.events.service import render_description
from hackops.models import Submission, SubmissionFile, SubmissionVersion
from hackops.submissions.intake.service import SubmissionNotFound, find, list_files, versions
from hackops.teams.access import TeamView

#: The title a judge reads for a project with no submitted version.
UNTITLED = "Untitled"


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

    @property
    def description_html(self) -> str:
        """Rendered when read (the scoring page), not for every row of a queue."""
        return render_description(self.description)


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


def submitted_copy(submission: Submission, version: SubmissionVersion | None) -> SubmittedCopy:
    """The submission as a judge sees it: `version`'s content, or for a row with no version
    nothing but "Untitled" (never the working copy)."""
    snap: dict[str, Any] = version.snapshot if version is not None else {}
    return SubmittedCopy(
        id=submission.id,
        team_id=submission.team_id,
        status=submission.status,
        title=str(snap.get("title") or UNTITLED),
        tagline=str(snap.get("tagline") or ""),
        description=str(snap.get("description") or ""),
        repository_url=snap.get("repository_url"),
        demo_url=snap.get("demo_url"),
        video_url=snap.get("video_url"),
        technologies=list(snap.get("technologies") or []),
        track_ids=[uuid.UUID(str(t)) for t in snap.get("track_ids") or []],
        version_count=submission.version_count,
        latest_version_id=submission.latest_version_id,
        submitted_at=version.submitted_at if version is not None else None,
        late=version.late if version is not None else False,
        created_at=submission.created_at,
        updated_at=version.submitted_at if version is not None else submission.created_at,
        file_ids=frozenset(
            uuid.UUID(str(f["id"])) for f in (version.files if version else []) if f.get("id")
        ),
    )


async def judge_copies(
    session: AsyncSession, submissions: Sequence[Submission]
) -> list[SubmittedCopy]:
    """Submissions already handed to a judge, as they see them (`submitted_copy`), in order;
    their latest versions are read in one query."""
    ids = {s.latest_version_id for s in submissions if s.latest_version_id is not None}
    versions: dict[uuid.UUID, SubmissionVersion] = {}
    if ids:
        rows = await session.scalars(select(SubmissionVersion).where(SubmissionVersion.id.in_(ids)))
        versions = {v.id: v for v in rows}
    return [
        submitted_copy(s, versions.get(s.latest_version_id) if s.latest_version_id else None)
        for s in submissions
    ]


async def judged_title(session: AsyncSession, submission: Submission) -> str:
    """The project's name in what a judge reads (flash messages after their actions)."""
    (copy,) = await judge_copies(session, [submission])
    return copy.title


async def open_submission(session: AsyncSession, view: TeamView) -> Seen:
    """The team's submission with the caller's reach: members and organizers see the working
    copy; a judge it is handed to (no conflict) its latest submitted version; 404 otherwise."""
    access = view.access
    if view.is_member or access.is_organizer:
        submission = await find(session, view)
        if submission is None:
            raise SubmissionNotFound("This team has not started a submission yet.")
        return Seen(submission, Reach.WORKING_COPY)
    user = access.actor.user
    if not access.is_judge or user is None:
        raise SubmissionNotFound
    row = (
        await session.execute(
            select(Submission, SubmissionVersion)
            .join(SubmissionVersion, SubmissionVersion.id == Submission.latest_version_id)
            .where(Submission.team_id == view.team.id, reachable(access.event.id, user.id))
        )
    ).one_or_none()
    if row is None:
        raise SubmissionNotFound
    return Seen(row[0], Reach.SUBMITTED, row[1])


async def get(session: AsyncSession, view: TeamView) -> Submission:
    """The team's submission row, for whoever may see some of it (404 for anyone else). What a
    judge may read of it is `open_submission(...).content`."""
    return (await open_submission(session, view)).submission


async def seen_files(session: AsyncSession, seen: Seen) -> list[SubmissionFile]:
    """The working copy's files, or for a judge the files of the latest version."""
    if seen.version is None:
        return await list_files(session, seen.submission)
    copy = submitted_copy(seen.submission, seen.version)
    if not copy.file_ids:
        return []
    rows = await session.scalars(
        select(SubmissionFile)
        .where(
            SubmissionFile.submission_id == seen.submission.id,
            SubmissionFile.id.in_(copy.file_ids),
        )
        .order_by(SubmissionFile.created_at, SubmissionFile.id)
    )
    return list(rows)


async def judged_copy(
    session: AsyncSession, submission: Submission
) -> tuple[SubmittedCopy, list[SubmissionFile]]:
    """A submission already authorized for a judge (their queue), as they see it: the latest
    version's content and files. A row with no version at all (made outside `submit`) shows
    nothing of its working copy: "Untitled", no content, no files."""
    if submission.latest_version_id is None:
        return submitted_copy(submission, None), []
    version = await session.get_one(SubmissionVersion, submission.latest_version_id)
    seen = Seen(submission, Reach.SUBMITTED, version)
    return submitted_copy(submission, version), await seen_files(session, seen)


async def seen_versions(session: AsyncSession, seen: Seen) -> list[SubmissionVersion]:
    """Every version, newest first; a judge sees only the latest one."""
    if seen.version is not None:
        return [seen.version]
    return await versions(session, seen.submission)
