"""Registrations (user and event, unique): registered, waitlisted, cancelled, checked-in, and
pending / declined for events whose registrations need an organizer's approval.

`events.registered_count` is kept by a trigger on this table and checked against the capacity
by a constraint on events, so no code path can oversell an event. The waitlist is FIFO by
`queue_seq`. The finder columns say whether the person looks for a team, with which skills.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, EnumText, IdMixin, TimestampMixin


class RegistrationStatus(enum.StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    PENDING = "pending"
    DECLINED = "declined"


#: Statuses that hold a seat.
SEATED = (RegistrationStatus.REGISTERED, RegistrationStatus.CHECKED_IN)


class Registration(IdMixin, TimestampMixin, Base):
    __tablename__ = "registrations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("event_id", "user_id"),
        UniqueConstraint("checkin_code"),
        CheckConstraint(
            "status IN ('registered', 'waitlisted', 'cancelled', 'checked_in', 'pending',"
            " 'declined')",
            name="status_valid",
        ),
        Index("ix_registrations_event_id_status_queue_seq", "event_id", "status", "queue_seq"),
        Index("ix_registrations_user_id", "user_id"),
        Index("ix_registrations_skills", "skills", postgresql_using="gin"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[RegistrationStatus] = mapped_column(EnumText(RegistrationStatus, 16))
    queue_seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    checkin_code: Mapped[str] = mapped_column(String(16))
    checked_in_at: Mapped[datetime | None] = mapped_column(default=None)
    checked_in_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), default=None
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    source: Mapped[str] = mapped_column(String(16), server_default="self")
    looking_for_team: Mapped[bool] = mapped_column(server_default=text("false"))
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")
    finder_note: Mapped[str] = mapped_column(String(500), server_default="")
