"""Events API: an organization's events (list, create), one event (read, edit, lifecycle
actions) and the public search across organizations. Tracks, awards and roles: children_router.
Publishing the results, the one lifecycle action the results domain carries out, is routed by
`results.router.event_actions` (same path and tag)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, status

from hackops.db import SessionDep, db_now
from hackops.errors import error_responses
from hackops.events import search as search_service
from hackops.events import service, showcase
from hackops.events.deps import EventDep, EventOrganizerDep
from hackops.events.lifecycle import EventState, state_at
from hackops.events.schemas import (
    EventIn,
    EventOut,
    EventPage,
    EventSummary,
    EventUpdate,
    OrgShowcaseOut,
    PublicEventOut,
    PublicOrganizationOut,
    event_out,
)
from hackops.models import Event, EventMode, OrgRole
from hackops.orgs.deps import OrgMemberDep, OrgOrganizerDep
from hackops.orgs.service import rank
from hackops.publiccache import LISTING, candidate, declare, event_scope, org_scope
from hackops.routing import Router, SlugPath

router = Router(prefix="/organizations", tags=["events"])
public = Router(prefix="/events", tags=["events"])

EVENT = "/{slug}/events/{event_slug}"
READ_ERRORS = error_responses(401, 403, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)


def summary(org_slug: str, org_name: str, event: Event, state: EventState) -> EventSummary:
    return EventSummary.model_validate(
        {
            **{
                name: getattr(event, name)
                for name in EventSummary.model_fields
                if hasattr(event, name)
            },
            "org_slug": org_slug,
            "org_name": org_name,
            "state": state,
        }
    )


@router.get(
    "/{slug}/events",
    response_model=list[EventSummary],
    summary="The organization's events (members; drafts and private ones for organizers)",
    responses=READ_ERRORS,
)
async def list_events(
    session: SessionDep,
    access: OrgMemberDep,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[EventSummary]:
    everything = rank(access.role) >= rank(OrgRole.ORGANIZER)
    events = await service.list_org_events(
        session, access.org, everything=everything, offset=offset, limit=limit
    )
    now = await db_now(session)
    return [summary(access.org.slug, access.org.name, e, state_at(e, now)) for e in events]


@router.get(
    "/{slug}/public-events",
    response_model=OrgShowcaseOut,
    summary="An organization's public page: its public events, upcoming, happening now and past",
    description=(
        "Anyone, signed in or not. Only published events with visibility `public`; up to"
        f" {showcase.ORG_SECTION_LIMIT} per section: upcoming soonest first, past latest first."
        " `results_published` and `gallery_open` say whether the event's results and gallery"
        " can be opened."
    ),
    responses=error_responses(404, 422),
)
async def public_events(request: Request, session: SessionDep, slug: SlugPath) -> OrgShowcaseOut:
    shown = await showcase.org_showcase(session, slug)
    if candidate(request):
        until = await showcase.next_listed_moment(session, org_id=shown.org.id)
        declare(request, (org_scope(shown.org.id),), until=until)
    return OrgShowcaseOut(
        organization=PublicOrganizationOut.model_validate(shown.org),
        upcoming=[PublicEventOut.model_validate(card) for card in shown.upcoming],
        happening=[PublicEventOut.model_validate(card) for card in shown.happening],
        past=[PublicEventOut.model_validate(card) for card in shown.past],
    )


@router.post(
    "/{slug}/events",
    status_code=status.HTTP_201_CREATED,
    response_model=EventOut,
    summary="Create a draft event (organizers and up; counts against the plan)",
    responses=WRITE_ERRORS,
)
async def create_event(body: EventIn, session: SessionDep, access: OrgOrganizerDep) -> EventOut:
    event = await service.create_event(session, access.actor, access.org, body.changes())
    return event_out(access.org.slug, event, await db_now(session))


@router.get(
    EVENT,
    response_model=EventOut,
    summary="An event (public once published, unless private)",
    responses=error_responses(401, 404, 422),
)
async def get_event(request: Request, session: SessionDep, access: EventDep) -> EventOut:
    now = await db_now(session)
    if access.actor.user is None:  # a visitor's answer: the same for all
        scopes = (event_scope(access.event.id), org_scope(access.event.org_id))
        declare(request, scopes, until=showcase.next_moment(access.event, now))
    return event_out(access.org.slug, access.event, now)


@router.patch(
    EVENT,
    response_model=EventOut,
    summary="Edit an event's settings, windows, capacity, team size and questions (organizers)",
    responses=WRITE_ERRORS,
)
async def update_event(
    body: EventUpdate, session: SessionDep, access: EventOrganizerDep
) -> EventOut:
    event = await service.update_event(session, access.actor, access.event, body)
    return event_out(access.org.slug, event, await db_now(session))


@router.post(
    EVENT + "/publish",
    response_model=EventOut,
    summary="Publish a draft (organizers)",
    responses=WRITE_ERRORS,
)
async def publish(session: SessionDep, access: EventOrganizerDep) -> EventOut:
    event = await service.publish(session, access.actor, access.event)
    return event_out(access.org.slug, event, await db_now(session))


@router.post(
    EVENT + "/unpublish",
    response_model=EventOut,
    summary="Back to draft, while nobody has registered (organizers)",
    responses=WRITE_ERRORS,
)
async def unpublish(session: SessionDep, access: EventOrganizerDep) -> EventOut:
    event = await service.unpublish(session, access.actor, access.event)
    return event_out(access.org.slug, event, await db_now(session))


@router.post(
    EVENT + "/archive",
    response_model=EventOut,
    summary="Archive: read-only, frees a slot of the plan (organizers)",
    responses=WRITE_ERRORS,
)
async def archive(session: SessionDep, access: EventOrganizerDep) -> EventOut:
    event = await service.archive(session, access.actor, access.event)
    return event_out(access.org.slug, event, await db_now(session))


@public.get(
    "",
    response_model=EventPage,
    summary="Search published public events of every organization",
    description=(
        "`q` matches full text (name, tagline, description; web-search syntax) and, fuzzily, the"
        f" name. Paginated by `offset`/`limit` (at most {search_service.MAX_LIMIT});"
        " `next_offset` is null on the last page. Archived events only with `state=archived`."
    ),
    responses=error_responses(422),
)
async def search_events(
    request: Request,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    mode: EventMode | None = None,
    state: EventState | None = None,
    offset: Annotated[int, Query(ge=0, le=search_service.MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=search_service.MAX_LIMIT)] = 20,
) -> EventPage:
    trigram = search_service.TRIGRAM_EXTENSION in request.app.state.db.extensions
    hits, next_offset = await search_service.search_events(
        session, q=q, mode=mode, state=state, offset=offset, limit=limit, trigram=trigram
    )
    if candidate(request):
        until = await showcase.next_listed_moment(session)
        declare(request, (LISTING,), until=until, query=("q", "mode", "state", "offset", "limit"))
    return EventPage(
        items=[summary(h.org_slug, h.org_name, h.event, h.state) for h in hits],
        next_offset=next_offset,
    )
