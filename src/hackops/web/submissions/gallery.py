"""The public gallery of an event's approved projects: search (full text), filter by track and
technology, sort, pages; a project's page with its links, public files and team.

Visible to everyone once an organizer opens it on a published, non-private event (organizers see
it before, as a preview); until then it is the 404 page (`submissions.review.gallery_visible`).
No sign-in is needed: the event itself is loaded by `PublicEventDep` as for its public page.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from hackops.db import SessionDep
from hackops.events.access import EventAccess
from hackops.events.tracks.service import list_tracks
from hackops.publiccache import content_scope, declare, org_scope
from hackops.results import frozen
from hackops.results import service as results
from hackops.submissions.files.kinds import human_size
from hackops.submissions.files.router import signed_link
from hackops.submissions.intake import attachments
from hackops.submissions.review import service as review
from hackops.web import eventkit, kit
from hackops.web.deps import PublicEventDep, page_router

router = page_router()


def _cacheable(request: Request, access: EventAccess, query: tuple[str, ...] = ()) -> None:
    """A visitor's gallery page is the same for every visitor: served from the public cache
    until the event's projects or settings change (`hackops.publiccache`)."""
    if access.actor.user is None:
        scopes = (content_scope(access.event.id), org_scope(access.event.org_id))
        declare(request, scopes, query=query)


GALLERY = kit.EVENT_BASE + "/gallery"
PAGE_SIZE = 24
SORT_OPTIONS = [
    ("title", "Title"),
    ("submitted", "Newest first"),
    ("-submitted", "Oldest first"),
    ("relevance", "Best match (with a search)"),
]


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@router.get(GALLERY, name="gallery")
async def gallery_page(request: Request, session: SessionDep, access: PublicEventDep) -> Response:
    params = request.query_params
    q = params.get("q", "")[:200].strip()
    track = params.get("track", "")
    track_id = _uuid(track)
    technology = params.get("technology", "")[:64].strip()
    sort = params.get("sort", "title")
    if sort not in {v for v, _ in SORT_OPTIONS}:
        sort = "title"
    raw_offset = params.get("offset", "0")
    offset = min(int(raw_offset), 100_000) if raw_offset.isdigit() else 0
    rows = await review.gallery(
        session,
        access,
        q=q or None,
        track_id=track_id,
        technology=technology or None,
        sort=sort,
        limit=PAGE_SIZE + 1,
        offset=offset,
    )
    tracks = await list_tracks(session, access.event)
    active = {
        "q": q,
        "track": str(track_id) if track_id else "",
        "technology": technology,
        "sort": "" if sort == "title" else sort,
    }
    active = {k: v for k, v in active.items() if v}

    def page(start: int) -> str:
        return "?" + urlencode({**active, **({"offset": start} if start else {})})

    base = eventkit.event_url(access) + "/gallery"
    context = {
        "access": access,
        "org": access.org,
        "event": access.event,
        "base": base,
        "event_url": base.removesuffix("/gallery"),
        "rows": rows[:PAGE_SIZE],
        "filters": {"q": q, "track": active.get("track", ""), "technology": technology},
        "sort": sort,
        "sort_options": SORT_OPTIONS,
        "tracks": tracks,
        "track_names": {t.id: t.name for t in tracks},
        "closed_preview": access.event.gallery_opened_at is None,
        "newer_url": page(max(offset - PAGE_SIZE, 0)) if offset else None,
        "older_url": page(offset + PAGE_SIZE) if len(rows) > PAGE_SIZE else None,
    }
    _cacheable(request, access, ("q", "track", "technology", "sort", "offset"))
    return kit.render(request, "submissions/gallery.html", context)


@router.get(GALLERY + "/{submission_id}", name="gallery_project")
async def project_page(
    submission_id: uuid.UUID, request: Request, session: SessionDep, access: PublicEventDep
) -> Response:
    submission, team_name, members, files = await review.gallery_project(
        session, access, submission_id
    )
    tracks = await list_tracks(session, access.event)
    base = eventkit.event_url(access) + "/gallery"
    # Awards and podium places once results are published (None before: nothing is shown).
    standing = await results.submission_standing(session, access.event, submission.id)
    context = {
        "access": access,
        "org": access.org,
        "event": access.event,
        "base": base,
        "shown": {"standing": standing, "results_url": base.removesuffix("/gallery") + "/results"},
        "placements": frozen.podium(standing["placements"]) if standing else [],
        "submission": submission,
        "team_name": team_name,
        "members": members,
        "files": files,
        "track_names": {t.id: t.name for t in tracks},
        "size": human_size,
        "closed_preview": access.event.gallery_opened_at is None,
        "when": eventkit.clock(access.event.timezone),
    }
    _cacheable(request, access)
    return kit.render(request, "submissions/gallery_project.html", context)


@router.get(GALLERY + "/{submission_id}/files/{file_id}")
async def public_file(
    submission_id: uuid.UUID,
    file_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    access: PublicEventDep,
) -> Response:
    """A public file of a project in the gallery: a fresh signed link, followed at once."""
    _, _, _, files = await review.gallery_project(session, access, submission_id)
    file = next((f for f in files if f.id == file_id), None)
    if file is None:
        raise attachments.FileNotFound
    return kit.redirect(signed_link(request, file).url)
