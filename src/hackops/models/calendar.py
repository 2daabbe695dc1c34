"""A person's private calendar feed: the address of the ICS of "my events".

The address carries a random token; only its SHA-256 is stored (like sessions and API tokens),
so the database never holds a working address. One feed per person: making a new address
replaces the hash (the old address stops working at once); turning the feed off deletes the row.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, IdMixin


class CalendarFeed(IdMixin, Base):
    __tablename__ = "calendar_feeds"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
