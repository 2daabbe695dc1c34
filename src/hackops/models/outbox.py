"""The domain-event outbox and what it fans out to people: in-app notifications and the
preferences that choose channels (`hackops.outbox`, `hackops.notifications`)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, EnumText, IdMixin


class OutboxEvent(IdMixin, Base):
    """One domain event, written in the transaction of the change it describes.

    `id` is the event's stable id (webhook-id, AMQP message_id); `seq` orders the stream (the
    broker relay publishes in `seq` order). `dispatched_at` is set by the dispatcher in the
    transaction that wrote every channel's rows; `published_at` by the broker relay after the
    broker confirmed the message."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_unpublished", "seq", postgresql_where=text("published_at IS NULL")),
        Index(
            "ix_outbox_events_undispatched",
            "occurred_at",
            postgresql_where=text("dispatched_at IS NULL"),
        ),
        Index("ix_outbox_events_org_seq", "org_id", "seq"),
        Index("ix_outbox_events_occurred_at", "occurred_at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    type: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    org_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), default=None
    )
    event_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    payload: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)


class Channel(enum.StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"


class Notification(IdMixin, Base):
    """What one person is told in the app about one domain event (kept 90 days)."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_user_recent", "user_id", "created_at", "id"),
        Index("ix_notifications_unread", "user_id", postgresql_where=text("read_at IS NULL")),
        Index("ix_notifications_created_at", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    org_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), default=None
    )
    outbox_event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("outbox_events.id", ondelete="SET NULL"), default=None
    )
    #: Unique per person: the outbox event's id, or a reminder's own key — a second fan-out of
    #: the same thing adds nothing.
    dedupe_key: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, server_default="")
    link: Mapped[str] = mapped_column(String(1000), server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    read_at: Mapped[datetime | None] = mapped_column(default=None)


class NotificationPreference(Base):
    """A person's choice for one category and channel; no row means the category's default."""

    __tablename__ = "notification_preferences"
    __table_args__ = (CheckConstraint("channel IN ('in_app', 'email')", name="channel_valid"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[Channel] = mapped_column(EnumText(Channel, 16), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    digest: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
