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

import json
import uuid
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
from hackops.jobs import job_row
from hackops.models import (
    PIPELINE_ORDER,
    Event,
    Submission,
    SubmissionFile,
    SubmissionStatus,
    SubmissionVersion,
    new_id,
)
from hackops.outbox import catalog
from hackops.outbox.service import prepare
from hackops.rows import driver_sql, fetch_one
from hackops.submissions.pipeline.tasks import QUEUE as PIPELINE_QUEUE
from hackops.submissions.pipeline.tasks import STEP_TASKS
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


#: Why a submission that is no longer editable is locked, in its state's words.
LOCKED_BECAUSE = {
    SubmissionStatus.UNDER_REVIEW: "This submission is being reviewed",
    SubmissionStatus.APPROVED: "An approved submission is final",
    SubmissionStatus.REJECTED: "A rejected submission is final",
    SubmissionStatus.DISQUALIFIED: "A disqualified submission is final",
}


def locked_message(status: SubmissionStatus) -> str:
    """Why a submission in `status` cannot be changed, and who can change that."""
    because = LOCKED_BECAUSE.get(status, "This submission is locked")
    return f"{because}; an organizer must reopen it to change it."


def check_editable(submission: Submission) -> None:
    if submission.status not in EDITABLE:
        raise SubmissionLocked(locked_message(SubmissionStatus(submission.status)))


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


@dataclass(frozen=True, slots=True)
class NewVersion:
    """The version a submit froze: what its response shows."""

    id: uuid.UUID
    number: int
    snapshot: dict[str, Any]
    files: list[dict[str, Any]]
    submitted_by: uuid.UUID | None
    submitted_at: datetime
    late: bool


@dataclass(frozen=True, slots=True)
class PreparedSteps:
    """A version's four pipeline steps (queued) and its first job: what `start_pipeline`
    writes, as values for `submit_version` to write."""

    ids: list[str]
    names: list[str]
    first_job: dict[str, Any]


def prepare_steps(org_id: uuid.UUID) -> PreparedSteps:
    ids = [new_id() for _ in PIPELINE_ORDER]
    task = STEP_TASKS[PIPELINE_ORDER[0]]
    job = job_row(task, queue=PIPELINE_QUEUE, step_id=str(ids[0]), org_id=str(org_id))
    return PreparedSteps([str(i) for i in ids], [n.value for n in PIPELINE_ORDER], job)


#: On the driver (`hackops.rows`), the function's answer in this order.
SUBMIT_VERSION = driver_sql(
    "SELECT o_outcome, o_detail, o_deadline, o_number, o_snapshot, o_files, o_submitted_at,"
    " o_late FROM submit_version(:event_id, :team_id, :user_id, :version_id,"
    " CAST(:step_ids AS uuid[]), CAST(:steps AS text[]), CAST(:audit AS jsonb),"
    " CAST(:outbox AS jsonb), CAST(:jobs AS jsonb), :channel)"
)


async def submit(session: AsyncSession, view: TeamView) -> NewVersion:
    """Freeze the working copy as the next version and start its processing, in this
    transaction (a rollback drops the version and its jobs together).

    One statement (`submit_version`, migration 0032): the submission row locked, the deadline
    read on the database clock under that lock, the version numbered, its snapshot and file
    hashes frozen, the submission updated, audit and outbox rows, the four pipeline steps and
    the jobs. This side checks membership (no query), gives the ids and the job specs, and
    turns a refusal into its error."""
    require_member(view)
    event, actor = view.access.event, view.access.actor
    user_id = actor.user.id if actor.user is not None else None
    version_id = new_id()
    steps = prepare_steps(event.org_id)
    event_row = prepare(
        catalog.SubmissionSubmitted(
            submission_id=uuid.UUID(int=0),  # completed in SQL, as are the number and late
            team_id=view.team.id,
            version_id=version_id,
            version_number=1,
            late=False,
        )
    )
    row = await fetch_one(
        session,
        SUBMIT_VERSION,
        {
            "event_id": event.id,
            "team_id": view.team.id,
            "user_id": user_id,
            "version_id": version_id,
            "step_ids": steps.ids,
            "steps": steps.names,
            "audit": json.dumps(
                {
                    "id": str(new_id()),
                    "details": {"team_id": str(view.team.id)},
                    "ip": actor.ip,
                    "user_agent": actor.user_agent[:400],
                }
            ),
            "outbox": json.dumps(event_row.row),
            "jobs": json.dumps([event_row.job, steps.first_job]),
            "channel": event_row.channel,
        },
        # The route's last statement (`db.final_write_session`); a refusal has written nothing.
        final=True,
    )
    assert row is not None  # the function answers one row whatever it decides
    outcome, detail, deadline, number, snapshot, files, submitted_at, late = row
    if outcome != "ok":
        raise _refusal(outcome, detail, deadline)
    return NewVersion(
        id=version_id,
        number=number,
        snapshot=snapshot,
        files=files,
        submitted_by=user_id,
        submitted_at=submitted_at,
        late=late,
    )


def _refusal(outcome: str, detail: str | None, deadline: datetime | None) -> Exception:
    if outcome == "locked":
        return SubmissionLocked(locked_message(SubmissionStatus(str(detail))))
    if outcome == "not_open":
        return SubmissionsNotOpen()
    if outcome == "closed":
        assert deadline is not None
        return SubmissionsClosed(details={"closed_at": deadline.isoformat()})
    if outcome == "title_required":
        return TitleRequired()
    return SubmissionNotFound()


async def versions(session: AsyncSession, submission: Submission) -> list[SubmissionVersion]:
    rows = await session.scalars(
        select(SubmissionVersion)
        .where(SubmissionVersion.submission_id == submission.id)
        .order_by(SubmissionVersion.number.desc())
    )
    return list(rows)
