"""The audit log: append-only (a trigger refuses UPDATE and DELETE)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, IdMixin


class AuditEntry(IdMixin, Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_org_id_created_at", "org_id", "created_at"),
        Index("ix_audit_log_actor_id_created_at", "actor_id", "created_at"),
        Index("ix_audit_log_resource", "resource_type", "resource_id"),
    )
    # No INSERT ... RETURNING: RETURNING needs the row to pass the SELECT policy, and an actor
    # may append rows it cannot read back (e.g. before signing in).
    __mapper_args__ = {"eager_defaults": False}

    org_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), default=None
    )
    # Users are never hard-deleted (their data is erased, the row stays), and an append-only
    # log cannot be rewritten by ON DELETE SET NULL: hence RESTRICT.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), default=None
    )
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(64), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    ip: Mapped[str | None] = mapped_column(INET, default=None)
    user_agent: Mapped[str] = mapped_column(String(400), server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
