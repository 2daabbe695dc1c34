"""The public gallery's search table: one row per approved submission of an event whose gallery
is public (opened, event published, not private), and nothing else.

Why a table of its own: under row-level security PostgreSQL applies a policy's condition before
any condition that is not leakproof, and full-text `@@` and array `@>` are not, so on
`submissions` a gallery search reads every row of the tenant and cannot use the GIN indexes.
What is in this table is public by definition, so its read policy is `true` (the planner drops
it) and the indexes serve the search. The rows are written only by the database: triggers on
submissions, events and teams (migration 0034, functions owned by the migrations' role) keep
them in step within the transaction of each change; the application's role may only read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base


class GalleryEntry(Base):
    __tablename__ = "gallery_entries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["org_id", "submission_id"],
            ["submissions.org_id", "submissions.id"],
            ondelete="CASCADE",
        ),
        Index("ix_gallery_entries_search", "search", postgresql_using="gin"),
        Index("ix_gallery_entries_technologies", "technologies", postgresql_using="gin"),
        Index("ix_gallery_entries_track_ids", "track_ids", postgresql_using="gin"),
        Index("ix_gallery_entries_event_title", "event_id", text("lower(title)"), "submission_id"),
    )

    submission_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    team_id: Mapped[uuid.UUID]
    team_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    tagline: Mapped[str] = mapped_column(String(300))
    technologies: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    track_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    submitted_at: Mapped[datetime | None]
    search: Mapped[Any] = mapped_column(TSVECTOR)
