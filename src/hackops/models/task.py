"""Tasks: a team's board (team_id set, org_id set) or a person's own list (owner_id set, no org).

Removing a member unassigns their tasks (a trigger on team_members)."""

from __future__ import annotations

import enum
import uuid
from datetime import date

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, EnumText, IdMixin, TimestampMixin


class TaskStatus(enum.StrEnum):
    TODO = "todo"
    DOING = "doing"
    DONE = "done"


class TaskPriority(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


PRIORITY_RANK = {TaskPriority.LOW: 1, TaskPriority.MEDIUM: 2, TaskPriority.HIGH: 3}


class Task(IdMixin, TimestampMixin, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "team_id"], ["teams.org_id", "teams.id"], ondelete="CASCADE"
        ),
        CheckConstraint(
            "(team_id IS NOT NULL AND org_id IS NOT NULL AND owner_id IS NULL)"
            " OR (team_id IS NULL AND org_id IS NULL AND owner_id IS NOT NULL)",
            name="team_or_personal",
        ),
        CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="title_length"),
        CheckConstraint("char_length(description) <= 2000", name="description_length"),
        CheckConstraint("status IN ('todo', 'doing', 'done')", name="status_valid"),
        CheckConstraint("priority IN ('low', 'medium', 'high')", name="priority_valid"),
        CheckConstraint("priority_rank BETWEEN 1 AND 3", name="priority_rank_range"),
        Index("ix_tasks_team_id_position", "team_id", "position"),
        Index("ix_tasks_owner_id_position", "owner_id", "position"),
    )

    org_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), default=None
    )
    team_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), server_default="")
    status: Mapped[TaskStatus] = mapped_column(EnumText(TaskStatus, 8), server_default="todo")
    priority: Mapped[TaskPriority] = mapped_column(
        EnumText(TaskPriority, 8), server_default="medium"
    )
    priority_rank: Mapped[int] = mapped_column(SmallInteger, server_default=text("2"))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    due_date: Mapped[date | None] = mapped_column(default=None)
    position: Mapped[int] = mapped_column(BigInteger)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
