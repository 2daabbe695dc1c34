"""A team's submission: the working copy, files, submit (immutable numbered versions), states.

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
- File count: counted under the submission lock; size, type and structure are checked before
  anything is stored (`files.inspect_file`).

Who sees a submission (`open_submission`): the team's members and the event's organizers see
the working copy and every version; a judge sees only the latest submitted version (its fields
and its files), and only of a submission handed to them with no conflict (`events.roles.reach`);
anyone else gets 404, so existence never leaks. The public sees approved projects in the gallery
once the organizer opens it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.audit.service import record
from hackops.errors import Conflict, NotFound
from hackops.events.lifecycle import submissions_deadline
from hackops.events.roles.reach import reachable
from hackops.events.service import render_description
from hackops.events.tracks.service import list_tracks
from hackops.models import (
    Event,
    Submission,
    SubmissionFile,
    SubmissionStatus,
    SubmissionVersion,
)
from hackops.submissions.files.kinds import FileKind, FilePolicy
from hackops.submissions.intake.visibility import Reach, Seen, SubmittedCopy, submitted_copy
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


class FileNotFound(NotFound):
    code = "file_not_found"
    message = "No such file."


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


class TooManyFiles(Conflict):
    code = "too_many_files"
    message = "This submission already has the most files the event allows."


@dataclass(frozen=True)
class Deadline:
    at: datetime | None  # None: no deadline set
    late_allowed: bool


def policy_for(event: Event) -> FilePolicy:
    kinds = frozenset(FileKind(k) for k in event.file_types if k in FileKind.__members__.values())
    return FilePolicy(
        max_bytes=event.file_max_bytes,
        max_files=event.file_max_count,
        allowed_kinds=kinds or frozenset(FileKind),
    )


async def find(session: AsyncSession, view: TeamView) -> Submission | None:
    return await session.scalar(
        select(Submission).where(
            Submission.event_id == view.access.event.id, Submission.team_id == view.team.id
        )
    )


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


def _check_open(event: Event, submission: Submission, now: datetime) -> bool:
    """Whether a change now is late; raises when it is refused."""
    if event.starts_at is not None and now < event.starts_at:
        raise SubmissionsNotOpen
    deadline = deadline_for(event, submission)
    if deadline.at is not None and now >= deadline.at:
        if not deadline.late_allowed:
            raise SubmissionsClosed(details={"closed_at": deadline.at.isoformat()})
        return True
    return False


def _check_editable(submission: Submission) -> None:
    if submission.status not in EDITABLE:
        raise SubmissionLocked


async def update(session: AsyncSession, view: TeamView, data: SubmissionIn) -> Submission:
    """Change the working copy (any member). What was submitted stays frozen in its version."""
    submission, now = await lock(session, view)
    event = view.access.event
    _check_editable(submission)
    _check_open(event, submission, now)
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
    _check_editable(submission)
    late = _check_open(event, submission, now)
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
    await start_pipeline(session, version)
    return version


async def versions(session: AsyncSession, submission: Submission) -> list[SubmissionVersion]:
    rows = await session.scalars(
        select(SubmissionVersion)
        .where(SubmissionVersion.submission_id == submission.id)
        .order_by(SubmissionVersion.number.desc())
    )
    return list(rows)


# --- files ---------------------------------------------------------------------------------------


async def prepare_upload(session: AsyncSession, view: TeamView) -> FilePolicy:
    """Refuse early (before receiving bytes) what will be refused anyway: not a member, closed,
    locked, or already at the file limit. Re-checked under the lock by `attach_file`."""
    require_member(view)
    event = view.access.event
    submission = await find(session, view)
    if submission is not None:
        _check_editable(submission)
        now = await session.scalar(select(func.app_now()))
        assert now is not None
        _check_open(event, submission, now)
        if len(await list_files(session, submission)) >= event.file_max_count:
            raise TooManyFiles(details={"max_files": event.file_max_count})
    return policy_for(event)


async def attach_file(
    session: AsyncSession,
    view: TeamView,
    *,
    storage_key: str,
    name: str,
    kind: str,
    content_type: str,
    size: int,
    sha256: str,
    details: dict[str, Any],
) -> SubmissionFile:
    """Record a stored, inspected file on the team's submission (under the submission lock)."""
    submission, now = await lock(session, view)
    event = view.access.event
    _check_editable(submission)
    _check_open(event, submission, now)
    if len(await list_files(session, submission)) >= event.file_max_count:
        raise TooManyFiles(details={"max_files": event.file_max_count})
    user = view.access.actor.user
    file = SubmissionFile(
        org_id=event.org_id,
        event_id=event.id,
        team_id=view.team.id,
        submission_id=submission.id,
        storage_key=storage_key,
        name=name,
        kind=kind,
        content_type=content_type,
        size=size,
        sha256=sha256,
        details=details,
        uploaded_by=user.id if user else None,
    )
    session.add(file)
    await session.flush()
    await record(
        session,
        view.access.actor,
        "submission_file.added",
        resource_type="submission_file",
        resource_id=file.id,
        org_id=event.org_id,
        details={"team_id": str(view.team.id), "size": size, "sha256": sha256, "kind": kind},
    )
    await session.refresh(file)
    return file


async def get_file(session: AsyncSession, view: TeamView, file_id: uuid.UUID) -> SubmissionFile:
    """A file the caller may download: any of the submission's for members and organizers, one
    of the latest version's for a judge (404 otherwise)."""
    seen = await open_submission(session, view)
    if seen.version is not None:
        file = next((f for f in await seen_files(session, seen) if f.id == file_id), None)
    else:
        file = await session.scalar(
            select(SubmissionFile).where(
                SubmissionFile.id == file_id, SubmissionFile.submission_id == seen.submission.id
            )
        )
    if file is None:
        raise FileNotFound
    return file


async def record_link_issued(session: AsyncSession, actor: Actor, file: SubmissionFile) -> None:
    """Every signed download link is audited (API, team page, judge page alike)."""
    await record(
        session,
        actor,
        "submission_file.link_issued",
        resource_type="submission_file",
        resource_id=file.id,
        org_id=file.org_id,
        details={"team_id": str(file.team_id)},
    )


async def set_file_public(
    session: AsyncSession, view: TeamView, file_id: uuid.UUID, *, public: bool
) -> SubmissionFile:
    """A member shows a file in the public gallery (or hides it again). Allowed after the
    deadline: it changes what visitors see, not what was submitted or judged."""
    require_member(view)
    submission = await get(session, view)
    file = await session.scalar(
        select(SubmissionFile)
        .where(
            SubmissionFile.id == file_id,
            SubmissionFile.submission_id == submission.id,
            SubmissionFile.deleted_at.is_(None),
        )
        .with_for_update()
    )
    if file is None:
        raise FileNotFound
    file.public = public
    await session.flush()
    await record(
        session,
        view.access.actor,
        "submission_file.visibility_changed",
        resource_type="submission_file",
        resource_id=file.id,
        org_id=submission.org_id,
        details={"team_id": str(view.team.id), "public": public},
    )
    await session.refresh(file)
    return file


async def remove_file(session: AsyncSession, view: TeamView, file_id: uuid.UUID) -> None:
    """Take a file off the working copy. The object stays while a version refers to it."""
    submission, now = await lock(session, view)
    _check_editable(submission)
    _check_open(view.access.event, submission, now)
    file = await session.scalar(
        select(SubmissionFile).where(
            SubmissionFile.id == file_id,
            SubmissionFile.submission_id == submission.id,
            SubmissionFile.deleted_at.is_(None),
        )
    )
    if file is None:
        raise FileNotFound
    file.deleted_at = now
    await session.flush()
    await record(
        session,
        view.access.actor,
        "submission_file.removed",
        resource_type="submission_file",
        resource_id=file.id,
        org_id=submission.org_id,
        details={"team_id": str(view.team.id)},
    )
