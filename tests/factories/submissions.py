"""Submissions: the working copy, its frozen versions and files, what processing records about a
version (pipeline steps, extracted text, fetched links, fingerprints, duplicate flags), and the
public gallery's entry of an approved project (written by the database's triggers)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import (
    DuplicateFlag,
    Event,
    GalleryEntry,
    LinkCheck,
    PipelineStep,
    Submission,
    SubmissionBand,
    SubmissionFile,
    SubmissionFingerprint,
    SubmissionVersion,
    Team,
    VersionText,
)
from hackops.submissions.intake.service import snapshot_of
from hackops.tenancy import set_tenant
from tests.factories.events import create_event
from tests.factories.rows import insert, unique
from tests.factories.teams import create_team


async def create_submission(
    session: AsyncSession, team: Team | None = None, **overrides: Any
) -> Submission:
    """A team's working copy, never submitted (a draft with no version)."""
    team = team or await create_team(session)
    await set_tenant(session, team.org_id)
    values: dict[str, Any] = {
        "org_id": team.org_id,
        "event_id": team.event_id,
        "team_id": team.id,
        "title": f"Project {unique()}",
    }
    values.update(overrides)
    submission = await insert(session, Submission, values)
    await session.refresh(submission)  # the server's defaults
    return submission


async def create_submitted(
    session: AsyncSession, team: Team | None = None, **overrides: Any
) -> Submission:
    """A team's project as `submit` leaves it: the row and its version 1 (the row's content
    frozen), the latest. What judges see of it is that version."""
    values: dict[str, Any] = {"status": "submitted", **overrides}
    submission = await create_submission(session, team, **values)
    version_values = {"submitted_at": values["submitted_at"]} if values.get("submitted_at") else {}
    await create_submission_version(session, submission, **version_values)
    return submission


async def create_submission_version(
    session: AsyncSession, submission: Submission | None = None, **overrides: Any
) -> SubmissionVersion:
    """The next version of `submission` (its content frozen now), which becomes the latest."""
    submission = submission or await create_submission(session, status="submitted")
    await set_tenant(session, submission.org_id)
    values: dict[str, Any] = {
        "org_id": submission.org_id,
        "event_id": submission.event_id,
        "submission_id": submission.id,
        "number": submission.version_count + 1,
        "snapshot": snapshot_of(submission),
    }
    values.update(overrides)
    version = await insert(session, SubmissionVersion, values)
    submission.version_count, submission.latest_version_id = version.number, version.id
    await session.flush()
    return version


async def create_submission_file(
    session: AsyncSession, submission: Submission | None = None, **overrides: Any
) -> SubmissionFile:
    """A PDF on `submission`'s working copy (the row only: no object is stored)."""
    submission = submission or await create_submission(session)
    await set_tenant(session, submission.org_id)
    key = (
        f"org/{submission.org_id}/event/{submission.event_id}/team/{submission.team_id}/{unique(8)}"
    )
    values: dict[str, Any] = {
        "org_id": submission.org_id,
        "event_id": submission.event_id,
        "team_id": submission.team_id,
        "submission_id": submission.id,
        "storage_key": key,
        "name": "pitch.pdf",
        "content_type": "application/pdf",
        "kind": "pdf",
        "size": 1234,
        "sha256": hashlib.sha256(key.encode()).hexdigest(),
    }
    values.update(overrides)
    return await insert(session, SubmissionFile, values)


async def _version_of(
    session: AsyncSession, version: SubmissionVersion | None
) -> SubmissionVersion:
    """`version`, or the version 1 of a new submitted project; the tenant becomes its org."""
    version = version or await create_submission_version(session)
    await set_tenant(session, version.org_id)
    return version


async def create_pipeline_step(
    session: AsyncSession, version: SubmissionVersion | None = None, **overrides: Any
) -> PipelineStep:
    """`version`'s file validation step, queued (no job is enqueued)."""
    version = await _version_of(session, version)
    values: dict[str, Any] = {
        "org_id": version.org_id,
        "event_id": version.event_id,
        "submission_id": version.submission_id,
        "version_id": version.id,
        "step": "validate_files",
    }
    values.update(overrides)
    return await insert(session, PipelineStep, values)


async def create_version_text(
    session: AsyncSession, version: SubmissionVersion | None = None, **overrides: Any
) -> VersionText:
    version = await _version_of(session, version)
    values: dict[str, Any] = {
        "org_id": version.org_id,
        "version_id": version.id,
        "source": "description",
        "content": "A greenhouse that waters itself.",
    }
    values.update(overrides)
    return await insert(session, VersionText, values)


async def create_link_check(
    session: AsyncSession, version: SubmissionVersion | None = None, **overrides: Any
) -> LinkCheck:
    """A fetched repository link of `version` that answered 200."""
    version = await _version_of(session, version)
    values: dict[str, Any] = {
        "org_id": version.org_id,
        "submission_id": version.submission_id,
        "version_id": version.id,
        "url": f"https://example.com/{unique()}",
        "status": "ok",
        "http_status": 200,
    }
    values.update(overrides)
    return await insert(session, LinkCheck, values)


async def create_submission_fingerprint(
    session: AsyncSession, version: SubmissionVersion | None = None, **overrides: Any
) -> SubmissionFingerprint:
    version = await _version_of(session, version)
    values: dict[str, Any] = {
        "version_id": version.id,
        "org_id": version.org_id,
        "event_id": version.event_id,
        "submission_id": version.submission_id,
        "minhash": [1, 2, 3, 4],
        "shingles": [11, 12, 13],
        "shingle_count": 3,
    }
    values.update(overrides)
    return await insert(session, SubmissionFingerprint, values)


async def create_submission_band(
    session: AsyncSession, fingerprint: SubmissionFingerprint | None = None, **overrides: Any
) -> SubmissionBand:
    fingerprint = fingerprint or await create_submission_fingerprint(session)
    await set_tenant(session, fingerprint.org_id)
    values: dict[str, Any] = {
        "version_id": fingerprint.version_id,
        "band": 0,
        "org_id": fingerprint.org_id,
        "event_id": fingerprint.event_id,
        "submission_id": fingerprint.submission_id,
        "hash": 42,
    }
    values.update(overrides)
    return await insert(session, SubmissionBand, values)


async def create_duplicate_flag(
    session: AsyncSession,
    submission: Submission | None = None,
    other: Submission | None = None,
    **overrides: Any,
) -> DuplicateFlag:
    """An open near-duplicate (text) flag from `submission` to `other` (by default another
    team's project of the same event)."""
    submission = submission or await create_submitted(session)
    if other is None:
        event = await session.get_one(Event, submission.event_id)
        other = await create_submitted(session, await create_team(session, event))
    await set_tenant(session, submission.org_id)
    values: dict[str, Any] = {
        "org_id": submission.org_id,
        "event_id": submission.event_id,
        "submission_id": submission.id,
        "other_submission_id": other.id,
        "kind": "text",
        "score": 0.93,
    }
    values.update(overrides)
    return await insert(session, DuplicateFlag, values)


async def create_gallery_entry(
    session: AsyncSession, event: Event | None = None, **overrides: Any
) -> GalleryEntry:
    """An approved project in a public gallery (the event published with its gallery open): the
    entry the triggers made for it. `overrides` go to the submission."""
    if event is None:
        event = await create_event(
            session, published_at=func.app_now(), gallery_opened_at=func.app_now()
        )
    team = await create_team(session, event)
    submission = await create_submission(session, team, status="approved", **overrides)
    entry = await session.scalar(
        select(GalleryEntry).where(GalleryEntry.submission_id == submission.id)
    )
    assert entry is not None, "the event's gallery is not public"
    return entry
