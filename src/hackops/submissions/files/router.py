"""Submission files API: the team's streamed upload, removal and gallery visibility of a file,
and signed download links (issued here, redeemed by `downloads` at `/files/{token}`).

`router` carries no prefix and no tags: `submissions.router` includes it, so its routes sit under
that router's event prefix with its `submissions` tag, and main.py (which registers
`submissions.router.router` and `.downloads`) needs no change."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from obstore.exceptions import NotFoundError

from hackops.accounts.deps import reauthenticate
from hackops.db import SessionDep, release
from hackops.errors import AppError, PayloadTooLarge, error_responses
from hackops.events.deps import load_event_access
from hackops.models import SubmissionFile
from hackops.routing import Router
from hackops.submissions.files.downloads import (
    DEFAULT_LINK_SECONDS,
    content_disposition,
    safe_display_name,
    sign_download,
    verify_download,
)
from hackops.submissions.files.kinds import FilePolicy, FileRejected
from hackops.submissions.files.service import delete_file as delete_object
from hackops.submissions.files.service import (
    inspect_file_async,
    put_file,
    spool_upload,
    storage_key,
    stream_file,
)
from hackops.submissions.intake import service
from hackops.submissions.schemas import DownloadLinkOut, FileOut, FileVisibilityIn
from hackops.teams.access import TeamView, load_team
from hackops.teams.deps import TeamDep

router = Router()
downloads = Router(tags=["submissions"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
UPLOAD_ERRORS = error_responses(401, 403, 404, 409, 413, 415, 422)
FILES = "/teams/{team_id}/submission/files"


class FileRefused(AppError):
    """A file the event does not accept (type, structure, name); the code says which check."""

    status_code = 422
    code = "file_refused"


def refused(exc: FileRejected) -> AppError:
    if exc.code == "file_too_large":
        return PayloadTooLarge(exc.message, code=exc.code)
    return FileRefused(exc.message, code=exc.code)


@dataclass(frozen=True)
class UploadGrant:
    """Who uploads to which team, and the event's limits, as checked before the body."""

    view: TeamView
    policy: FilePolicy


async def upload_grant(session: SessionDep, view: TeamDep) -> UploadGrant:
    """Load and authorize, refuse early what will be refused anyway, then end that short
    transaction: no pooled connection is held while the body streams in (a slow client would
    otherwise keep one "idle in transaction" for minutes)."""
    policy = await service.prepare_upload(session, view)
    await release(session)
    return UploadGrant(view, policy)


@router.post(
    FILES,
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
    grant: Annotated[UploadGrant, Depends(upload_grant)],
    name: Annotated[str, Query(min_length=1, max_length=5000)],
) -> FileOut:
    """Streamed to a spool file (RAM for the first MiB, then disk) while counting and hashing;
    refused as soon as more bytes arrive than the event allows, whatever Content-Length said.
    Receiving, inspecting and storing run with no database connection; then one short
    transaction authorizes again and records the file under the submission lock."""
    view, policy = grant.view, grant.policy
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > policy.max_bytes:
        raise refused(FileRejected("file_too_large", _too_large(policy.max_bytes)))
    display = safe_display_name(name)
    store = request.app.state.store
    try:
        with await spool_upload(_body(request), max_bytes=policy.max_bytes) as spooled:
            inspection = await inspect_file_async(spooled, declared_name=display, policy=policy)
            event = view.access.event
            key = storage_key(event.org_id, event.id, view.team.id)
            await put_file(store, key, spooled.file, content_type=inspection.content_type)
    except FileRejected as exc:
        raise refused(exc) from exc
    try:
        actor = await reauthenticate(request, session)
        access = await load_event_access(session, actor, view.access.org.slug, event.slug)
        current = await load_team(session, access, view.team.id)
        file = await service.attach_file(
            session,
            current,
            storage_key=key,
            name=display,
            **inspection.recorded(),
        )
        out = FileOut.model_validate(file)
        # Committed here, not after the route: whatever fails (refused under the lock, the
        # token revoked meanwhile, the commit itself), no row points at the stored object.
        await release(session)
    except BaseException:
        await discard_object(store, key)
        raise
    return out


async def discard_object(store: Any, key: str) -> None:
    """Best effort: a store that fails now leaves an orphan object, never a half-written row."""
    with contextlib.suppress(Exception):
        await delete_object(store, key)


def _too_large(max_bytes: int) -> str:
    return f"The file is larger than this event's limit of {max_bytes} bytes."


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        yield chunk


@router.delete(
    FILES + "/{file_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a file from the working copy",
    responses=WRITE_ERRORS,
)
async def delete_file(file_id: uuid.UUID, session: SessionDep, view: TeamDep) -> Response:
    await service.remove_file(session, view, file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch(
    FILES + "/{file_id}",
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
    FILES + "/{file_id}/link",
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
