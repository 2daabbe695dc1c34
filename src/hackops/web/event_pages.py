"""Event pages: the public page of an event (description, dates in the event's time zone,
tracks and awards). Loading and authorizing is `events.deps.load_event_access`, as for the API:
a draft or private event is a 404 to whoever may not see it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from hackops.accounts.deps import ActorDep, get_actor
from hackops.db import SessionDep, TransactionalRoute, db_now
from hackops.events import children
from hackops.events.deps import load_event_access
from hackops.events.lifecycle import registration_open, state_at
from hackops.web.security import csrf_protect

router = APIRouter(
    route_class=TransactionalRoute,
    dependencies=[Depends(csrf_protect), Depends(get_actor)],
    include_in_schema=False,
)

SlugPath = Annotated[str, Path(min_length=1, max_length=63)]


@router.get("/orgs/{slug}/events/{event_slug}", name="event")
async def event_page(
    request: Request, slug: SlugPath, event_slug: SlugPath, session: SessionDep, actor: ActorDep
) -> Response:
    access = await load_event_access(session, actor, slug, event_slug)
    event = access.event
    now = await db_now(session)
    zone = ZoneInfo(event.timezone)

    def when(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if moment else ""

    windows = [
        (label, getattr(event, field))
        for label, field in (
            ("Registration opens", "registration_opens_at"),
            ("Registration closes", "registration_closes_at"),
            ("Starts", "starts_at"),
            ("Submissions close", "submissions_close_at"),
            ("Judging closes", "judging_closes_at"),
        )
        if getattr(event, field) is not None
    ]
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "events/show.html",
        {
            "org": access.org,
            "event": event,
            "state": state_at(event, now).value,
            "open": registration_open(event, now),
            "is_organizer": access.is_organizer,
            "windows": windows,
            "when": when,
            "tracks": await children.list_tracks(session, event),
            "awards": await children.list_awards(session, event),
        },
    )
