"""Public pages: the landing page, with the upcoming public events of every organization."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from hackops.browser import csrf_protect
from hackops.db import SessionDep
from hackops.events.search import upcoming_public_events
from hackops.routing import Router

router = Router(dependencies=[Depends(csrf_protect)], include_in_schema=False)


@router.get("/", response_class=HTMLResponse, name="landing")
async def landing(request: Request, session: SessionDep) -> Response:
    events = await upcoming_public_events(session)
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "index.html", {"events": events}
    )
