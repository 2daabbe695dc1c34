"""What participants read: an event's sent announcements meant for them (those they received,
and those whose audience they belong to now; organizers all of them), newest first, and one
announcement — the page its notification links to. Signed-in visitors who may see the event
(`EventPageDep`); one they may not read is the 404 page."""

from __future__ import annotations

import uuid

from fastapi import Request
from fastapi.responses import Response

from hackops.announcements import reading
from hackops.db import SessionDep
from hackops.web import eventkit, kit
from hackops.web.deps import EventPageDep, page_router

router = page_router()

ANNOUNCEMENTS = kit.EVENT_BASE + "/announcements"


@router.get(ANNOUNCEMENTS, name="event_announcements_read")
async def announcements(request: Request, session: SessionDep, access: EventPageDep) -> Response:
    zone = access.event.timezone
    return kit.render(
        request,
        "announcements/list.html",
        {
            "org": access.org,
            "event": access.event,
            "base": eventkit.event_url(access),
            "announcements": await reading.readable(session, access),
            "local": eventkit.clock(zone),
        },
    )


@router.get(ANNOUNCEMENTS + "/{announcement_id}", name="event_announcement_read")
async def announcement(
    announcement_id: uuid.UUID, request: Request, session: SessionDep, access: EventPageDep
) -> Response:
    zone = access.event.timezone
    return kit.render(
        request,
        "announcements/show.html",
        {
            "org": access.org,
            "event": access.event,
            "base": eventkit.event_url(access),
            "announcement": await reading.readable_one(session, access, announcement_id),
            "local": eventkit.clock(zone),
        },
    )
