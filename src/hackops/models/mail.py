"""Outgoing mail: written in the transaction that causes it, sent by a job (SMTP, or kept in the
dev mailbox when no SMTP server is configured)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, IdMixin


class OutboundEmail(IdMixin, Base):
    """One mail: its text part (`body_text`) and HTML part (`body_html`), both rendered from the
    templates of `hackops.mail.templates`, its small attachments and, for a mail of a category the
    person can turn off, the one-click unsubscribe address. Bodies, attachments and the address
    carry links with tokens: they are cleared once the SMTP server took the mail."""

    __tablename__ = "outbound_emails"
    __table_args__ = (
        CheckConstraint("jsonb_typeof(attachments) = 'array'", name="attachments_array"),
    )

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
    #: The HTML part (the text part is `body_text`); None for a text-only mail.
    body_html: Mapped[str | None] = mapped_column(Text, default=None)
    #: Small files sent with the mail (a QR code, a calendar entry): a list of
    #: {filename, content_type, content_id, data (base64)}; `content_id` set for an inline image.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    #: The one-click unsubscribe address (`List-Unsubscribe`, RFC 8058) of a mail of a category
    #: the person can turn off; None for transactional mail.
    list_unsubscribe: Mapped[str | None] = mapped_column(String(1000), default=None)
    #: The notification category the mail belongs to, when it is one.
    category: Mapped[str | None] = mapped_column(String(40), default=None)
