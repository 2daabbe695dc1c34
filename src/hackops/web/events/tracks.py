"""Event admin pages, continued: an event's tracks (prize categories) and awards — list, add,
edit, remove — through `events.children`, checked with the API's input models. Same rules as
`web.events.admin`: organizers only (`OrganizerPageDep`), form posts through
`AdminPage.form_action`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import Response
from pydantic import BaseModel

from hackops.errors import AppError
from hackops.events.schemas import AwardIn, AwardUpdate, TrackIn
from hackops.events.tracks import service as children
from hackops.models import Award, Track
from hackops.web import eventkit, kit
from hackops.web.deps import OrganizerPageDep, page_router

router = page_router()

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


def _track_options(tracks: list[Track]) -> list[tuple[str, str]]:
    return [("", "No track (an overall award)")] + [(str(t.id), t.name) for t in tracks]


async def _tracks_page(
    page: eventkit.AdminPage,
    *,
    track_form: kit.Form | None = None,
    award_form: kit.Form | None = None,
    status_code: int = 200,
) -> Response:
    tracks = await children.list_tracks(page.session, page.access.event)
    return await page.render(
        "events/admin/tracks.html",
        "tracks",
        status_code=status_code,
        tracks=tracks,
        awards=await children.list_awards(page.session, page.access.event),
        track_names={t.id: t.name for t in tracks},
        track_options=_track_options(tracks),
        track_form=track_form or kit.Form(values={"position": "0"}),
        award_form=award_form or kit.Form(values={"position": "0"}),
    )


@router.get(kit.ADMIN + "/tracks", name="event_tracks")
async def event_tracks(page: OrganizerPageDep) -> Response:
    return await _tracks_page(page)


async def add_child(page: OrganizerPageDep) -> Response:
    """Adds a track or an award (the path's last part says which) from the tracks page's form."""
    access = page.access
    is_award = page.request.url.path.endswith("/awards")
    data = await kit.form_data(page.request)
    model: type[TrackIn | AwardIn] = AwardIn if is_award else TrackIn

    async def create(body: TrackIn | AwardIn) -> Track | Award:
        create_child = children.create_award if is_award else children.create_track
        return await create_child(page.session, access.actor, access.event, body.model_dump())

    async def again(form: kit.Form, status: int) -> Response:
        forms = {"award_form" if is_award else "track_form": form}
        return await _tracks_page(page, status_code=status, **forms)

    return await page.form_action(
        kit.Form(values=kit.kept(data, *CHILD_FIELDS)),
        model=model,
        data=_child_input(model, data),
        hints={**INT_HINTS, "track_id": "Choose one of the tracks."} if is_award else INT_HINTS,
        call=create,
        page=again,
        fields=CHILD_ERRORS,
        done=lambda child: f"{'Award' if is_award else 'Track'} “{child.name}” added.",
        then=page.at("/tracks"),
    )


# --- one track or award: edit, remove ---------------------------------------------------------


async def event_child(child_id: uuid.UUID, page: OrganizerPageDep) -> Track | Award:
    """The track or award the path names (…/tracks/<id>/… or …/awards/<id>/…), else 404."""
    if page.request.url.path.split("/")[-3] == "tracks":
        return await children.get_track(page.session, page.access.event, child_id)
    return await children.get_award(page.session, page.access.event, child_id)


ChildDep = Annotated[Track | Award, Depends(event_child)]


async def _child_edit_page(
    page: eventkit.AdminPage, child: Track | Award, form: kit.Form, status_code: int = 200
) -> Response:
    return await page.render(
        "events/admin/child_edit.html",
        "tracks",
        status_code=status_code,
        child=child,
        kind="awards" if isinstance(child, Award) else "tracks",
        form=form,
        track_options=_track_options(await children.list_tracks(page.session, page.access.event)),
    )


async def child_edit_form(page: OrganizerPageDep, child: ChildDep) -> Response:
    return await _child_edit_page(page, child, kit.Form(values=_child_values(child)))


async def child_edit(page: OrganizerPageDep, child: ChildDep) -> Response:
    access = page.access
    data = await kit.form_data(page.request)
    model: type[BaseModel] = AwardUpdate if isinstance(child, Award) else TrackIn

    async def update(body: BaseModel) -> None:
        changes = body.model_dump()
        if isinstance(child, Award):
            await children.update_award(page.session, access.actor, access.event, child, changes)
        else:
            await children.update_track(page.session, access.actor, access.event, child, changes)

    return await page.form_action(
        kit.Form(values=kit.kept(data, *CHILD_FIELDS)),
        model=model,
        data=_child_input(model, data),
        hints=INT_HINTS,
        call=update,
        page=lambda form, status: _child_edit_page(page, child, form, status),
        expire=[child],
        fields=CHILD_ERRORS,
        done=lambda _: f"“{child.name}” saved.",  # the name as saved
        then=page.at("/tracks"),
    )


async def child_delete(page: OrganizerPageDep, child: ChildDep) -> Response:
    name = child.name
    access = page.access

    async def delete() -> None:
        if isinstance(child, Award):
            await children.delete_award(page.session, access.actor, access.event, child)
        else:
            await children.delete_track(page.session, access.actor, access.event, child)

    return await page.act(page.at("/tracks"), delete, f"“{name}” removed.")


for _kind in ("tracks", "awards"):
    router.post(f"{kit.ADMIN}/{_kind}")(add_child)
    router.get(f"{kit.ADMIN}/{_kind}/{{child_id}}/edit")(child_edit_form)
    router.post(f"{kit.ADMIN}/{_kind}/{{child_id}}/edit")(child_edit)
    router.post(f"{kit.ADMIN}/{_kind}/{{child_id}}/delete")(child_delete)
