"""Public pages: the landing page, with the upcoming public events of every organization."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from hackops.db import SessionDep
from hackops.events.search import upcoming_public_events
from hackops.web import kit
from hackops.web.deps import page_router

router = page_router()


@router.get("/", response_class=HTMLResponse, name="landing")
async def landing(request: Request, session: SessionDep) -> Response:
    return kit.render(request, "index.html", {"events": await upcoming_public_events(session)})
