"""Event admin pages, continued: an event's tracks (prize categories) and awards — list, add,
edit, remove — through `events.children`, checked with the API's input models. Same rules as
`event_admin_pages`: organizers only, the form comes back with the message and the input.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.accounts.deps import ActorDep, get_actor
from hackops.browser import csrf_protect, flash
from hackops.db import SessionDep
from hackops.errors import AppError
from hackops.events.deps import EventAccess
from hackops.events.schemas import AwardIn, AwardUpdate, TrackIn
from hackops.events.tracks import service as children
from hackops.models import Award, Track
from hackops.routing import Router, SlugPath
from hackops.web.event_admin_pages import (
    ADMIN,
    act,
    admin_base,
    admin_context,
    organizer_event,
    reload,
)
from hackops.web.forms import (
    Form,
    all_or_nothing,
    form_data,
    kept,
    redirect,
    refuse,
    render,
    to_login,
    validated,
)

router = Router(
    dependencies=[Depends(csrf_protect), Depends(get_actor)],
    include_in_schema=False,
)

CHILD_FIELDS = ("name", "description", "prize", "position", "track_id")
INT_HINTS = {"position": "A whole number from 0 to 10000."}
CHILD_ERRORS: dict[type[AppError] | str, str] = {
    children.TrackNameTaken: "name",
    children.TrackNotFound: "track_id",
}


def _child_input(model: type[BaseModel], data: dict[str, str]) -> dict[str, Any]:
    """Form text as the API's JSON: only the model's fields; no track is null."""
    values: dict[str, Any] = {
        name: data.get(name, "") for name in CHILD_FIELDS if name in model.model_fields
    }
    values["position"] = values.get("position", "").strip() or "0"
    if "track_id" in values:
        values["track_id"] = values["track_id"] or None
    return values


def _child_values(child: Track | Award) -> dict[str, str]:
    values = {
        "name": child.name,
        "description": child.description,
        "position": str(child.position),
    }
    if isinstance(child, Award):
        values.update(prize=child.prize, track_id=str(child.track_id or ""))
    return values


async def _tracks_page(
    request: Request,
    session: AsyncSession,
    access: EventAccess,
    *,
    track_form: Form | None = None,
    award_form: Form | None = None,
    status_code: int = 200,
) -> Response:
    tracks = await children.list_tracks(session, access.event)
    context = await admin_context(
        session,
        access,
        "tracks",
        tracks=tracks,
        awards=await children.list_awards(session, access.event),
        track_names={t.id: t.name for t in tracks},
        track_options=[("", "No track (an overall award)")] + [(str(t.id), t.name) for t in tracks],
        track_form=track_form or Form(values={"position": "0"}),
        award_form=award_form or Form(values={"position": "0"}),
    )
    return render(request, "events/admin/tracks.html", context, status_code=status_code)


@router.get(ADMIN + "/tracks", name="event_tracks")
async def event_tracks(
    slug: SlugPath, event_slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    return await _tracks_page(request, session, access)


@router.post(ADMIN + "/tracks")
async def add_track(
    slug: SlugPath, event_slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    data = await form_data(request)
    form = Form(values=kept(data, *CHILD_FIELDS))
    body = validated(TrackIn, _child_input(TrackIn, data), form, hints=INT_HINTS)
    if body is None:
        return await _tracks_page(request, session, access, track_form=form, status_code=422)
    try:
        async with all_or_nothing(session):
            track = await children.create_track(session, actor, access.event, body.model_dump())
    except AppError as exc:
        status = refuse(form, exc, CHILD_ERRORS)
        return await _tracks_page(request, session, access, track_form=form, status_code=status)
    flash(request, f"Track “{track.name}” added.", "success")
    return redirect(admin_base(access) + "/tracks")


@router.post(ADMIN + "/awards")
async def add_award(
    slug: SlugPath, event_slug: SlugPath, request: Request, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    data = await form_data(request)
    form = Form(values=kept(data, *CHILD_FIELDS))
    hints = {**INT_HINTS, "track_id": "Choose one of the tracks."}
    body = validated(AwardIn, _child_input(AwardIn, data), form, hints=hints)
    if body is None:
        return await _tracks_page(request, session, access, award_form=form, status_code=422)
    try:
        async with all_or_nothing(session):
            award = await children.create_award(session, actor, access.event, body.model_dump())
    except AppError as exc:
        status = refuse(form, exc, CHILD_ERRORS)
        return await _tracks_page(request, session, access, award_form=form, status_code=status)
    flash(request, f"Award “{award.name}” added.", "success")
    return redirect(admin_base(access) + "/tracks")


async def _child(
    session: AsyncSession, access: EventAccess, kind: str, child_id: uuid.UUID
) -> Track | Award:
    if kind == "tracks":
        return await children.get_track(session, access.event, child_id)
    return await children.get_award(session, access.event, child_id)


async def _child_edit_page(
    request: Request,
    session: AsyncSession,
    access: EventAccess,
    child: Track | Award,
    form: Form,
    status_code: int = 200,
) -> Response:
    tracks = await children.list_tracks(session, access.event)
    context = await admin_context(
        session,
        access,
        "tracks",
        child=child,
        kind="awards" if isinstance(child, Award) else "tracks",
        form=form,
        track_options=[("", "No track (an overall award)")] + [(str(t.id), t.name) for t in tracks],
    )
    return render(request, "events/admin/child_edit.html", context, status_code=status_code)


async def child_edit_form(
    slug: SlugPath,
    event_slug: SlugPath,
    child_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    child = await _child(session, access, request.url.path.split("/")[-3], child_id)
    return await _child_edit_page(
        request, session, access, child, Form(values=_child_values(child))
    )


async def child_edit(
    slug: SlugPath,
    event_slug: SlugPath,
    child_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    child = await _child(session, access, request.url.path.split("/")[-3], child_id)
    data = await form_data(request)
    form = Form(values=kept(data, *CHILD_FIELDS))
    model: type[BaseModel] = AwardUpdate if isinstance(child, Award) else TrackIn
    body = validated(model, _child_input(model, data), form, hints=INT_HINTS)
    if body is None:
        return await _child_edit_page(request, session, access, child, form, 422)
    changes = body.model_dump()
    try:
        async with all_or_nothing(session):
            if isinstance(child, Award):
                await children.update_award(session, actor, access.event, child, changes)
            else:
                await children.update_track(session, actor, access.event, child, changes)
    except AppError as exc:
        await reload(session, child)
        status = refuse(form, exc, CHILD_ERRORS)
        return await _child_edit_page(request, session, access, child, form, status)
    flash(request, f"“{child.name}” saved.", "success")
    return redirect(admin_base(access) + "/tracks")


async def child_delete(
    slug: SlugPath,
    event_slug: SlugPath,
    child_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await organizer_event(session, actor, slug, event_slug)
    child = await _child(session, access, request.url.path.split("/")[-3], child_id)
    name = child.name

    async def delete() -> None:
        if isinstance(child, Award):
            await children.delete_award(session, actor, access.event, child)
        else:
            await children.delete_track(session, actor, access.event, child)

    return await act(request, session, admin_base(access) + "/tracks", delete, f"“{name}” removed.")


for _kind in ("tracks", "awards"):
    router.get(f"{ADMIN}/{_kind}/{{child_id}}/edit")(child_edit_form)
    router.post(f"{ADMIN}/{_kind}/{{child_id}}/edit")(child_edit)
    router.post(f"{ADMIN}/{_kind}/{{child_id}}/delete")(child_delete)
