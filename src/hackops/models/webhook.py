"""An organization's outbound webhooks: endpoints, one delivery per (endpoint, domain event) and
the log of every attempt to deliver it (`hackops.webhooks`)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, EnumText, IdMixin, TimestampMixin


class WebhookEndpoint(IdMixin, TimestampMixin, Base):
    """Where an organization wants its domain events sent, and how they are signed.

    `event_types` NULL means every type (types added later too). The signing secrets are stored
    sealed (AES-GCM under a key derived from SECRET_KEY, `webhooks.signing`): the app must read
    them to sign, a copy of the database alone must not. `previous_secret_sealed` signs beside
    the current one until `previous_secret_expires_at` (a rotation's overlap).
    `consecutive_failures` / `failing_since` count attempts that failed since the last success;
    they decide the automatic switch-off (`webhooks.tasks`)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        CheckConstraint("char_length(url) BETWEEN 1 AND 2000", name="url_length"),
        CheckConstraint(
            "event_types IS NULL OR cardinality(event_types) > 0", name="event_types_not_empty"
        ),
        CheckConstraint(
            "(previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL)",
            name="previous_secret_with_expiry",
        ),
        CheckConstraint("consecutive_failures >= 0", name="failures_not_negative"),
        Index("ix_webhook_endpoints_org_id_created_at", "org_id", "created_at"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(500), server_default="")
    event_types: Mapped[list[str] | None] = mapped_column(ARRAY(String(80)), default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Why it is off, for people: empty when turned off by hand.
    disabled_reason: Mapped[str] = mapped_column(String(500), server_default="")
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    previous_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    failing_since: Mapped[datetime | None] = mapped_column(default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(IdMixin, Base):
    """One domain event for one endpoint: written once by the fan-out (UNIQUE), retried by its
    job until delivered or given up. `job_token` names the one automatic attempt that may run
    next (a stale or doubled job finds another token and does nothing)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "outbox_event_id"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status_valid"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_webhook_deliveries_endpoint_recent", "endpoint_id", "created_at", "id"),
        Index("ix_webhook_deliveries_outbox_event_id", "outbox_event_id"),
        Index("ix_webhook_deliveries_created_at", "created_at"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    outbox_event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outbox_events.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(80))
    status: Mapped[DeliveryStatus] = mapped_column(
        EnumText(DeliveryStatus, 16), server_default="pending"
    )
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    job_token: Mapped[uuid.UUID | None] = mapped_column(default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str] = mapped_column(String(500), server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class WebhookAttempt(IdMixin, Base):
    """One HTTP request to an endpoint (the delivery log): what it answered, how fast, and why
    it failed in words for people."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        UniqueConstraint("delivery_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("latency_ms >= 0", name="latency_not_negative"),
        Index("ix_webhook_attempts_endpoint_id_started_at", "endpoint_id", "started_at"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)
    #: Asked for by a person (redeliver), not by the retry schedule.
    manual: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    started_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    latency_ms: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    succeeded: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    response_excerpt: Mapped[str] = mapped_column(String(2000), server_default="")
    error: Mapped[str] = mapped_column(String(500), server_default="")
