"""The organizers' side of submissions: the review queue, decisions (one or in bulk), reopening,
duplicate flags, and the public gallery of approved projects.

Decisions are transitions of `SubmissionStatus`: under_review, approved, rejected, disqualified
from any submitted state; rejected and disqualified need a reason, which the team sees. A draft
(never submitted) cannot be decided. Reopening puts a submission back to draft so the team can
change and submit it again, optionally with a later deadline of its own.

A decision that changes the state writes its domain event: `submission.approved`, or
`submission.rejected` (with `disqualified`) — the reason is not in the payload (the team reads
it on its page; what leaves the platform carries ids only).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.audit.service import record
from hackops.errors import Conflict, NotFound
from hackops.events.access import EventAccess
from hackops.events.search import escape_like
from hackops.models import (
    DuplicateFlag,
    Event,
    FlagStatus,
    GalleryEntry,
    PipelineStep,
    StepState,
    Submission,
    SubmissionFile,
    SubmissionStatus,
    Team,
    TeamMember,
    User,
    Visibility,
)
from hackops.outbox import catalog
from hackops.outbox.service import emit
from hackops.submissions.intake.service import SubmissionNotFound

DECIDABLE = (
    SubmissionStatus.SUBMITTED,
    SubmissionStatus.UNDER_REVIEW,
    SubmissionStatus.APPROVED,
    SubmissionStatus.REJECTED,
    SubmissionStatus.DISQUALIFIED,
)
NEEDS_REASON = (SubmissionStatus.REJECTED, SubmissionStatus.DISQUALIFIED)
SORTS = {
    "submitted": (Submission.submitted_at.desc().nulls_last(), Submission.id),
    "-submitted": (Submission.submitted_at.asc().nulls_last(), Submission.id),
    "title": (func.lower(Submission.title), Submission.id),
}


class ReasonRequired(Conflict):
    code = "reason_required"
    message = "Give the team a reason when rejecting or disqualifying."


class NotSubmitted(Conflict):
    code = "not_submitted"
    message = "This submission has not been submitted yet."


class FlagNotFound(NotFound):
    code = "flag_not_found"
    message = "No such flag."


class GalleryClosed(NotFound):
    code = "gallery_not_found"
    message = "This event has no public gallery."


@dataclass(frozen=True)
class ReviewRow:
    submission: Submission
    team_name: str
    open_flags: int
    failed_steps: int


async def get_for_organizer(
    session: AsyncSession, access: EventAccess, submission_id: uuid.UUID
) -> Submission:
    submission = await session.scalar(
        select(Submission).where(
            Submission.id == submission_id, Submission.event_id == access.event.id
        )
    )
    if submission is None:
        raise SubmissionNotFound
    return submission


async def review_queue(
    session: AsyncSession,
    access: EventAccess,
    *,
    status: str | None = None,
    track_id: uuid.UUID | None = None,
    flagged: bool | None = None,
    pipeline_failed: bool | None = None,
    q: str | None = None,
    sort: str = "submitted",
    limit: int,
    offset: int,
) -> list[ReviewRow]:
    """Submitted work (drafts are the teams' business) with the counts a reviewer filters by;
    one query whatever the page size."""
    open_flags = (
        select(func.count())
        .where(
            DuplicateFlag.submission_id == Submission.id,
            DuplicateFlag.status == FlagStatus.OPEN,
        )
        .correlate(Submission)
        .scalar_subquery()
    )
    failed = (
        select(func.count())
        .where(
            PipelineStep.version_id == Submission.latest_version_id,
            PipelineStep.state == StepState.FAILED,
        )
        .correlate(Submission)
        .scalar_subquery()
    )
    query: Select[Any] = (
        select(Submission, Team.name, open_flags, failed)
        .join(Team, Team.id == Submission.team_id)
        .where(Submission.event_id == access.event.id, Submission.version_count > 0)
    )
    if status:
        query = query.where(Submission.status == status)
    if track_id is not None:
        query = query.where(Submission.track_ids.contains([track_id]))
    if flagged is not None:
        query = query.where(open_flags > 0 if flagged else open_flags == 0)
    if pipeline_failed is not None:
        query = query.where(failed > 0 if pipeline_failed else failed == 0)
    if q:
        query = query.where(
            or_(
                Submission.search.op("@@")(func.websearch_to_tsquery("english", q)),
                Team.name.ilike(f"%{escape_like(q)}%", escape="\\"),
            )
        )
    rows = await session.execute(
        query.order_by(*SORTS.get(sort, SORTS["submitted"])).limit(limit).offset(offset)
    )
    return [ReviewRow(r[0], r[1], r[2], r[3]) for r in rows]


async def decide(
    session: AsyncSession,
    access: EventAccess,
    submission_ids: list[uuid.UUID],
    *,
    status: str,
    reason: str,
) -> int:
    """Set the state of one or many submitted submissions; all or nothing (an unknown or
    never-submitted one refuses the whole batch). Returns how many changed."""
    if status in NEEDS_REASON and not reason.strip():
        raise ReasonRequired
    wanted = list(dict.fromkeys(submission_ids))
    rows = list(
        await session.scalars(
            select(Submission)
            .where(Submission.event_id == access.event.id, Submission.id.in_(wanted))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    if len(rows) != len(wanted):
        raise SubmissionNotFound(details={"found": len(rows), "asked": len(wanted)})
    if any(s.status not in DECIDABLE for s in rows):
        raise NotSubmitted
    now = await session.scalar(select(func.app_now()))
    user = access.actor.user
    for submission in rows:
        previous = submission.status
        submission.status = SubmissionStatus(status)
        submission.decision_reason = reason.strip()
        submission.decided_at = now
        submission.decided_by = user.id if user else None
        await record(
            session,
            access.actor,
            "submission.decided",
            resource_type="submission",
            resource_id=submission.id,
            org_id=access.event.org_id,
            details={"from": previous, "to": status, "reason": submission.decision_reason},
        )
        if submission.status != previous:
            await _tell_decision(session, access, submission)
    await session.flush()
    return len(rows)


async def _tell_decision(
    session: AsyncSession, access: EventAccess, submission: Submission
) -> None:
    """`submission.approved` / `submission.rejected` (a disqualification too) for a decision
    that changed the state; under review is no news to the team."""
    payload: catalog.Payload
    if submission.status == SubmissionStatus.APPROVED:
        payload = catalog.SubmissionApproved(
            submission_id=submission.id, team_id=submission.team_id
        )
    elif submission.status in NEEDS_REASON:
        payload = catalog.SubmissionRejected(
            submission_id=submission.id,
            team_id=submission.team_id,
            disqualified=submission.status == SubmissionStatus.DISQUALIFIED,
        )
    else:
        return
    await emit(session, access.actor, payload, org_id=access.event.org_id, event_id=access.event.id)


async def reopen(
    session: AsyncSession, access: EventAccess, submission_id: uuid.UUID, *, until: datetime | None
) -> Submission:
    """Back to draft: the team can edit and submit again (until `until`, if given)."""
    submission = await get_for_organizer(session, access, submission_id)
    await session.execute(
        select(Submission.id).where(Submission.id == submission.id).with_for_update()
    )
    submission.status = SubmissionStatus.DRAFT
    submission.reopened_until = until
    submission.decided_at = None
    submission.decided_by = None
    submission.decision_reason = ""
    await session.flush()
    await record(
        session,
        access.actor,
        "submission.reopened",
        resource_type="submission",
        resource_id=submission.id,
        org_id=access.event.org_id,
        details={"until": until.isoformat() if until else None},
    )
    await session.refresh(submission)
    return submission


# --- duplicate flags -----------------------------------------------------------------------------


async def list_flags(
    session: AsyncSession,
    access: EventAccess,
    *,
    submission_id: uuid.UUID | None = None,
    status: str | None = None,
    limit: int,
    offset: int,
) -> list[DuplicateFlag]:
    query = select(DuplicateFlag).where(DuplicateFlag.event_id == access.event.id)
    if submission_id is not None:
        query = query.where(
            or_(
                DuplicateFlag.submission_id == submission_id,
                DuplicateFlag.other_submission_id == submission_id,
            )
        )
    if status:
        query = query.where(DuplicateFlag.status == status)
    rows = await session.scalars(
        query.order_by(DuplicateFlag.score.desc(), DuplicateFlag.id).limit(limit).offset(offset)
    )
    return list(rows)


async def decide_flag(
    session: AsyncSession, access: EventAccess, flag_id: uuid.UUID, *, status: str, note: str
) -> DuplicateFlag:
    flag = await session.scalar(
        select(DuplicateFlag)
        .where(DuplicateFlag.id == flag_id, DuplicateFlag.event_id == access.event.id)
        .with_for_update()
    )
    if flag is None:
        raise FlagNotFound
    user = access.actor.user
    flag.status = FlagStatus(status)
    flag.note = note.strip()
    flag.decided_at = None if status == FlagStatus.OPEN else func.app_now()
    flag.decided_by = user.id if user and status != FlagStatus.OPEN else None
    await session.flush()
    await session.refresh(flag)
    await record(
        session,
        access.actor,
        "duplicate_flag.decided",
        resource_type="duplicate_flag",
        resource_id=flag.id,
        org_id=access.event.org_id,
        details={"status": status},
    )
    return flag


# --- gallery -------------------------------------------------------------------------------------


async def set_gallery(session: AsyncSession, access: EventAccess, *, open_: bool) -> None:
    event = access.event
    event.gallery_opened_at = func.app_now() if open_ else None
    await session.flush()
    await session.refresh(event)
    await record(
        session,
        access.actor,
        "event.gallery_opened" if open_ else "event.gallery_closed",
        resource_type="event",
        resource_id=event.id,
        org_id=event.org_id,
    )


def gallery_visible(access: EventAccess) -> bool:
    return access.is_organizer or gallery_public(access.event)


def gallery_public(event: Event) -> bool:
    """Whether anyone may see the event's gallery: what `gallery_entries` holds (the same
    condition as migration 0034's `gallery_sync`)."""
    return (
        event.gallery_opened_at is not None
        and event.published_at is not None
        and event.visibility != Visibility.PRIVATE
    )


def _approved(access: EventAccess) -> Any:
    return and_(
        Submission.event_id == access.event.id,
        Submission.status == SubmissionStatus.APPROVED,
    )


@dataclass(frozen=True)
class GalleryItem:
    """A project as the gallery lists it."""

    id: uuid.UUID
    title: str
    tagline: str
    technologies: list[str]
    track_ids: list[uuid.UUID]
    submitted_at: datetime | None


async def gallery(
    session: AsyncSession,
    access: EventAccess,
    *,
    q: str | None,
    track_id: uuid.UUID | None,
    technology: str | None,
    sort: str,
    limit: int,
    offset: int,
) -> list[tuple[GalleryItem, str]]:
    """A page of the gallery. A public gallery is read from `gallery_entries` (public rows only,
    so its GIN indexes serve `@@` and `@>` under RLS — see models/gallery.py); an organizer's
    preview of a gallery not yet public reads the tenant's own submissions."""
    if not gallery_visible(access):
        raise GalleryClosed
    source: Any = GalleryEntry if gallery_public(access.event) else Submission
    key = GalleryEntry.submission_id if source is GalleryEntry else Submission.id
    team_name = GalleryEntry.team_name if source is GalleryEntry else Team.name
    query = select(
        key,
        source.title,
        source.tagline,
        source.technologies,
        source.track_ids,
        source.submitted_at,
        team_name,
    )
    if source is GalleryEntry:
        query = query.where(GalleryEntry.event_id == access.event.id)
    else:
        query = query.join(Team, Team.id == Submission.team_id).where(_approved(access))
    sorts: dict[str, tuple[Any, ...]] = {
        "submitted": (source.submitted_at.desc().nulls_last(), key),
        "-submitted": (source.submitted_at.asc().nulls_last(), key),
        "title": (func.lower(source.title), key),
    }
    order = sorts.get(sort, sorts["title"])
    if q:
        tsquery = func.websearch_to_tsquery("english", q)
        query = query.where(source.search.op("@@")(tsquery))
        if sort == "relevance":
            order = (func.ts_rank_cd(source.search, tsquery).desc(), key)
    if track_id is not None:
        query = query.where(source.track_ids.contains([track_id]))
    if technology:
        query = query.where(source.technologies.contains([technology.strip().lower()]))
    rows = await session.execute(query.order_by(*order).limit(limit).offset(offset))
    return [(GalleryItem(*row[:6]), row[6]) for row in rows]


async def gallery_project(
    session: AsyncSession, access: EventAccess, submission_id: uuid.UUID
) -> tuple[Submission, str, list[str], list[SubmissionFile]]:
    if not gallery_visible(access):
        raise GalleryClosed
    row = (
        await session.execute(
            select(Submission, Team.name)
            .join(Team, Team.id == Submission.team_id)
            .where(_approved(access), Submission.id == submission_id)
        )
    ).first()
    if row is None:
        raise SubmissionNotFound
    submission, team_name = row[0], row[1]
    members = list(
        await session.scalars(
            select(User.name)
            .join(TeamMember, TeamMember.user_id == User.id)
            .where(TeamMember.team_id == submission.team_id)
            .order_by(TeamMember.joined_at)
        )
    )
    files = list(
        await session.scalars(
            select(SubmissionFile)
            .where(
                SubmissionFile.submission_id == submission.id,
                SubmissionFile.deleted_at.is_(None),
                SubmissionFile.public.is_(True),
            )
            .order_by(SubmissionFile.created_at)
        )
    )
    return submission, team_name, members, files
