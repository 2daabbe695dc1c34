"""What visitors browse: the landing page's sections (upcoming, happening now, recent results,
across organizations) and an organization's public page (its public events: upcoming, happening
now, past). Anonymous reads, so only published events with visibility `public` of organizations
that are not deleted are ever listed — whatever tenant the session has set (a member's request
sets theirs, and RLS would then show their drafts: the filters here never rely on it).

Each answer is a plain, frozen data object gathered by one function with a fixed number of
statements whatever the number of events (each section is one bounded query), so a page can be
cached by its data (issue 15) and the API's JSON twin serializes the same object.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from hackops.db import db_now
from hackops.events.lifecycle import EventState, SignUp, sign_up, state_at
from hackops.events.search import state_sql
from hackops.models import Event, EventMode, Organization, Visibility
from hackops.orgs.service import OrganizationNotFound

#: Events per landing section; an organization's page lists up to ORG_SECTION_LIMIT per section.
LANDING_SECTION_LIMIT = 6
ORG_SECTION_LIMIT = 50

UPCOMING = (EventState.PUBLISHED, EventState.REGISTRATION_OPEN)
HAPPENING = (EventState.RUNNING, EventState.JUDGING)
PAST = (EventState.RESULTS_PUBLISHED, EventState.ARCHIVED)

#: What a card needs of an event (the description, questions and search vector stay unread).
_CARD_COLUMNS = (
    Event.id,
    Event.org_id,
    Event.slug,
    Event.name,
    Event.tagline,
    Event.mode,
    Event.venue,
    Event.timezone,
    Event.visibility,
    Event.registration_opens_at,
    Event.registration_closes_at,
    Event.starts_at,
    Event.submissions_close_at,
    Event.grace_minutes,
    Event.judging_closes_at,
    Event.capacity,
    Event.registered_count,
    Event.waitlist_enabled,
    Event.published_at,
    Event.results_published_at,
    Event.archived_at,
    Event.gallery_opened_at,
)


@dataclass(frozen=True)
class EventCard:
    """A public event as a list shows it: where it is, when, and what a visitor can do now."""

    org_slug: str
    org_name: str
    slug: str
    name: str
    tagline: str
    mode: EventMode
    venue: str
    timezone: str
    starts_at: datetime | None
    submissions_close_at: datetime | None
    results_published_at: datetime | None
    state: EventState
    sign_up: SignUp | None
    results_published: bool
    gallery_open: bool


@dataclass(frozen=True)
class Landing:
    upcoming: tuple[EventCard, ...]
    happening: tuple[EventCard, ...]
    results: tuple[EventCard, ...]


@dataclass(frozen=True)
class OrgProfile:
    """An organization's public face: name and the colours of its branding (if set)."""

    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime
    primary_color: str | None
    accent_color: str | None


@dataclass(frozen=True)
class OrgShowcase:
    org: OrgProfile
    upcoming: tuple[EventCard, ...]
    happening: tuple[EventCard, ...]
    past: tuple[EventCard, ...]


def _listed() -> Select[Event, str, str]:
    """Published public events of live organizations, with their organization's slug and name."""
    return (
        select(Event, Organization.slug, Organization.name)
        .join(Organization, Organization.id == Event.org_id)
        .options(load_only(*_CARD_COLUMNS))
        .where(
            Event.published_at.is_not(None),
            Event.visibility == Visibility.PUBLIC,
            Organization.deleted_at.is_(None),
        )
    )


def _in(states: tuple[EventState, ...]) -> ColumnElement[bool]:
    return state_sql().in_([s.value for s in states])


def _card(event: Event, org_slug: str, org_name: str, now: datetime) -> EventCard:
    return EventCard(
        org_slug=org_slug,
        org_name=org_name,
        slug=event.slug,
        name=event.name,
        tagline=event.tagline,
        mode=event.mode,
        venue=event.venue,
        timezone=event.timezone,
        starts_at=event.starts_at,
        submissions_close_at=event.submissions_close_at,
        results_published_at=event.results_published_at,
        state=state_at(event, now),
        sign_up=sign_up(event, now),
        results_published=event.results_published_at is not None,
        gallery_open=event.gallery_opened_at is not None,
    )


async def _cards(
    session: AsyncSession, query: Select[Event, str, str], now: datetime
) -> tuple[EventCard, ...]:
    rows = (await session.execute(query)).all()
    return tuple(_card(event, slug, name, now) for event, slug, name in rows)


def _soonest_first(query: Select[Event, str, str]) -> Select[Event, str, str]:
    return query.order_by(Event.starts_at.asc().nulls_last(), Event.name, Event.id)


def _latest_first(query: Select[Event, str, str]) -> Select[Event, str, str]:
    ended = func.coalesce(
        Event.results_published_at, Event.archived_at, Event.judging_closes_at, Event.starts_at
    )
    return query.order_by(ended.desc().nulls_last(), Event.name, Event.id)


async def landing(session: AsyncSession, *, limit: int = LANDING_SECTION_LIMIT) -> Landing:
    """The landing page's sections across organizations: four statements whatever the count."""
    now = await db_now(session)
    upcoming = _soonest_first(_listed().where(_in(UPCOMING))).limit(limit)
    happening = _soonest_first(_listed().where(_in(HAPPENING))).limit(limit)
    results = (
        _listed()
        .where(Event.results_published_at.is_not(None))
        .order_by(Event.results_published_at.desc(), Event.name, Event.id)
        .limit(limit)
    )
    return Landing(
        upcoming=await _cards(session, upcoming, now),
        happening=await _cards(session, happening, now),
        results=await _cards(session, results, now),
    )


async def org_showcase(
    session: AsyncSession, slug: str, *, limit: int = ORG_SECTION_LIMIT
) -> OrgShowcase:
    """An organization's public page: five statements whatever the count. A deleted or unknown
    organization is OrganizationNotFound (404)."""
    row = (
        await session.execute(
            select(
                Organization.id,
                Organization.slug,
                Organization.name,
                Organization.created_at,
                Organization.branding,
            ).where(Organization.slug == slug, Organization.deleted_at.is_(None))
        )
    ).first()
    if row is None:
        raise OrganizationNotFound
    branding = row.branding or {}
    profile = OrgProfile(
        id=row.id,
        slug=row.slug,
        name=row.name,
        created_at=row.created_at,
        primary_color=branding.get("primary_color") or None,
        accent_color=branding.get("accent_color") or None,
    )
    now = await db_now(session)
    mine = _listed().where(Event.org_id == profile.id)
    return OrgShowcase(
        org=profile,
        upcoming=await _cards(session, _soonest_first(mine.where(_in(UPCOMING))).limit(limit), now),
        happening=await _cards(
            session, _soonest_first(mine.where(_in(HAPPENING))).limit(limit), now
        ),
        past=await _cards(session, _latest_first(mine.where(_in(PAST))).limit(limit), now),
    )


# --- when what a page shows changes by the clock alone (issue 15: the public pages' cache) ----

#: The moments at which an event's derived state (`state_at`, `sign_up`, `registration_open`,
#: the judging and voting windows) can change with nothing written.
_MOMENTS = (
    "registration_opens_at",
    "registration_closes_at",
    "starts_at",
    "submissions_close_at",
    "judging_closes_at",
    "voting_opens_at",
    "voting_closes_at",
)


def next_moment(event: Event, now: datetime) -> datetime | None:
    """The first moment after `now` at which a page of `event` may read differently although
    nothing was written (None: never); a cached page of it is good until then."""
    moments = [getattr(event, name) for name in _MOMENTS]
    if event.submissions_close_at is not None:
        moments.append(event.submissions_close_at + timedelta(minutes=event.grace_minutes))
    later = [moment for moment in moments if moment is not None and moment > now]
    return min(later, default=None)


async def next_listed_moment(
    session: AsyncSession, *, org_id: uuid.UUID | None = None
) -> datetime | None:
    """`next_moment` over every listed event (of one organization, or all): one statement."""
    deadline = Event.submissions_close_at + func.make_interval(0, 0, 0, 0, 0, Event.grace_minutes)
    moments = [*(getattr(Event, name) for name in _MOMENTS), deadline]
    now = func.app_now()
    query = (
        select(func.min(func.least(*(case((m > now, m)) for m in moments))))
        .select_from(Event)
        .join(Organization, Organization.id == Event.org_id)
        .where(
            Event.published_at.is_not(None),
            Event.visibility == Visibility.PUBLIC,
            Organization.deleted_at.is_(None),
        )
    )
    if org_id is not None:
        query = query.where(Event.org_id == org_id)
    moment: datetime | None = await session.scalar(query)
    return moment
