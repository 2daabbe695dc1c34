"""Public voting: one vote per verified account per track (or overall) per event.

UNIQUE (event_id, track_key, user_id) holds "one vote" (track_key is the track, or the nil UUID for
the overall vote); votes by accounts created after voting opened are kept and flagged.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, IdMixin

OVERALL = uuid.UUID(int=0)


class PublicVote(IdMixin, Base):
    __tablename__ = "public_votes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("event_id", "track_key", "user_id"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    track_key: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE")
    )
    flagged: Mapped[bool] = mapped_column(server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
