"""Results and pairwise-judging pages.

- /orgs/{slug}/events/{event_slug}/results: the published winners and ranking (404 before
  publishing, except the organizers' preview), from the same service as the API.
- /orgs/{slug}/events/{event_slug}/judging/pairwise: a judge's current pair with table numbers,
  "this one is better" buttons, skip and undo; plain forms, keyboard-friendly (access keys 1, 2,
  s, u).
"""

from __future__ import annotations

import uuid

from fastapi import Request
from fastapi.responses import Response

from hackops.browser import flash
from hackops.db import SessionDep, db_now
from hackops.errors import AppError
from hackops.events.lifecycle import judging_closure
from hackops.judging.pairwise import service as pairwise_service
from hackops.judging.service import require_judge
from hackops.publiccache import content_scope, declare, org_scope
from hackops.results import service as results_service
from hackops.web import eventkit, kit
from hackops.web.deps import EventPageDep, PublicEventDep, page_router

router = page_router()

PAIRWISE = kit.EVENT_BASE + "/judging/pairwise"


@router.get(kit.EVENT_BASE + "/results", name="event_results")
async def results_page(request: Request, session: SessionDep, access: PublicEventDep) -> Response:
    results = await results_service.public_results(session, access)
    published = access.event.results_published_at is not None
    context = {
        "org": access.org,
        "event": access.event,
        "results": results,
        # The organizers' export of what is published (the preview is not exported).
        "export_base": eventkit.admin_base(access) + "/exports/results"
        if published and access.is_organizer
        else None,
    }
    if access.actor.user is None:  # published results, the same for every visitor
        declare(request, (content_scope(access.event.id), org_scope(access.event.org_id)))
    return kit.render(request, "results/show.html", context)


@router.get(PAIRWISE, name="pairwise")
async def pairwise_page(request: Request, session: SessionDep, access: EventPageDep) -> Response:
    """The judge's pair; once judging has closed (or results are published), why there is none."""
    require_judge(access)  # anyone else: as the service answers
    closure = judging_closure(access.event, await db_now(session))
    shown = None if closure else await pairwise_service.current_pair(session, access)
    context = {
        "org": access.org,
        "event": access.event,
        "shown": shown,
        "closed": closure.sentence(access.event.timezone) if closure else None,
        "queue": eventkit.event_url(access) + "/judging",
        "here": eventkit.event_url(access) + "/judging/pairwise",
    }
    return kit.render(request, "results/pairwise.html", context)


@router.post(PAIRWISE)
async def pairwise_action(request: Request, session: SessionDep, access: EventPageDep) -> Response:
    data = await kit.form_data(request)
    action = data.get("op", "")
    try:
        async with kit.all_or_nothing(session):
            if action == "vote":
                await pairwise_service.vote(session, access, uuid.UUID(data.get("winner", "")))
                flash(request, "Recorded.", "success")
            elif action == "skip":
                await pairwise_service.skip(session, access)
                flash(request, "Skipped.", "success")
            elif action == "undo":
                await pairwise_service.undo(session, access)
                flash(request, "Undone: this pair is back.", "success")
            else:
                flash(request, "Unknown action.", "error")
    except ValueError:
        flash(request, "Pick one of the two projects.", "error")
    except AppError as exc:
        if exc.status_code == 404:
            raise
        flash(request, exc.message, "error")
    return kit.redirect(eventkit.event_url(access) + "/judging/pairwise")
