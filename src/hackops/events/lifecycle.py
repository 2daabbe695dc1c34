"""An event's lifecycle state: derived from its windows, read against the database clock, plus
the organizer's explicit actions (publish, publish results, archive)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

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
    """Published, not archived, and inside the registration window (open ends are open)."""
    if event.published_at is None or event.archived_at is not None:
        return False
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        return False
    return not (event.registration_closes_at is not None and now >= event.registration_closes_at)


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
        """'Judging closed on 2026-12-06 18:00 CET — scores can no longer be changed.'"""
        when = self.at.astimezone(ZoneInfo(zone_name)).strftime("%Y-%m-%d %H:%M %Z")
        head = "Results were published" if self.reason == "results_published" else "Judging closed"
        return f"{head} on {when} — scores can no longer be changed."


def judging_closure(event: Event, now: datetime) -> JudgingClosure | None:
    """None while judges may score; publishing results closes judging whatever the window."""
    if event.results_published_at is not None:
        return JudgingClosure("results_published", event.results_published_at)
    if event.judging_closes_at is not None and now >= event.judging_closes_at:
        return JudgingClosure("judging_closed", event.judging_closes_at)
    return None
