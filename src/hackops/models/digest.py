"""The notification centre's own rows: news waiting for a person's daily digest mail."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, IdMixin


class NotificationDigestItem(IdMixin, Base):
    """One piece of news held for a person's daily digest (their email for its category is set
    to digest). The digest job lists and deletes a person's items in the transaction that
    queues their digest mail, so each item is mailed once."""

    __tablename__ = "notification_digest_items"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notification_digest_items_user_created", "user_id", "created_at"),
        Index("ix_notification_digest_items_created_at", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: The same key as the in-app notification of the same news: a second fan-out adds nothing.
    dedupe_key: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, server_default="")
    link: Mapped[str] = mapped_column(String(1000), server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
