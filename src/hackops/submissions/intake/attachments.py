"""The working copy's files: the early refusal before an upload, recording a stored file,
downloads (every signed link audited), gallery visibility, removal.

- File count: counted under the submission lock (`service.lock`); size, type and structure are
  checked before anything is stored (`files.inspect_file`, with the event's `policy_for`).
- Adding and removing take the same lock and checks as every change of the working copy
  (`service.check_editable`, `service.check_open`); showing a file in the gallery is allowed
  after the deadline (it changes what visitors see, not what was submitted or judged).
- A judge downloads only the files of the latest submitted version of a submission handed to
  them (`visibility.open_submission`); anyone else who may not see it gets 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.audit.service import record
from hackops.errors import Conflict, NotFound
from hackops.models import Event, SubmissionFile
from hackops.submissions.files.kinds import FileKind, FilePolicy
from hackops.submissions.intake.service import (
    check_editable,
    check_open,
    find,
    list_files,
    lock,
)
from hackops.submissions.intake.visibility import get, open_submission, seen_files
from hackops.teams.access import TeamView, require_member


class FileNotFound(NotFound):
    code = "file_not_found"
    message = "No such file."


class TooManyFiles(Conflict):
    code = "too_many_files"
    message = "This submission already has the most files the event allows."


def policy_for(event: Event) -> FilePolicy:
    kinds = frozenset(FileKind(k) for k in event.file_types if k in FileKind.__members__.values())
    return FilePolicy(
        max_bytes=event.file_max_bytes,
        max_files=event.file_max_count,
        allowed_kinds=kinds or frozenset(FileKind),
    )


async def prepare_upload(session: AsyncSession, view: TeamView) -> FilePolicy:
    """Refuse early (before receiving bytes) what will be refused anyway: not a member, closed,
    locked, or already at the file limit. Re-checked under the lock by `attach_file`."""
    require_member(view)
    event = view.access.event
    submission = await find(session, view)
    if submission is not None:
        check_editable(submission)
        now = await session.scalar(select(func.app_now()))
        assert now is not None
        check_open(event, submission, now)
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
    check_editable(submission)
    check_open(event, submission, now)
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
    check_editable(submission)
    check_open(view.access.event, submission, now)
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
