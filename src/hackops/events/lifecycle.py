"""An event's lifecycle state: derived from its windows, read against the database clock, plus
the organizer's explicit actions (publish, publish results, archive)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from hackops import wallclock
from hackops.models import Event


class EventState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    REGISTRATION_OPEN = "registration_open"
    RUNNING = "running"
    JUDGING = "judging"
    RESULTS_PUBLISHED = "results_published"
    ARCHIVED = "archived"


def state_at(event: Event, now: datetime) -> EventState:
    if event.archived_at is not None:
        return EventState.ARCHIVED
    if event.published_at is None:
        return EventState.DRAFT
    if event.results_published_at is not None:
        return EventState.RESULTS_PUBLISHED
    if event.submissions_close_at is not None and now >= submissions_deadline(event):
        return EventState.JUDGING
    if event.starts_at is not None and now >= event.starts_at:
        return EventState.RUNNING
    if registration_open(event, now):
        return EventState.REGISTRATION_OPEN
    return EventState.PUBLISHED


def registration_open(event: Event, now: datetime) -> bool:
    """Published, not archived, not over (submissions closed or results published: nobody can
    join a team or enter a project any more) and inside the registration window (open ends are
    open)."""
    if event.published_at is None or event.archived_at is not None:
        return False
    if event.results_published_at is not None or teams_locked(event, now):
        return False
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        return False
    return not (event.registration_closes_at is not None and now >= event.registration_closes_at)


def registration_open_sql(alias: str) -> str:
    """`registration_open` as a SQL condition on the events row `alias` at `app_now()`, for a
    statement that decides under the row's lock (`registrations.write`); true or false, never
    NULL. Change both together: tests/events/test_lifecycle_sql.py holds them equal."""
    e = alias
    return (
        f"({e}.published_at IS NOT NULL AND {e}.archived_at IS NULL"
        f" AND {e}.results_published_at IS NULL"
        f" AND ({e}.submissions_close_at IS NULL"
        f" OR app_now() < {e}.submissions_close_at + make_interval(mins => {e}.grace_minutes))"
        f" AND ({e}.registration_opens_at IS NULL OR app_now() >= {e}.registration_opens_at)"
        f" AND ({e}.registration_closes_at IS NULL OR app_now() < {e}.registration_closes_at))"
        " IS TRUE"
    )


# Whether a visitor can register now, as a badge says it (no docstring: an API schema's enum).
class SignUp(enum.StrEnum):
    NOT_OPEN_YET = "not_open_yet"
    OPEN = "open"
    WAITLIST = "waitlist"
    FULL = "full"
    CLOSED = "closed"


#: The states in which an event is over for participants (nothing to register for).
OVER = frozenset({EventState.JUDGING, EventState.RESULTS_PUBLISHED, EventState.ARCHIVED})


def sign_up(event: Event, now: datetime) -> SignUp | None:
    """Registration as a visitor meets it; None for a draft or an event that is over (its state
    says it all: judging, results published, archived)."""
    state = state_at(event, now)
    if state is EventState.DRAFT or state in OVER:
        return None
    if registration_open(event, now):
        if event.capacity is not None and event.registered_count >= event.capacity:
            return SignUp.WAITLIST if event.waitlist_enabled else SignUp.FULL
        return SignUp.OPEN
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        return SignUp.NOT_OPEN_YET
    return SignUp.CLOSED


def submissions_deadline(event: Event) -> datetime:
    """When submissions (and team changes) close, grace included."""
    assert event.submissions_close_at is not None
    return event.submissions_close_at + timedelta(minutes=event.grace_minutes)


def teams_locked(event: Event, now: datetime) -> bool:
    return event.submissions_close_at is not None and now >= submissions_deadline(event)


@dataclass(frozen=True)
class JudgingClosure:
    """Why and since when judges can change nothing: results published, or the window closed."""

    reason: str  # "results_published" | "judging_closed"
    at: datetime

    def sentence(self, zone_name: str) -> str:
        """'Judging closed on Sun 6 Dec 2026, 18:00 (Europe/Berlin, UTC+01:00) — scores can no
        longer be changed.', or 'Results are published (…); scores are final.'"""
        when = wallclock.on_clock(self.at, zone_name)
        if self.reason == "results_published":
            return f"Results are published ({when}); scores are final."
        return f"Judging closed on {when} — scores can no longer be changed."


def judging_closure(event: Event, now: datetime) -> JudgingClosure | None:
    """None while judges may score; publishing results closes judging whatever the window."""
    if event.results_published_at is not None:
        return JudgingClosure("results_published", event.results_published_at)
    if event.judging_closes_at is not None and now >= event.judging_closes_at:
        return JudgingClosure("judging_closed", event.judging_closes_at)
    return None
