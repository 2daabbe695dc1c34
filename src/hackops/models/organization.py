"""Organizations: the tenants. Each has a plan with limits, feature flags and branding."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, IdMixin, SoftDeleteMixin, TimestampMixin

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"


class Organization(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_format"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 200", name="name_length"),
        CheckConstraint("max_active_events >= 0", name="max_active_events_nonnegative"),
        CheckConstraint(
            "max_announcements_per_month >= 0", name="max_announcements_per_month_nonnegative"
        ),
    )

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(32), server_default="free")
    max_active_events: Mapped[int] = mapped_column(server_default=text("3"))
    #: Announcements sent or scheduled in any 30 days, across the organization's events.
    max_announcements_per_month: Mapped[int] = mapped_column(server_default=text("60"))
    feature_flags: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    branding: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
