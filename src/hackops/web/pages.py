"""Public pages: the landing page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from hackops.db import TransactionalRoute
from hackops.web.security import csrf_protect

router = APIRouter(
    route_class=TransactionalRoute, dependencies=[Depends(csrf_protect)], include_in_schema=False
)


@router.get("/", response_class=HTMLResponse, name="landing")
async def landing(request: Request) -> Response:
    # Public events are listed here once events exist (the events issue); until then, none.
    events: list[object] = []
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "index.html", {"events": events}
    )
