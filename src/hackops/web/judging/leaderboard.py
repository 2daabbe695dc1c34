"""The organizers' live leaderboard page: the board as a table rendered on the server (it works
without JavaScript: reload for newer scores), kept current by our own `static/leaderboard.js`,
which follows the API's server-sent-events stream and re-renders the table body on each
`leaderboard` event, with a "live" / "reconnecting" status in an aria-live region and the time of
the last update.

The board is read exactly as the API reads it (`judging.leaderboard.read`, the same cache), so the
page, the JSON and the stream show the same rows. Who may: as the API (`organizer_access`): the
public gets the 404 page, judges and mentors the 403 page; signed-out visitors are sent to log
in first, as on every other organizer page (all three: `OrganizerPageDep`). The page's
Content-Security-Policy allows scripts from this site only, so the script is a static file and the
stream's address is a data attribute.

The projector view (`…/leaderboard/projector`) is the same board for a room: the top
`PROJECTOR_ROWS` places in large type on a dark full-screen page without the site's header, kept
current by the same script and stream (`data-columns`, `data-limit`); `static/projector.js`
adds the full-screen button (and the F key).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import Response

from hackops.db import db_now
from hackops.events.access import EventAccess
from hackops.judging.leaderboard import service as leaderboard
from hackops.judging.leaderboard.router import board_cache
from hackops.web import kit
from hackops.web.deps import OrganizerPageDep, page_router

router = page_router()

LEADERBOARD = kit.ADMIN + "/judging/leaderboard"
API_BOARD = "/api/v1/organizations/{slug}/events/{event_slug}/judging/leaderboard"


def stream_url(access: EventAccess) -> str:
    return API_BOARD.format(slug=access.org.slug, event_slug=access.event.slug) + "/stream"


@router.get(LEADERBOARD, name="judging_leaderboard")
async def leaderboard_page(page: OrganizerPageDep) -> Response:
    session, access = page.session, page.access
    board: dict[str, Any] = json.loads(
        await leaderboard.read(session, access, board_cache(page.request))
    )
    return await page.render(
        "judging/leaderboard.html",
        "judging",
        headers={"Cache-Control": "no-store"},
        page=page.at("/judging/leaderboard"),
        board=board,
        limit=leaderboard.DEFAULT_LIMIT,
        stream_url=stream_url(access),
        rendered_at=await db_now(session),
    )


#: How many places the projector shows: what a room can read from its back row.
PROJECTOR_ROWS = 10


@router.get(LEADERBOARD + "/projector", name="judging_projector")
async def projector_page(page: OrganizerPageDep) -> Response:
    session, access = page.session, page.access
    board: dict[str, Any] = json.loads(
        await leaderboard.read(session, access, board_cache(page.request))
    )
    context = {
        "org": access.org,
        "event": access.event,
        "board": board,
        "items": board["items"][:PROJECTOR_ROWS],
        "rows": PROJECTOR_ROWS,
        "stream_url": stream_url(access),
        "back": page.at("/judging/leaderboard"),
        "rendered_at": await db_now(session),
    }
    return kit.render(
        page.request, "judging/projector.html", context, headers={"Cache-Control": "no-store"}
    )
