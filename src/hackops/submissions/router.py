"""Submissions API: the team's working copy, submit and versions, pipeline status; the
organizers' review queue, decisions, reopening, pipeline re-runs, duplicate flags; the public
gallery. The team's files and signed downloads: `files_router`, included into `router` here."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Response, status

from hackops.db import FinalWriteSessionDep, SessionDep
from hackops.errors import ValidationFailed, error_responses
from hackops.events.access import EventAccess
from hackops.events.deps import EventDep, EventOrganizerDep
from hackops.models import PipelineStepName, Submission
from hackops.routing import Router
from hackops.submissions import hooks
from hackops.submissions.files import router as files_router
from hackops.submissions.intake import service, visibility
from hackops.submissions.intake.visibility import Seen
from hackops.submissions.pipeline.tasks import pipeline_status as pipeline_steps_of
from hackops.submissions.pipeline.tasks import rerun_step
from hackops.submissions.review import service as review
from hackops.submissions.schemas import (
    BulkDecisionIn,
    BulkDecisionOut,
    DecisionIn,
    FileOut,
    FlagDecisionIn,
    FlagOut,
    GalleryItemOut,
    GalleryPage,
    GalleryProjectOut,
    PipelineOut,
    ReopenIn,
    ReviewItemOut,
    ReviewPage,
    StandingOut,
    StepOut,
    SubmissionIn,
    SubmissionOut,
    VersionOut,
)
from hackops.teams.deps import TeamDep

router = Router(
    prefix="/organizations/{slug}/events/{event_slug}",
    tags=["submissions"],
)

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
MAX_PAGE = 200
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=100_000)]
BASE = "/teams/{team_id}/submission"


async def standing_out(
    session: SessionDep, access: EventAccess, submission: Submission
) -> StandingOut | None:
    """The submission's standing once results are published (`hooks.standing`, answered by the
    results domain: None before publishing, the publish gate)."""
    standing = await hooks.standing.send(
        session,
        access.actor,
        hooks.StandingAsked(event_id=access.event.id, submission_id=submission.id),
    )
    return None if standing is None else StandingOut.model_validate(standing)


async def submission_out(
    session: SessionDep, submission: Submission, access: EventAccess
) -> SubmissionOut:
    """The submission with its files and, once results are published, its standing in them."""
    out = SubmissionOut.model_validate(submission)
    out.files = [FileOut.model_validate(f) for f in await service.list_files(session, submission)]
    out.standing = await standing_out(session, access, submission)
    return out


async def seen_out(session: SessionDep, seen: Seen, access: EventAccess) -> SubmissionOut:
    """What the caller sees: the working copy, or (a judge) the latest submitted version."""
    if seen.version is None:
        return await submission_out(session, seen.submission, access)
    out = SubmissionOut.model_validate(seen.content)
    out.files = [FileOut.model_validate(f) for f in await visibility.seen_files(session, seen)]
    out.standing = await standing_out(session, access, seen.submission)
    return out


@router.get(
    BASE,
    response_model=SubmissionOut,
    summary="The team's submission (members and organizers: the working copy; a judge it is "
    "assigned to: its latest submitted version)",
    responses=READ_ERRORS,
)
async def get_submission(session: SessionDep, view: TeamDep) -> SubmissionOut:
    seen = await visibility.open_submission(session, view)
    return await seen_out(session, seen, view.access)


@router.patch(
    BASE,
    response_model=SubmissionOut,
    summary="Edit the working copy (any member; created as a draft on first edit)",
    responses=WRITE_ERRORS,
)
async def edit_submission(body: SubmissionIn, session: SessionDep, view: TeamDep) -> SubmissionOut:
    submission = await service.update(session, view, body)
    return await submission_out(session, submission, view.access)


@router.post(
    BASE + "/submit",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionOut,
    summary="Submit: freeze the working copy as a new numbered version and process it",
    responses=WRITE_ERRORS,
)
async def submit(session: FinalWriteSessionDep, view: TeamDep) -> VersionOut:
    # The write is the route's last statement: it commits with it (`db.final_write_session`),
    # which releases the submission's row lock at once (the deadline's minute).
    version = await service.submit(session, view)
    out = VersionOut.model_validate(version)
    out.latest = True
    return out


@router.get(
    BASE + "/versions",
    response_model=list[VersionOut],
    summary="Every submitted version, newest first (a judge: the latest only)",
    responses=READ_ERRORS,
)
async def list_versions(session: SessionDep, view: TeamDep) -> list[VersionOut]:
    seen = await visibility.open_submission(session, view)
    submission = seen.submission
    rows = await visibility.seen_versions(session, seen)
    out = [VersionOut.model_validate(v) for v in rows]
    for item in out:
        item.latest = item.id == submission.latest_version_id
    return out


@router.get(
    BASE + "/pipeline",
    response_model=PipelineOut,
    summary="Processing of the latest version: each step's state",
    responses=READ_ERRORS,
)
async def pipeline_status(session: SessionDep, view: TeamDep) -> PipelineOut:
    submission = await visibility.get(session, view)
    steps = await pipeline_steps_of(session, submission.id)
    return PipelineOut(
        version_id=submission.latest_version_id,
        version_number=submission.version_count or None,
        steps=[StepOut.model_validate(s) for s in steps],
    )


# Files (upload, removal, visibility, download links) live in `files_router`; included here, in
# their place among the team's routes, so they share this prefix and tag.
router.include_router(files_router.router)
# main.py registers the signed-download router under this name.
downloads = files_router.downloads


# --- organizers ----------------------------------------------------------------------------------


@router.get(
    "/submissions",
    response_model=ReviewPage,
    summary="Review queue: submitted work with flag and pipeline counts (organizers)",
    responses=READ_ERRORS,
)
async def review_queue(
    session: SessionDep,
    access: EventOrganizerDep,
    status_: Annotated[
        str | None,
        Query(
            alias="status",
            pattern="^(submitted|under_review|approved|rejected|disqualified)$",
        ),
    ] = None,
    track_id: uuid.UUID | None = None,
    flagged: bool | None = None,
    pipeline_failed: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str, Query(pattern="^(submitted|-submitted|title)$")] = "submitted",
    limit: Limit = 50,
    offset: Offset = 0,
) -> ReviewPage:
    rows = await review.review_queue(
        session,
        access,
        status=status_,
        track_id=track_id,
        flagged=flagged,
        pipeline_failed=pipeline_failed,
        q=q,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    items = [
        ReviewItemOut(
            id=r.submission.id,
            team_id=r.submission.team_id,
            team_name=r.team_name,
            status=r.submission.status,
            title=r.submission.title,
            track_ids=r.submission.track_ids,
            technologies=r.submission.technologies,
            version_count=r.submission.version_count,
            submitted_at=r.submission.submitted_at,
            late=r.submission.late,
            open_flags=r.open_flags,
            failed_steps=r.failed_steps,
        )
        for r in rows
    ]
    return ReviewPage(items=items, limit=limit, offset=offset)


@router.get(
    "/submissions/{submission_id}",
    response_model=SubmissionOut,
    summary="One submission (organizers)",
    responses=READ_ERRORS,
)
async def organizer_view(
    submission_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> SubmissionOut:
    submission = await review.get_for_organizer(session, access, submission_id)
    return await submission_out(session, submission, access)


@router.post(
    "/submissions/{submission_id}/decision",
    response_model=SubmissionOut,
    summary="Review, approve, reject or disqualify (a reason is shown to the team)",
    responses=WRITE_ERRORS,
)
async def decide(
    submission_id: uuid.UUID, body: DecisionIn, session: SessionDep, access: EventOrganizerDep
) -> SubmissionOut:
    await review.decide(session, access, [submission_id], status=body.status, reason=body.reason)
    submission = await review.get_for_organizer(session, access, submission_id)
    return await submission_out(session, submission, access)


@router.post(
    "/submissions/decisions",
    response_model=BulkDecisionOut,
    summary="Decide many submissions at once (all or nothing)",
    responses=WRITE_ERRORS,
)
async def decide_many(
    body: BulkDecisionIn, session: SessionDep, access: EventOrganizerDep
) -> BulkDecisionOut:
    updated = await review.decide(
        session, access, body.submission_ids, status=body.status, reason=body.reason
    )
    return BulkDecisionOut(updated=updated)


@router.post(
    "/submissions/{submission_id}/reopen",
    response_model=SubmissionOut,
    summary="Reopen: back to draft, optionally with a later deadline for this team",
    responses=WRITE_ERRORS,
)
async def reopen(
    submission_id: uuid.UUID, body: ReopenIn, session: SessionDep, access: EventOrganizerDep
) -> SubmissionOut:
    if body.until is not None and body.until.tzinfo is None:
        raise ValidationFailed("`until` needs a time zone offset.")
    submission = await review.reopen(session, access, submission_id, until=body.until)
    return await submission_out(session, submission, access)


@router.post(
    "/submissions/{submission_id}/pipeline/{step}/rerun",
    response_model=StepOut,
    summary="Run a processing step (and the ones after it) again for the latest version",
    responses=WRITE_ERRORS,
)
async def rerun(
    submission_id: uuid.UUID,
    step: PipelineStepName,
    session: SessionDep,
    access: EventOrganizerDep,
) -> StepOut:
    submission = await review.get_for_organizer(session, access, submission_id)
    if submission.latest_version_id is None:
        raise review.NotSubmitted
    return StepOut.model_validate(await rerun_step(session, access.actor, submission, step))


@router.get(
    "/duplicate-flags",
    response_model=list[FlagOut],
    summary="Near-duplicate and identical-file flags (organizers)",
    responses=READ_ERRORS,
)
async def list_flags(
    session: SessionDep,
    access: EventOrganizerDep,
    submission_id: uuid.UUID | None = None,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(open|dismissed|confirmed)$")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[FlagOut]:
    rows = await review.list_flags(
        session, access, submission_id=submission_id, status=status_, limit=limit, offset=offset
    )
    return [FlagOut.model_validate(f) for f in rows]


@router.post(
    "/duplicate-flags/{flag_id}/decision",
    response_model=FlagOut,
    summary="Dismiss or confirm a flag (or open it again)",
    responses=WRITE_ERRORS,
)
async def decide_flag(
    flag_id: uuid.UUID, body: FlagDecisionIn, session: SessionDep, access: EventOrganizerDep
) -> FlagOut:
    flag = await review.decide_flag(session, access, flag_id, status=body.status, note=body.note)
    return FlagOut.model_validate(flag)


@router.post(
    "/gallery/open",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Open the public gallery of approved projects",
    responses=WRITE_ERRORS,
)
async def open_gallery(session: SessionDep, access: EventOrganizerDep) -> Response:
    await review.set_gallery(session, access, open_=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/gallery/close",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Hide the gallery again",
    responses=WRITE_ERRORS,
)
async def close_gallery(session: SessionDep, access: EventOrganizerDep) -> Response:
    await review.set_gallery(session, access, open_=False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/gallery",
    response_model=GalleryPage,
    summary="Approved projects (public once the organizer opens the gallery)",
    responses=READ_ERRORS,
)
async def gallery(
    session: SessionDep,
    access: EventDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    track_id: uuid.UUID | None = None,
    technology: Annotated[str | None, Query(max_length=64)] = None,
    sort: Annotated[str, Query(pattern="^(title|submitted|-submitted|relevance)$")] = "title",
    limit: Limit = 50,
    offset: Offset = 0,
) -> GalleryPage:
    rows = await review.gallery(
        session,
        access,
        q=q,
        track_id=track_id,
        technology=technology,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    items = [
        GalleryItemOut(
            id=s.id,
            title=s.title,
            tagline=s.tagline,
            team_name=team_name,
            technologies=s.technologies,
            track_ids=s.track_ids,
            submitted_at=s.submitted_at,
        )
        for s, team_name in rows
    ]
    return GalleryPage(items=items, limit=limit, offset=offset)


@router.get(
    "/gallery/{submission_id}",
    response_model=GalleryProjectOut,
    summary="A project in the gallery",
    responses=READ_ERRORS,
)
async def gallery_project(
    submission_id: uuid.UUID, session: SessionDep, access: EventDep
) -> GalleryProjectOut:
    submission, team_name, members, files = await review.gallery_project(
        session, access, submission_id
    )
    data: dict[str, Any] = {
        name: getattr(submission, name)
        for name in (
            "id",
            "title",
            "tagline",
            "description_html",
            "repository_url",
            "demo_url",
            "video_url",
            "technologies",
            "track_ids",
            "submitted_at",
        )
    }
    return GalleryProjectOut(
        **data,
        team_name=team_name,
        members=members,
        files=[FileOut.model_validate(f) for f in files],
    )
