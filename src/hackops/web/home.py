"""Public pages: the landing page, with the public events of every organization in three
sections — upcoming, happening now, recent results (`events.showcase.landing`)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from hackops.db import SessionDep
from hackops.events.showcase import landing as landing_sections
from hackops.events.showcase import next_listed_moment
from hackops.publiccache import LISTING, candidate, declare
from hackops.web import kit
from hackops.web.deps import page_router

router = page_router()


@router.get("/", response_class=HTMLResponse, name="landing")
async def landing(request: Request, session: SessionDep) -> Response:
    shown = await landing_sections(session)
    if candidate(request):
        declare(request, (LISTING,), until=await next_listed_moment(session))
    return kit.render(request, "index.html", {"shown": shown})
