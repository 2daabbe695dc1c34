"""Results and pairwise-judging pages.

- /orgs/{slug}/events/{event_slug}/results: the published winners and ranking (404 before
  publishing, except the organizers' preview), from the same service as the API.
- /orgs/{slug}/events/{event_slug}/judging/pairwise: a judge's current pair with table numbers,
  "this one is better" buttons, skip and undo; plain forms, keyboard-friendly (access keys 1, 2,
  s, u).
"""

from __future__ import annotations

import uuid

from fastapi import Depends, Request
from fastapi.responses import Response

from hackops.accounts.deps import ActorDep, get_actor
from hackops.browser import csrf_protect, flash
from hackops.db import SessionDep
from hackops.errors import AppError
from hackops.events.deps import load_event_access
from hackops.judging.pairwise import service as pairwise_service
from hackops.results import service as results_service
from hackops.routing import Router, SlugPath
from hackops.web.kit import all_or_nothing, form_data, redirect, render, to_login

router = Router(
    dependencies=[Depends(csrf_protect), Depends(get_actor)],
    include_in_schema=False,
)

BASE = "/orgs/{slug}/events/{event_slug}"


@router.get(BASE + "/results", name="event_results")
async def results_page(
    request: Request, slug: SlugPath, event_slug: SlugPath, session: SessionDep, actor: ActorDep
) -> Response:
    access = await load_event_access(session, actor, slug, event_slug)
    results = await results_service.public_results(session, access)
    return render(
        request,
        "results/show.html",
        {"org": access.org, "event": access.event, "results": results},
    )


@router.get(BASE + "/judging/pairwise", name="pairwise")
async def pairwise_page(
    request: Request, slug: SlugPath, event_slug: SlugPath, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await load_event_access(session, actor, slug, event_slug)
    shown = await pairwise_service.current_pair(session, access)
    return render(
        request,
        "results/pairwise.html",
        {
            "org": access.org,
            "event": access.event,
            "shown": shown,
            "here": BASE.format(slug=slug, event_slug=event_slug) + "/judging/pairwise",
        },
    )


@router.post(BASE + "/judging/pairwise")
async def pairwise_action(
    request: Request, slug: SlugPath, event_slug: SlugPath, session: SessionDep, actor: ActorDep
) -> Response:
    if actor.user is None:
        return to_login(request)
    access = await load_event_access(session, actor, slug, event_slug)
    here = BASE.format(slug=slug, event_slug=event_slug) + "/judging/pairwise"
    data = await form_data(request)
    action = data.get("op", "")
    try:
        async with all_or_nothing(session):
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
    return redirect(here)
