"""A team's submission: the working copy, submit (immutable numbered versions), states.

Lifecycle (`SubmissionStatus`): draft → submitted (each submit freezes a new version; editing
and submitting again is allowed until the deadline) → under_review → approved | rejected |
disqualified (organizers, with a reason the team sees). An organizer can reopen a submission:
it goes back to draft and, optionally, this team gets its own later deadline.

Who holds which limit:
- One submission per team and event: UNIQUE (event_id, team_id), created with ON CONFLICT.
- Version numbers without gaps or duplicates: the submission row is locked (FOR UPDATE) from the
  number's choice to the commit, and UNIQUE (submission_id, number) backs it.
- The deadline is read from the database clock under that lock: submissions close + grace, or
  the team's reopened deadline. After it, submit is refused, or accepted and flagged late when
  the event allows late submissions.

Every change of the working copy goes through `lock` and the checks `check_editable` and
`check_open` (files too, `attachments.py`). Who sees how much of a submission, and its loaders
(`open_submission`): `visibility.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.audit.service import record
from hackops.errors import Conflict, NotFound
from hackops.events.lifecycle import submissions_deadline
from hackops.events.service import render_description
from hackops.events.tracks.service import list_tracks
from hackops.models import (
    Event,
    Submission,
    SubmissionFile,
    SubmissionStatus,
    SubmissionVersion,
)
from hackops.outbox import catalog
from hackops.outbox.service import emit
from hackops.submissions.pipeline.tasks import start_pipeline
from hackops.submissions.schemas import SubmissionIn
from hackops.teams.access import TeamView, require_member

EDITABLE = (SubmissionStatus.DRAFT, SubmissionStatus.SUBMITTED)
SNAPSHOT_FIELDS = (
    "title",
    "tagline",
    "description",
    "repository_url",
    "demo_url",
    "video_url",
    "technologies",
    "track_ids",
)


class SubmissionNotFound(NotFound):
    code = "submission_not_found"
    message = "No such submission."


class SubmissionsClosed(Conflict):
    code = "submissions_closed"
    message = "Submissions are closed for this event."


class SubmissionsNotOpen(Conflict):
    code = "submissions_not_open"
    message = "Submissions open when the event starts."


class SubmissionLocked(Conflict):
    code = "submission_locked"
    message = "This submission is being reviewed; an organizer must reopen it to change it."


class TitleRequired(Conflict):
    code = "title_required"
    message = "Give your project a title before submitting."


class UnknownTrack(Conflict):
    code = "unknown_track"
    message = "That track is not one of this event's tracks."


@dataclass(frozen=True)
class Deadline:
    at: datetime | None  # None: no deadline set
    late_allowed: bool


async def find(session: AsyncSession, view: TeamView) -> Submission | None:
    return await session.scalar(
        select(Submission).where(
            Submission.event_id == view.access.event.id, Submission.team_id == view.team.id
        )
    )


async def list_files(session: AsyncSession, submission: Submission) -> list[SubmissionFile]:
    rows = await session.scalars(
        select(SubmissionFile)
        .where(SubmissionFile.submission_id == submission.id, SubmissionFile.deleted_at.is_(None))
        .order_by(SubmissionFile.created_at, SubmissionFile.id)
    )
    return list(rows)


async def lock(session: AsyncSession, view: TeamView) -> tuple[Submission, datetime]:
    """The team's submission row, created as a draft if missing, locked; and the DB clock."""
    require_member(view)
    event = view.access.event
    await session.execute(
        pg_insert(Submission)
        .values(org_id=event.org_id, event_id=event.id, team_id=view.team.id)
        .on_conflict_do_nothing(index_elements=["event_id", "team_id"])
    )
    row = (
        await session.execute(
            select(Submission, func.app_now())
            .where(Submission.event_id == event.id, Submission.team_id == view.team.id)
            .with_for_update(of=Submission)
            .execution_options(populate_existing=True)
        )
    ).one()
    return row[0], row[1]


def deadline_for(event: Event, submission: Submission) -> Deadline:
    if submission.reopened_until is not None:
        return Deadline(submission.reopened_until, event.late_submissions)
    if event.submissions_close_at is None:
        return Deadline(None, event.late_submissions)
    return Deadline(submissions_deadline(event), event.late_submissions)


def check_open(event: Event, submission: Submission, now: datetime) -> bool:
    """Whether a change now is late; raises when it is refused."""
    if event.starts_at is not None and now < event.starts_at:
        raise SubmissionsNotOpen
    deadline = deadline_for(event, submission)
    if deadline.at is not None and now >= deadline.at:
        if not deadline.late_allowed:
            raise SubmissionsClosed(details={"closed_at": deadline.at.isoformat()})
        return True
    return False


def check_editable(submission: Submission) -> None:
    if submission.status not in EDITABLE:
        raise SubmissionLocked


async def update(session: AsyncSession, view: TeamView, data: SubmissionIn) -> Submission:
    """Change the working copy (any member). What was submitted stays frozen in its version."""
    submission, now = await lock(session, view)
    event = view.access.event
    check_editable(submission)
    check_open(event, submission, now)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("track_ids") is not None:
        known = {t.id for t in await list_tracks(session, event)}
        wanted = list(dict.fromkeys(changes["track_ids"]))
        if any(t not in known for t in wanted):
            raise UnknownTrack
        changes["track_ids"] = wanted
    for name, value in changes.items():
        if value is None and name in ("title", "tagline", "description"):
            value = ""
        if value is None and name in ("technologies", "track_ids"):
            value = []
        setattr(submission, name, value)
    if "description" in changes:
        submission.description_html = render_description(submission.description)
    await session.flush()
    await record(
        session,
        view.access.actor,
        "submission.updated",
        resource_type="submission",
        resource_id=submission.id,
        org_id=event.org_id,
        details={"team_id": str(view.team.id), "fields": sorted(changes)},
    )
    await session.refresh(submission)
    return submission


def snapshot_of(submission: Submission) -> dict[str, Any]:
    snap: dict[str, Any] = {name: getattr(submission, name) for name in SNAPSHOT_FIELDS}
    snap["track_ids"] = [str(t) for t in submission.track_ids]
    return snap


def file_entry(file: SubmissionFile) -> dict[str, Any]:
    return {
        "id": str(file.id),
        "name": file.name,
        "sha256": file.sha256,
        "size": file.size,
        "kind": file.kind,
        "content_type": file.content_type,
        "storage_key": file.storage_key,
    }


async def submit(session: AsyncSession, view: TeamView) -> SubmissionVersion:
    """Freeze the working copy as the next version and start its processing, in this
    transaction (a rollback drops the version and its jobs together)."""
    submission, now = await lock(session, view)
    event = view.access.event
    check_editable(submission)
    late = check_open(event, submission, now)
    if not submission.title.strip():
        raise TitleRequired
    files = await list_files(session, submission)
    user = view.access.actor.user
    version = SubmissionVersion(
        org_id=event.org_id,
        event_id=event.id,
        submission_id=submission.id,
        number=submission.version_count + 1,
        snapshot=snapshot_of(submission),
        files=[file_entry(f) for f in files],
        submitted_by=user.id if user else None,
        submitted_at=now,
        late=late,
    )
    session.add(version)
    await session.flush()
    submission.version_count = version.number
    submission.latest_version_id = version.id
    submission.submitted_at = now
    submission.late = late
    submission.status = SubmissionStatus.SUBMITTED
    await session.flush()
    await record(
        session,
        view.access.actor,
        "submission.submitted",
        resource_type="submission",
        resource_id=submission.id,
        org_id=event.org_id,
        details={"team_id": str(view.team.id), "version": version.number, "late": late},
    )
    await emit(
        session,
        view.access.actor,
        catalog.SubmissionSubmitted(
            submission_id=submission.id,
            team_id=view.team.id,
            version_id=version.id,
            version_number=version.number,
            late=late,
        ),
        org_id=event.org_id,
        event_id=event.id,
    )
    await start_pipeline(session, version)
    return version


async def versions(session: AsyncSession, submission: Submission) -> list[SubmissionVersion]:
    rows = await session.scalars(
        select(SubmissionVersion)
        .where(SubmissionVersion.submission_id == submission.id)
        .order_by(SubmissionVersion.number.desc())
    )
    return list(rows)
