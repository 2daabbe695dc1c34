"""An organization's public page, for anyone, signed in or not: its name (and colour), and its
public events — upcoming, happening now, past with their results and gallery once published or
opened. Its data is `events.showcase.org_showcase` (one plain object: the API's
`GET /api/v1/organizations/{slug}/public-events` serializes the same one), so the page shows
nothing a visitor could not read there: no draft, unlisted or private event, no score.

Members reach their organization's pages at `/orgs/{slug}` (`web.orgs.pages`); anyone else is
sent here from that address.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from hackops.db import SessionDep
from hackops.events.showcase import next_listed_moment, org_showcase
from hackops.publiccache import candidate, declare, org_scope
from hackops.routing import SlugPath
from hackops.web import kit
from hackops.web.deps import page_router

router = page_router()


@router.get("/orgs/{slug}/public", name="organization_public")
async def organization_public(request: Request, session: SessionDep, slug: SlugPath) -> Response:
    shown = await org_showcase(session, slug)
    if candidate(request):
        until = await next_listed_moment(session, org_id=shown.org.id)
        declare(request, (org_scope(shown.org.id),), until=until)
    context = {"shown": shown, "members_url": kit.with_next("/login", f"/orgs/{slug}")}
    return kit.render(request, "orgs/public.html", context)
