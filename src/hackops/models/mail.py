"""Outgoing mail: written in the transaction that causes it, sent by a job (SMTP, or kept in the
dev mailbox when no SMTP server is configured)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, IdMixin


class OutboundEmail(IdMixin, Base):
    __tablename__ = "outbound_emails"

    to_address: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    transport: Mapped[str] = mapped_column(String(16), server_default="")
    last_error: Mapped[str] = mapped_column(String(500), server_default="")
    #: Set by senders that must queue a mail at most once (a domain event's fan-out, a
    #: reminder): a second queueing with the same key is dropped (`queue_email(dedupe_key=…)`).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
