"""Public event search across organizations: full text (tsvector `events.search`, GIN) ranked,
plus a fuzzy name match — pg_trgm similarity when the extension is installed (GIN index
`trgm_events_name`), a plain ILIKE otherwise. Only published, public events are ever listed.

The lifecycle state is also expressed in SQL (`state_sql`) so that lists can filter by it; it
mirrors `lifecycle.state_at` (a test checks the two agree) and reads the database clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.events.lifecycle import EventState
from hackops.models import Event, EventMode, Organization, Visibility

MAX_LIMIT = 50
MAX_OFFSET = 10_000
#: pg_trgm's default similarity threshold for `%` is 0.3.
TRIGRAM_EXTENSION = "pg_trgm"


def state_sql(now: Any = None) -> ColumnElement[str]:
    """The lifecycle state as a SQL expression (see `lifecycle.state_at`)."""
    now = func.app_now() if now is None else now
    deadline = Event.submissions_close_at + Event.grace_minutes * text("interval '1 minute'")
    registration_open = and_(
        or_(Event.registration_opens_at.is_(None), Event.registration_opens_at <= now),
        or_(Event.registration_closes_at.is_(None), Event.registration_closes_at > now),
    )
    return case(
        (Event.archived_at.is_not(None), literal(EventState.ARCHIVED.value)),
        (Event.published_at.is_(None), literal(EventState.DRAFT.value)),
        (Event.results_published_at.is_not(None), literal(EventState.RESULTS_PUBLISHED.value)),
        (
            and_(Event.submissions_close_at.is_not(None), now >= deadline),
            literal(EventState.JUDGING.value),
        ),
        (
            and_(Event.starts_at.is_not(None), now >= Event.starts_at),
            literal(EventState.RUNNING.value),
        ),
        (registration_open, literal(EventState.REGISTRATION_OPEN.value)),
        else_=literal(EventState.PUBLISHED.value),
    )


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def fuzzy_name_match(q: str, *, trigram: bool) -> tuple[ColumnElement[bool], ColumnElement[Any]]:
    """(condition, score) for a fuzzy match of `q` on the event name.

    With pg_trgm: `name % q` (served by the trigram index) scored by similarity. Without it: a
    case-insensitive substring match scored 0.5, so whole-name hits still rank above weak
    full-text hits.
    """
    if trigram:
        return Event.name.op("%")(q), func.similarity(Event.name, q)
    condition = Event.name.ilike(f"%{escape_like(q)}%", escape="\\")
    return condition, case((condition, literal(0.5)), else_=literal(0.0))


@dataclass(frozen=True)
class SearchHit:
    event: Event
    org_slug: str
    org_name: str
    state: EventState


def _public_events() -> Select[Event, str, str, str]:
    return (
        select(Event, Organization.slug, Organization.name, state_sql())
        .join(Organization, Organization.id == Event.org_id)
        .where(
            Event.published_at.is_not(None),
            Event.visibility == Visibility.PUBLIC,
            Organization.deleted_at.is_(None),
        )
    )


async def search_events(
    session: AsyncSession,
    *,
    q: str | None = None,
    mode: EventMode | None = None,
    state: EventState | None = None,
    offset: int = 0,
    limit: int = 20,
    trigram: bool,
) -> tuple[list[SearchHit], int | None]:
    """Published public events, best match first (or soonest first without `q`).

    Archived events are only listed when `state=archived` asks for them. Returns the page and
    the next offset (None at the end).
    """
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, min(offset, MAX_OFFSET))
    query = _public_events()
    if mode is not None:
        query = query.where(Event.mode == mode.value)
    if state is not None:
        query = query.where(state_sql() == state.value)
    else:
        query = query.where(Event.archived_at.is_(None))
    term = (q or "").strip()
    if term:
        # Names are indexed unstemmed ('simple'), tagline and description stemmed ('english').
        tsquery = func.websearch_to_tsquery(literal_column("'simple'::regconfig"), term).op("||")(
            func.websearch_to_tsquery(literal_column("'english'::regconfig"), term)
        )
        matches_text = Event.search.op("@@")(tsquery)
        fuzzy, fuzzy_score = fuzzy_name_match(term, trigram=trigram)
        score = cast(func.ts_rank_cd(Event.search, tsquery), Float) + cast(fuzzy_score, Float)
        query = query.where(or_(matches_text, fuzzy)).order_by(
            score.desc(), Event.starts_at.asc().nulls_last(), Event.id
        )
    else:
        query = query.order_by(Event.starts_at.asc().nulls_last(), Event.name, Event.id)
    rows = (await session.execute(query.offset(offset).limit(limit + 1))).all()
    hits = [
        SearchHit(event=event, org_slug=slug, org_name=name, state=EventState(state_value))
        for event, slug, name, state_value in rows[:limit]
    ]
    return hits, (offset + limit if len(rows) > limit else None)


async def upcoming_public_events(session: AsyncSession, *, limit: int = 12) -> list[SearchHit]:
    """For the landing page: published public events not yet over, soonest first."""
    query = (
        _public_events()
        .where(
            Event.archived_at.is_(None),
            Event.results_published_at.is_(None),
            state_sql().in_(
                [
                    EventState.PUBLISHED.value,
                    EventState.REGISTRATION_OPEN.value,
                    EventState.RUNNING.value,
                ]
            ),
        )
        .order_by(Event.starts_at.asc().nulls_last(), Event.name, Event.id)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [
        SearchHit(event=event, org_slug=slug, org_name=name, state=EventState(state_value))
        for event, slug, name, state_value in rows
    ]
