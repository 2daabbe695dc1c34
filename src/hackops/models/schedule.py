"""An event's schedule (agenda): talks, workshops, meals, deadlines and other items at a time and
a place or a link. Tenant-owned like every child of an event: (org_id, event_id) points at the
event, so an item can never hang under another tenant's event. The event's own windows
(registration, start, deadlines, results) are not stored here: the agenda derives them from the
event (`events.schedule.service.agenda`)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, EnumText, IdMixin, TimestampMixin


class ScheduleKind(enum.StrEnum):
    TALK = "talk"
    WORKSHOP = "workshop"
    MEAL = "meal"
    DEADLINE = "deadline"
    OTHER = "other"


class ScheduleItem(IdMixin, TimestampMixin, Base):
    __tablename__ = "schedule_items"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        Index("ix_schedule_items_event_id_starts_at", "event_id", "starts_at"),
        CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="title_length"),
        CheckConstraint(
            "kind IN ('talk', 'workshop', 'meal', 'deadline', 'other')", name="kind_valid"
        ),
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("url = '' OR url ~ '^https?://'", name="url_web"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ScheduleKind] = mapped_column(EnumText(ScheduleKind, 16), server_default="other")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    place: Mapped[str] = mapped_column(String(300), server_default="")
    url: Mapped[str] = mapped_column(String(2000), server_default="")
    description: Mapped[str] = mapped_column(String(2000), server_default="")
