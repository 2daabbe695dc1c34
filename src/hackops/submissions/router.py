"""Submissions API: the team's working copy, files (streamed upload, signed downloads), submit
and versions, pipeline status; the organizers' review queue, decisions, reopening, pipeline
re-runs, duplicate flags; the public gallery."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from obstore.exceptions import NotFoundError

from hackops.db import SessionDep, TransactionalRoute
from hackops.errors import AppError, PayloadTooLarge, ValidationFailed, error_responses
from hackops.events.deps import EventDep, EventOrganizerDep
from hackops.models import Event, PipelineStepName, Submission, SubmissionFile
from hackops.results.schemas import StandingOut
from hackops.results.service import submission_standing
from hackops.submissions import review, service
from hackops.submissions.downloads import (
    DEFAULT_LINK_SECONDS,
    content_disposition,
    safe_display_name,
    sign_download,
    verify_download,
)
from hackops.submissions.filekinds import FileRejected
from hackops.submissions.files import delete_file as delete_object
from hackops.submissions.files import (
    inspect_file_async,
    put_file,
    spool_upload,
    storage_key,
    stream_file,
)
from hackops.submissions.schemas import (
    BulkDecisionIn,
    BulkDecisionOut,
    DecisionIn,
    DownloadLinkOut,
    FileOut,
    FileVisibilityIn,
    FlagDecisionIn,
    FlagOut,
    GalleryItemOut,
    GalleryPage,
    GalleryProjectOut,
    PipelineOut,
    ReopenIn,
    ReviewItemOut,
    ReviewPage,
    StepOut,
    SubmissionIn,
    SubmissionOut,
    VersionOut,
)
from hackops.teams.router import TeamDep

router = APIRouter(
    prefix="/organizations/{slug}/events/{event_slug}",
    tags=["submissions"],
    route_class=TransactionalRoute,
)
downloads = APIRouter(tags=["submissions"], route_class=TransactionalRoute)

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
UPLOAD_ERRORS = error_responses(401, 403, 404, 409, 413, 415, 422)
MAX_PAGE = 200
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=100_000)]
BASE = "/teams/{team_id}/submission"


class FileRefused(AppError):
    """A file the event does not accept (type, structure, name); the code says which check."""

    status_code = 422
    code = "file_refused"


def refused(exc: FileRejected) -> AppError:
    if exc.code == "file_too_large":
        return PayloadTooLarge(exc.message, code=exc.code)
    return FileRefused(exc.message, code=exc.code)


async def submission_out(
    session: SessionDep, submission: Submission, event: Event
) -> SubmissionOut:
    """The submission with its files and, once results are published, its standing in them
    (`results.service.submission_standing`: None before publishing, the publish gate)."""
    out = SubmissionOut.model_validate(submission)
    out.files = [FileOut.model_validate(f) for f in await service.list_files(session, submission)]
    standing = await submission_standing(session, event, submission.id)
    out.standing = None if standing is None else StandingOut.model_validate(standing)
    return out


@router.get(
    BASE,
    response_model=SubmissionOut,
    summary="The team's submission (members, organizers, judges)",
    responses=READ_ERRORS,
)
async def get_submission(session: SessionDep, view: TeamDep) -> SubmissionOut:
    return await submission_out(session, await service.get(session, view), view.access.event)


@router.patch(
    BASE,
    response_model=SubmissionOut,
    summary="Edit the working copy (any member; created as a draft on first edit)",
    responses=WRITE_ERRORS,
)
async def edit_submission(body: SubmissionIn, session: SessionDep, view: TeamDep) -> SubmissionOut:
    submission = await service.update(session, view, body)
    return await submission_out(session, submission, view.access.event)


@router.post(
    BASE + "/submit",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionOut,
    summary="Submit: freeze the working copy as a new numbered version and process it",
    responses=WRITE_ERRORS,
)
async def submit(session: SessionDep, view: TeamDep) -> VersionOut:
    version = await service.submit(session, view)
    out = VersionOut.model_validate(version)
    out.latest = True
    return out


@router.get(
    BASE + "/versions",
    response_model=list[VersionOut],
    summary="Every submitted version, newest first",
    responses=READ_ERRORS,
)
async def list_versions(session: SessionDep, view: TeamDep) -> list[VersionOut]:
    submission = await service.get(session, view)
    rows = await service.versions(session, submission)
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
    from hackops.submissions.pipeline import pipeline_status as steps_of

    submission = await service.get(session, view)
    steps = await steps_of(session, submission.id)
    return PipelineOut(
        version_id=submission.latest_version_id,
        version_number=submission.version_count or None,
        steps=[StepOut.model_validate(s) for s in steps],
    )


@router.post(
    BASE + "/files",
    status_code=status.HTTP_201_CREATED,
    response_model=FileOut,
    summary="Upload a file: the request body is the file; `name` gives its name",
    responses=UPLOAD_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def upload_file(
    request: Request,
    session: SessionDep,
    view: TeamDep,
    name: Annotated[str, Query(min_length=1, max_length=5000)],
) -> FileOut:
    """Streamed to a spool file (RAM for the first MiB, then disk) while counting and hashing;
    refused as soon as more bytes arrive than the event allows, whatever Content-Length said."""
    policy = await service.prepare_upload(session, view)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > policy.max_bytes:
        raise refused(FileRejected("file_too_large", _too_large(policy.max_bytes)))
    display = safe_display_name(name)
    try:
        with await spool_upload(_body(request), max_bytes=policy.max_bytes) as spooled:
            inspection = await inspect_file_async(spooled, declared_name=display, policy=policy)
            event = view.access.event
            key = storage_key(event.org_id, event.id, view.team.id)
            await put_file(
                request.app.state.store, key, spooled.file, content_type=inspection.content_type
            )
    except FileRejected as exc:
        raise refused(exc) from exc
    try:
        file = await service.attach_file(
            session,
            view,
            storage_key=key,
            name=display,
            kind=inspection.kind.value,
            content_type=inspection.content_type,
            size=inspection.size,
            sha256=inspection.sha256,
            details=dict(inspection.details),
        )
    except AppError:
        # Refused under the lock (the last slot went to a concurrent upload, or submissions
        # closed meanwhile): no row will ever point at the stored object.
        await delete_object(request.app.state.store, key)
        raise
    return FileOut.model_validate(file)


def _too_large(max_bytes: int) -> str:
    return f"The file is larger than this event's limit of {max_bytes} bytes."


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        yield chunk


@router.delete(
    BASE + "/files/{file_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a file from the working copy",
    responses=WRITE_ERRORS,
)
async def delete_file(file_id: uuid.UUID, session: SessionDep, view: TeamDep) -> Response:
    await service.remove_file(session, view, file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch(
    BASE + "/files/{file_id}",
    response_model=FileOut,
    summary="Show a file in the public gallery, or hide it (members)",
    responses=WRITE_ERRORS,
)
async def file_visibility(
    file_id: uuid.UUID, body: FileVisibilityIn, session: SessionDep, view: TeamDep
) -> FileOut:
    file = await service.set_file_public(session, view, file_id, public=body.public)
    return FileOut.model_validate(file)


@router.post(
    BASE + "/files/{file_id}/link",
    response_model=DownloadLinkOut,
    summary="A download link for a file, valid 15 minutes (team, organizers, judges)",
    responses=READ_ERRORS,
)
async def file_link(
    file_id: uuid.UUID, request: Request, session: SessionDep, view: TeamDep
) -> DownloadLinkOut:
    file = await service.get_file(session, view, file_id)
    await service.record_link_issued(session, view.access.actor, file)
    return signed_link(request, file)


def signed_link(request: Request, file: SubmissionFile) -> DownloadLinkOut:
    secret = request.app.state.settings.secret_key.get_secret_value()
    now = time.time()
    token = sign_download(secret, file.storage_key, filename=file.name, now=now)
    return DownloadLinkOut(
        url=f"/api/v1/files/{token}",
        expires_at=datetime.fromtimestamp(now, UTC) + timedelta(seconds=DEFAULT_LINK_SECONDS),
    )


@downloads.get(
    "/files/{token}",
    summary="Download a file with a signed link (attachment; expires)",
    responses={**error_responses(404, 410), 200: {"content": {"application/octet-stream": {}}}},
    response_class=StreamingResponse,
)
async def download(
    token: Annotated[str, Path(min_length=1, max_length=4000)], request: Request
) -> StreamingResponse:
    secret = request.app.state.settings.secret_key.get_secret_value()
    try:
        grant = verify_download(secret, token)
    except FileRejected as exc:
        if exc.code == "link_expired":
            raise LinkExpired(exc.message) from exc
        raise LinkInvalid(exc.message) from exc
    try:
        stream = await stream_file(request.app.state.store, grant.key)
    except (FileNotFoundError, NotFoundError) as exc:
        raise LinkInvalid from exc

    return StreamingResponse(
        stream,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(grant.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


class LinkExpired(AppError):
    status_code = 410
    code = "link_expired"
    message = "This download link has expired; open the file again for a new one."


class LinkInvalid(AppError):
    status_code = 404
    code = "link_invalid"
    message = "This download link is not valid."


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
    return await submission_out(session, submission, access.event)


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
    return await submission_out(session, submission, access.event)


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
    return await submission_out(session, submission, access.event)


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
    from hackops.submissions.pipeline import rerun_step

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
