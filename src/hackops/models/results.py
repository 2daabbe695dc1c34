"""Published results: the ranking frozen at publication, and the winners of each award.

Before `events.results_published_at` is set, nothing here is shown to anyone but organizers;
the snapshot makes what was published stable even if a score is edited later.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, IdMixin


class AwardWinner(IdMixin, Base):
    __tablename__ = "award_winners"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("award_id", "submission_id"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    award_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_awards.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE")
    )
    source: Mapped[str] = mapped_column(String(16), server_default="picked")
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))


class EventResult(Base):
    __tablename__ = "event_results"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(32))
    ranking: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    winners: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    published_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
