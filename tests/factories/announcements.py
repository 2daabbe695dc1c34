"""Rows of announcements and reminders: an announcement, its recipients, an event's reminder
switches, a claimed reminder."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import (
    Announcement,
    AnnouncementRecipient,
    Event,
    EventReminders,
    ReminderClaim,
    User,
)
from tests.factories.accounts import create_user
from tests.factories.events import _event_of
from tests.factories.rows import insert


async def create_announcement(
    session: AsyncSession, event: Event | None = None, **overrides: Any
) -> Announcement:
    """A draft announcement to everyone registered for `event`, in the app and by mail."""
    event = await _event_of(session, event)
    values: dict[str, Any] = {
        "org_id": event.org_id,
        "event_id": event.id,
        "title": "Room change",
        "body": "The final pitches are in **Hall B**.",
        "body_html": "<p>The final pitches are in <strong>Hall B</strong>.</p>\n",
        "audience": "registered",
        "channels": ["in_app", "email"],
    }
    values.update(overrides)
    return await insert(session, Announcement, values)


async def create_announcement_recipient(
    session: AsyncSession,
    announcement: Announcement | None = None,
    user: User | None = None,
    **overrides: Any,
) -> AnnouncementRecipient:
    announcement = announcement or await create_announcement(session)
    user = user or await create_user(session)
    values: dict[str, Any] = {
        "announcement_id": announcement.id,
        "user_id": user.id,
        "org_id": announcement.org_id,
    }
    values.update(overrides)
    return await insert(session, AnnouncementRecipient, values)


async def create_event_reminders(
    session: AsyncSession, event: Event | None = None, **overrides: Any
) -> EventReminders:
    """Every reminder of `event` switched on (judges at 09:00 local time)."""
    event = await _event_of(session, event)
    values: dict[str, Any] = {
        "event_id": event.id,
        "org_id": event.org_id,
        "registration_closing": True,
        "submissions_closing": True,
        "judging_daily": True,
    }
    values.update(overrides)
    return await insert(session, EventReminders, values)


async def create_reminder_claim(
    session: AsyncSession, event: Event | None = None, **overrides: Any
) -> ReminderClaim:
    event = await _event_of(session, event)
    values: dict[str, Any] = {
        "event_id": event.id,
        "org_id": event.org_id,
        "kind": "judging_daily",
        "occurrence": "2026-11-23",
    }
    values.update(overrides)
    return await insert(session, ReminderClaim, values)
