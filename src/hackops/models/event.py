"""Events (hackathons) of an organization: windows, capacity, teams' size, visibility, questions,
tracks, awards and per-event roles. Tenant-owned: every row carries org_id, and children point at
their event through (org_id, event_id) so a row can never hang under another tenant's event."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, EnumText, IdMixin, TimestampMixin


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    UNLISTED = "unlisted"
    PRIVATE = "private"


class EventMode(enum.StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"
    HYBRID = "hybrid"


class EventRole(enum.StrEnum):
    ORGANIZER = "organizer"
    JUDGE = "judge"
    MENTOR = "mentor"


class Event(IdMixin, TimestampMixin, Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        Index("uq_events_org_id_slug", "org_id", "slug", unique=True),
        Index("ix_events_search", "search", postgresql_using="gin"),
        Index("ix_events_public", "visibility", "published_at"),
        CheckConstraint("slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'", name="slug_format"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name_length"),
        CheckConstraint("visibility IN ('public', 'unlisted', 'private')", name="visibility_valid"),
        CheckConstraint("mode IN ('online', 'in_person', 'hybrid')", name="mode_valid"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_nonnegative"),
        CheckConstraint(
            "capacity IS NULL OR registered_count <= capacity", name="registered_within_capacity"
        ),
        CheckConstraint("registered_count >= 0", name="registered_count_nonnegative"),
        CheckConstraint(
            "team_min >= 1 AND team_max >= team_min AND team_max <= 100", name="team_size"
        ),
        CheckConstraint("grace_minutes BETWEEN 0 AND 1440", name="grace_minutes_range"),
        CheckConstraint(
            "registration_closes_at IS NULL OR registration_opens_at IS NULL"
            " OR registration_closes_at > registration_opens_at",
            name="registration_window",
        ),
        CheckConstraint(
            "submissions_close_at IS NULL OR starts_at IS NULL OR submissions_close_at > starts_at",
            name="submission_window",
        ),
        CheckConstraint(
            "judging_closes_at IS NULL OR submissions_close_at IS NULL"
            " OR judging_closes_at > submissions_close_at",
            name="judging_window",
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    tagline: Mapped[str] = mapped_column(String(300), server_default="")
    description: Mapped[str] = mapped_column(Text, server_default="")
    description_html: Mapped[str] = mapped_column(Text, server_default="")
    mode: Mapped[EventMode] = mapped_column(EnumText(EventMode, 16), server_default="online")
    venue: Mapped[str] = mapped_column(String(300), server_default="")
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    registration_opens_at: Mapped[datetime | None] = mapped_column(default=None)
    registration_closes_at: Mapped[datetime | None] = mapped_column(default=None)
    starts_at: Mapped[datetime | None] = mapped_column(default=None)
    submissions_close_at: Mapped[datetime | None] = mapped_column(default=None)
    grace_minutes: Mapped[int] = mapped_column(server_default=text("0"))
    judging_closes_at: Mapped[datetime | None] = mapped_column(default=None)
    capacity: Mapped[int | None] = mapped_column(default=None)
    registered_count: Mapped[int] = mapped_column(server_default=text("0"))
    waitlist_enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    #: New registrations wait for an organizer's approval (`pending`, no seat) when on.
    approval_required: Mapped[bool] = mapped_column(server_default=text("false"))
    team_min: Mapped[int] = mapped_column(server_default=text("1"))
    team_max: Mapped[int] = mapped_column(server_default=text("5"))
    visibility: Mapped[Visibility] = mapped_column(
        EnumText(Visibility, 16), server_default="public"
    )
    allowed_email_domains: Mapped[list[str]] = mapped_column(
        ARRAY(String(255)), server_default="{}"
    )
    questions: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    results_published_at: Mapped[datetime | None] = mapped_column(default=None)
    # After publishing: the per-criterion breakdown (judges anonymized) on the results pages.
    results_show_breakdown: Mapped[bool] = mapped_column(server_default=text("false"))
    archived_at: Mapped[datetime | None] = mapped_column(default=None)
    # Submissions: file limits, late submissions (accepted and flagged), the public gallery.
    file_max_bytes: Mapped[int] = mapped_column(BigInteger, server_default=text("26214400"))
    file_max_count: Mapped[int] = mapped_column(server_default=text("10"))
    file_types: Mapped[list[str]] = mapped_column(
        ARRAY(String(16)), server_default="{pdf,png,jpeg,zip,mp4}"
    )
    late_submissions: Mapped[bool] = mapped_column(server_default=text("false"))
    gallery_opened_at: Mapped[datetime | None] = mapped_column(default=None)
    # Public voting window (none: no public voting).
    voting_opens_at: Mapped[datetime | None] = mapped_column(default=None)
    voting_closes_at: Mapped[datetime | None] = mapped_column(default=None)
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('simple', coalesce(name, '')), 'A')"
            " || setweight(to_tsvector('english', coalesce(tagline, '')), 'B')"
            " || setweight(to_tsvector('english', coalesce(description, '')), 'C')",
            persisted=True,
        ),
    )


class Track(IdMixin, Base):
    __tablename__ = "event_tracks"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("event_id", "id"),
        Index("uq_event_tracks_event_id_name", "event_id", text("lower(name)"), unique=True),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(2000), server_default="")
    position: Mapped[int] = mapped_column(server_default=text("0"))


class Award(IdMixin, Base):
    __tablename__ = "event_awards"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["event_id", "track_id"],
            ["event_tracks.event_id", "event_tracks.id"],
            ondelete="CASCADE",
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    track_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(2000), server_default="")
    prize: Mapped[str] = mapped_column(String(300), server_default="")
    position: Mapped[int] = mapped_column(server_default=text("0"))


class EventRoleGrant(IdMixin, Base):
    __tablename__ = "event_roles"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("event_id", "user_id", "role"),
        CheckConstraint("role IN ('organizer', 'judge', 'mentor')", name="role_valid"),
        Index("ix_event_roles_user_id", "user_id"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[EventRole] = mapped_column(EnumText(EventRole, 16))
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
