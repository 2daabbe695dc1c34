"""The results reveal for a projector (organizers): the published results one award (or place)
at a time, from the last to the winner, in large type on a full-screen page. Space, the right
arrow, Enter or a click shows the next; the left arrow the previous (`static/reveal.js`; without
it the page lists every step in order).

Read from the published snapshot only (`results.reveal.reveal_steps`): before the results are
published the page says so and shows nothing of the ranking, whatever the live scores are. Who
may: organizers (`OrganizerPageDep`), as every admin page.
"""

from __future__ import annotations

from fastapi.responses import Response

from hackops.results.reveal import reveal_steps
from hackops.web import eventkit, kit
from hackops.web.deps import OrganizerPageDep, page_router

router = page_router()

REVEAL = kit.ADMIN + "/results/reveal"


@router.get(REVEAL, name="results_reveal")
async def reveal_page(page: OrganizerPageDep) -> Response:
    access = page.access
    steps = await reveal_steps(page.session, access.event)
    context = {
        "org": access.org,
        "event": access.event,
        "steps": steps,
        "back": page.at("/judging"),
        "results_url": kit.settings_of(page.request).base_url.rstrip("/")
        + eventkit.event_url(access)
        + "/results",
    }
    return kit.render(
        page.request, "results/reveal.html", context, headers={"Cache-Control": "no-store"}
    )
