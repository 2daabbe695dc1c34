"""The team's submission page: the working copy (text, links, technologies, tracks), files
(multipart upload, remove, signed downloads), submit, the versions, the organizer's decision,
and the processing of the latest version with the links that could not be checked.

Loading and authorizing are the `SubmissionTeamDep` dependency (`TeamPageDep`: the API's
`load_event_access` + `teams.access.load_team`, then `intake.visibility.open_submission`): the
team's members edit; the event's organizers see it read-only; a judge it is handed to sees
its latest submitted version only; anyone else gets the 404 page. Every action calls the same
service function as the API, in a savepoint; a refused form comes back with its message and
input.

"Live" processing status without script: while a step of the latest version is queued, running
or retrying, the page is served with a `Refresh: 3` header, so the browser reloads it every
3 seconds until the pipeline settles. A page upload is a multipart form: Starlette has parsed
the part to its own temporary file before we see it, so the event's size limit is enforced on
what we keep (`spool_upload_file`), while the raw-body API endpoint stops a large transfer early.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from hackops.accounts.deps import reauthenticate
from hackops.actor import Actor
from hackops.browser import flash
from hackops.db import SessionDep, release
from hackops.errors import AppError
from hackops.events.access import load_event_access
from hackops.events.lifecycle import submissions_deadline
from hackops.events.tracks.service import list_tracks
from hackops.models import (
    Submission,
    SubmissionFile,
    SubmissionStatus,
)
from hackops.results import service as results
from hackops.submissions.files.downloads import safe_display_name
from hackops.submissions.files.kinds import FileKind, FileRejected, human_size
from hackops.submissions.files.router import discard_object, signed_link
from hackops.submissions.files.service import (
    inspect_file_async,
    put_file,
    spool_upload_file,
    storage_key,
)
from hackops.submissions.intake import attachments, service
from hackops.submissions.intake.visibility import open_submission, seen_files, seen_versions
from hackops.submissions.schemas import SubmissionIn
from hackops.teams.access import TeamView, load_team
from hackops.web import eventkit, kit
from hackops.web.deps import TeamPageDep, page_router
from hackops.web.submissions import processing

router = page_router()

PAGE = kit.EVENT_BASE + "/teams/{team_id}/submission"
REFRESH_SECONDS = 3
FORM_FIELDS = (
    "title",
    "tagline",
    "description",
    "repository_url",
    "demo_url",
    "video_url",
    "technologies",
)
# --- the page's parts ------------------------------------------------------------------------


def deadline_of(view: TeamView, submission: Submission | None) -> datetime | None:
    event = view.access.event
    if submission is not None:
        return service.deadline_for(event, submission).at
    return submissions_deadline(event) if event.submissions_close_at is not None else None


def accept_attribute(event_types: Iterable[str]) -> str:
    kinds = [k for k in FileKind if k.value in set(event_types)] or list(FileKind)
    return ",".join(ext for kind in kinds for ext in kind.extensions)


@dataclass
class Refusal:
    """Where a refused action's message goes when the page is rendered again."""

    form: kit.Form | None = None
    checked: frozenset[str] | None = None
    upload_error: str | None = None


def values_of(submission: Submission | None) -> dict[str, str]:
    if submission is None:
        return {}
    return {
        "title": submission.title,
        "tagline": submission.tagline,
        "description": submission.description,
        "repository_url": submission.repository_url or "",
        "demo_url": submission.demo_url or "",
        "video_url": submission.video_url or "",
        "technologies": ", ".join(submission.technologies),
    }


# --- the page ----------------------------------------------------------------------------------


async def load(
    session: AsyncSession, actor: Actor, slug: str, event_slug: str, team_id: uuid.UUID
) -> TeamView:
    """The team, for whoever may see its submission (members, organizers, a judge it is
    handed to); else 404."""
    access = await load_event_access(session, actor, slug, event_slug)
    return await _seen(session, await load_team(session, access, team_id))


async def _seen(session: AsyncSession, view: TeamView) -> TeamView:
    if not _sees_working_copy(view):
        await open_submission(session, view)  # raises 404 unless a judge reaches it
    return view


async def submission_team(session: SessionDep, view: TeamPageDep) -> TeamView:
    return await _seen(session, view)


#: The team, for whoever may see its submission (signed in; else the log-in page).
SubmissionTeamDep = Annotated[TeamView, Depends(submission_team)]


def _sees_working_copy(view: TeamView) -> bool:
    return view.is_member or view.access.is_organizer


async def _page(
    request: Request,
    session: AsyncSession,
    view: TeamView,
    refusal: Refusal | None = None,
    *,
    status_code: int = 200,
) -> Response:
    refusal = refusal or Refusal()
    event = view.access.event
    tracks = await list_tracks(session, event)
    shown_copy: Any
    if _sees_working_copy(view):
        submission = shown_copy = await service.find(session, view)
        files = await service.list_files(session, submission) if submission else []
        versions = await service.versions(session, submission) if submission else []
    else:  # a judge: the latest submitted version, nothing of the working copy
        seen = await open_submission(session, view)
        submission, shown_copy = seen.submission, seen.content
        files = await seen_files(session, seen)
        versions = await seen_versions(session, seen)
    steps = await processing.pipeline_steps(session, submission)
    busy = processing.processing(steps)
    checked = refusal.checked
    if checked is None:
        checked = frozenset(str(t) for t in submission.track_ids) if submission else frozenset()
    editable = view.is_member and (submission is None or submission.status in service.EDITABLE)
    policy = attachments.policy_for(event)
    shown = await results.team_results(session, view)  # None until results are published
    context = {
        "shown": shown,
        "placements": shown["standing"]["placements"] if shown and shown["standing"] else [],
        "view": view,
        "access": view.access,
        "event": event,
        "team": view.team,
        "submission": shown_copy,
        "judged": not _sees_working_copy(view),
        "here": processing.page_url(view),
        "team_url": processing.page_url(view).removesuffix("/submission"),
        "form": refusal.form or kit.Form(values=values_of(submission)),
        "checked": checked,
        "upload_error": refusal.upload_error,
        "tracks": tracks,
        "track_names": {t.id: t.name for t in tracks},
        "files": files,
        "versions": versions,
        "names": await processing.user_names(session, (v.submitted_by for v in versions)),
        "steps": steps,
        "processing": busy,
        "refresh_seconds": REFRESH_SECONDS,
        "failed_links": await processing.failed_links(session, submission),
        "editable": editable,
        "locked": None
        if editable or submission is None
        else service.locked_message(SubmissionStatus(submission.status)),
        "is_member": view.is_member,
        "deadline": deadline_of(view, submission),
        "status_labels": processing.STATUS_LABELS,
        "state_labels": processing.STEP_STATE_LABELS,
        "step_label": processing.step_label,
        "size": human_size,
        "max_size": human_size(policy.max_bytes),
        "max_files": policy.max_files,
        "allowed_types": policy.allowed_labels(),
        "accept": accept_attribute(event.file_types),
        "when": eventkit.clock(event.timezone),
    }
    headers = {"Refresh": str(REFRESH_SECONDS)} if busy else None
    return kit.render(
        request, "submissions/team.html", context, status_code=status_code, headers=headers
    )


@router.get(PAGE, name="team_submission")
async def submission_page(
    request: Request,
    session: SessionDep,
    view: SubmissionTeamDep,
) -> Response:
    return await _page(request, session, view)


@router.post(PAGE + "/save")
async def save(
    request: Request,
    session: SessionDep,
    view: SubmissionTeamDep,
) -> Response:
    data = await kit.form_data(request)
    track_ids = [t for t in (await request.form()).getlist("track_ids") if isinstance(t, str)]
    form = kit.Form(values=kit.kept(data, *FORM_FIELDS))
    refusal = Refusal(form=form, checked=frozenset(track_ids))
    raw: dict[str, Any] = {name: data.get(name, "") for name in FORM_FIELDS}
    for name in ("title", "tagline"):
        raw[name] = raw[name].strip()
    for name in ("repository_url", "demo_url", "video_url"):
        raw[name] = raw[name].strip() or None
    raw["technologies"] = processing.technologies_of(raw["technologies"])
    raw["track_ids"] = track_ids
    return await kit.form_action(
        request,
        session,
        form,
        model=SubmissionIn,
        data=raw,
        call=lambda body: service.update(session, view, body),
        page=lambda _, status: _page(request, session, view, refusal, status_code=status),
        done="Saved.",
        then=processing.page_url(view),
        fields={service.UnknownTrack: "track_ids"},
    )


@router.post(PAGE + "/files")
async def upload(request: Request, session: SessionDep, view: SubmissionTeamDep) -> Response:
    """Spool, inspect (type from the bytes, structure), store, then record on the submission.
    The form was parsed by the CSRF check before any connection was taken; checking, storing
    and recording are separated like the API's (`files_router.upload_file`): no transaction is
    open while the file is inspected and stored."""
    part = (await request.form()).get("file")
    if not isinstance(part, UploadFile) or not part.filename:
        refusal = Refusal(upload_error="Choose a file to upload.")
        return await _page(request, session, view, refusal, status_code=422)
    try:
        async with kit.all_or_nothing(session):
            policy = await attachments.prepare_upload(session, view)
    except AppError as exc:
        refusal = Refusal(upload_error=exc.message)
        return await _page(request, session, view, refusal, status_code=exc.status_code)
    where = (view.access.org.slug, view.access.event.slug, view.team.id)
    await release(session)
    name = safe_display_name(part.filename)
    event = view.access.event
    store = request.app.state.store

    async def again() -> TeamView:
        return await load(session, await reauthenticate(request, session), *where)

    try:
        with await spool_upload_file(part, max_bytes=policy.max_bytes) as spooled:
            inspection = await inspect_file_async(spooled, declared_name=name, policy=policy)
            key = storage_key(event.org_id, event.id, view.team.id)
            await put_file(store, key, spooled.file, content_type=inspection.content_type)
    except FileRejected as exc:
        status = 413 if exc.code == "file_too_large" else 422
        refusal = Refusal(upload_error=exc.message)
        return await _page(request, session, await again(), refusal, status_code=status)
    try:
        view = await again()
        try:
            async with kit.all_or_nothing(session):
                await attachments.attach_file(
                    session,
                    view,
                    storage_key=key,
                    name=name,
                    **inspection.recorded(),
                )
            await release(session)  # a failed commit must not leave the object behind either
        except BaseException:
            await discard_object(store, key)
            raise
    except AppError as exc:  # refused under the lock: no row points at the object
        refusal = Refusal(upload_error=exc.message)
        return await _page(request, session, await again(), refusal, status_code=exc.status_code)
    flash(request, f"Uploaded “{name}”.", "success")
    return kit.redirect(processing.page_url(view))


@router.post(PAGE + "/files/{file_id}/remove")
async def remove(
    request: Request,
    file_id: uuid.UUID,
    session: SessionDep,
    view: SubmissionTeamDep,
) -> Response:

    async def remove_file() -> str:
        await attachments.remove_file(session, view, file_id)
        return "The file is removed."

    return await kit.act(request, session, processing.page_url(view), remove_file, kit.said)


@router.post(PAGE + "/files/{file_id}/visibility")
async def visibility(
    request: Request,
    file_id: uuid.UUID,
    session: SessionDep,
    view: SubmissionTeamDep,
) -> Response:
    """Show a file in the public gallery, or hide it again."""
    public = (await kit.form_data(request)).get("public") == "on"

    async def change() -> str:
        file = await attachments.set_file_public(session, view, file_id, public=public)
        return f"{file.name} is {'shown in' if public else 'hidden from'} the gallery."

    return await kit.act(request, session, processing.page_url(view), change, kit.said)


@router.post(PAGE + "/submit")
async def submit(
    request: Request,
    session: SessionDep,
    view: SubmissionTeamDep,
) -> Response:

    async def submit_version() -> str:
        version = await service.submit(session, view)
        late = " (late)" if version.late else ""
        return f"Version {version.number} is submitted{late}; processing has started."

    return await kit.act(request, session, processing.page_url(view), submit_version, kit.said)


@router.get(PAGE + "/files/{file_id}")
async def download(
    request: Request,
    file_id: uuid.UUID,
    session: SessionDep,
    view: SubmissionTeamDep,
) -> Response:
    """A fresh signed link (valid 15 minutes, audited as the API's), followed at once."""
    file: SubmissionFile = await attachments.get_file(session, view, file_id)
    await attachments.record_link_issued(session, view.access.actor, file)
    return kit.redirect(signed_link(request, file).url)
