"""Organizer announcements and the event reminders (`hackops.announcements`).

- `announcements`: what an organizer tells a segment of an event's people, as a draft, scheduled
  for a moment, sent (its `announcement.sent` outbox event fans it out) or cancelled.
- `announcement_recipients`: the people its audience resolved to when it was dispatched (the
  delivery figures count their notifications and mails).
- `event_reminders`: the reminders an organizer switched on for an event.
- `reminder_claims`: one row per reminder that fell due (event, kind, occurrence), claimed with
  `INSERT … ON CONFLICT DO NOTHING`, so a reminder goes out once however many workers look.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, EnumText, IdMixin, TimestampMixin


class Audience(enum.StrEnum):
    """Who an announcement is for (resolved when it is dispatched, not when it is written)."""

    REGISTERED = "registered"  # everyone holding a seat: registered or checked in
    WAITLISTED = "waitlisted"
    CHECKED_IN = "checked_in"
    TEAMS_WITHOUT_SUBMISSION = "teams_without_submission"  # members of teams with no version
    JUDGES_UNFINISHED = "judges_unfinished"  # judges with assigned, unsubmitted evaluations
    TRACK = "track"  # members of the teams whose project entered one track
    MENTORS = "mentors"


class AnnouncementStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENT = "sent"
    CANCELLED = "cancelled"


class ReminderKind(enum.StrEnum):
    REGISTRATION_CLOSING = "registration_closing"  # 24 h before registration closes
    SUBMISSIONS_CLOSING_24H = "submissions_closing_24h"
    SUBMISSIONS_CLOSING_1H = "submissions_closing_1h"
    JUDGING_DAILY = "judging_daily"  # judges with unfinished evaluations, once a local day


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Announcement(IdMixin, TimestampMixin, Base):
    __tablename__ = "announcements"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("org_id", "id"),
        Index("ix_announcements_event_id_created_at", "event_id", "created_at"),
        Index("ix_announcements_org_id_queued_at", "org_id", "queued_at"),
        Index("ix_announcements_due", "send_at", postgresql_where=text("status = 'scheduled'")),
        CheckConstraint(_in("status", AnnouncementStatus), name="status_valid"),
        CheckConstraint(_in("audience", Audience), name="audience_valid"),
        CheckConstraint("(audience = 'track') = (track_id IS NOT NULL)", name="track_audience"),
        CheckConstraint(
            "cardinality(channels) >= 1 AND channels <@ ARRAY['in_app', 'email']::varchar[]",
            name="channels_valid",
        ),
        CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="title_length"),
        CheckConstraint("status <> 'scheduled' OR send_at IS NOT NULL", name="scheduled_has_time"),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(200))
    #: Markdown as the organizer wrote it (what mail and in-app notifications carry).
    body: Mapped[str] = mapped_column(Text)
    #: The same rendered and sanitized (markdown-it + nh3), shown on the event's pages.
    body_html: Mapped[str] = mapped_column(Text)
    audience: Mapped[Audience] = mapped_column(EnumText(Audience, 32))
    #: The track of a `track` audience (no foreign key: a removed track keeps its history; the
    #: audience then resolves to nobody).
    track_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    channels: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    status: Mapped[AnnouncementStatus] = mapped_column(
        EnumText(AnnouncementStatus, 16), server_default="draft"
    )
    #: When a scheduled announcement goes out.
    send_at: Mapped[datetime | None] = mapped_column(default=None)
    #: When it was sent or scheduled: what the plan's monthly cap counts.
    queued_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Its `announcement.sent` event: the key of its notifications and mails.
    outbox_event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("outbox_events.id", ondelete="SET NULL"), default=None
    )
    #: How many people its audience resolved to when it was dispatched.
    recipient_count: Mapped[int | None] = mapped_column(default=None)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class AnnouncementRecipient(Base):
    """One person an announcement's audience resolved to when it was dispatched."""

    __tablename__ = "announcement_recipients"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "announcement_id"],
            ["announcements.org_id", "announcements.id"],
            ondelete="CASCADE",
        ),
    )

    announcement_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))


class EventReminders(Base):
    """The reminders an organizer switched on for one event (no row: all off)."""

    __tablename__ = "event_reminders"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        CheckConstraint("judging_hour BETWEEN 0 AND 23", name="judging_hour_range"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    registration_closing: Mapped[bool] = mapped_column(server_default=text("false"))
    submissions_closing: Mapped[bool] = mapped_column(server_default=text("false"))
    judging_daily: Mapped[bool] = mapped_column(server_default=text("false"))
    #: The hour of the event's local day at which judges are reminded.
    judging_hour: Mapped[int] = mapped_column(SmallInteger, server_default=text("9"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))


class ReminderClaim(Base):
    """A reminder that fell due: claimed once per (event, kind, occurrence) — the deadline it
    is about, or the local date of a daily one."""

    __tablename__ = "reminder_claims"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        CheckConstraint(_in("kind", ReminderKind), name="kind_valid"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[ReminderKind] = mapped_column(EnumText(ReminderKind, 40), primary_key=True)
    occurrence: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    claimed_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
