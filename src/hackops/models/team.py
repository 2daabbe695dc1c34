"""Teams of an event, their members, invitations and join requests.

Limits the database holds: one team per person per event (unique (event_id, user_id) on
members); team size (`teams.member_count`, kept by a trigger, checked against `max_members`);
members must be registered (FK to registrations on (event_id, user_id)); a member row belongs to a
team of the same event (FK on (event_id, team_id)).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Computed,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, EnumText, IdMixin, TimestampMixin


class TeamRole(enum.StrEnum):
    CAPTAIN = "captain"
    MEMBER = "member"


class InvitationStatus(enum.StrEnum):
    """A team invitation: pending until accepted, declined or revoked (`hackops.invitations`)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"


class JoinRequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class Team(IdMixin, TimestampMixin, Base):
    __tablename__ = "teams"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("event_id", "id"),
        UniqueConstraint("org_id", "id"),
        UniqueConstraint("join_code"),
        Index(
            "uq_teams_event_id_name",
            "event_id",
            text("lower(name)"),
            unique=True,
            postgresql_where=text("disbanded_at IS NULL"),
        ),
        Index("ix_teams_skills_wanted", "skills_wanted", postgresql_using="gin"),
        Index("ix_teams_search", "search", postgresql_using="gin"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 100", name="name_length"),
        CheckConstraint(
            "member_count >= 0 AND member_count <= max_members", name="size_within_max"
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(2000), server_default="")
    captain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    recruiting: Mapped[bool] = mapped_column(server_default=text("true"))
    skills_wanted: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")
    join_code: Mapped[str] = mapped_column(String(16))
    member_count: Mapped[int] = mapped_column(server_default=text("0"))
    max_members: Mapped[int]
    disbanded_at: Mapped[datetime | None] = mapped_column(default=None)
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('simple', coalesce(name, '')), 'A')"
            " || setweight(to_tsvector('english', coalesce(description, '')), 'B')",
            persisted=True,
        ),
    )


class TeamMember(IdMixin, Base):
    __tablename__ = "team_members"
    __table_args__ = (
        ForeignKeyConstraint(
            ["event_id", "team_id"], ["teams.event_id", "teams.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["event_id", "user_id"],
            ["registrations.event_id", "registrations.user_id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("event_id", "user_id"),
        UniqueConstraint("team_id", "user_id"),
        CheckConstraint("role IN ('captain', 'member')", name="role_valid"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    team_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[TeamRole] = mapped_column(EnumText(TeamRole, 16), server_default="member")
    joined_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))


class TeamInvitation(IdMixin, Base):
    __tablename__ = "team_invitations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["event_id", "team_id"], ["teams.event_id", "teams.id"], ondelete="CASCADE"
        ),
        CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'revoked')", name="status_valid"
        ),
        Index("ix_team_invitations_team_id", "team_id"),
        Index("ix_team_invitations_email", "email"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    team_id: Mapped[uuid.UUID]
    email: Mapped[str] = mapped_column(String(320))
    invited_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[InvitationStatus] = mapped_column(
        EnumText(InvitationStatus, 16), server_default="pending"
    )
    invited_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None] = mapped_column(default=None)


class JoinRequest(IdMixin, Base):
    __tablename__ = "team_join_requests"
    __table_args__ = (
        ForeignKeyConstraint(
            ["event_id", "team_id"], ["teams.event_id", "teams.id"], ondelete="CASCADE"
        ),
        CheckConstraint(
            "status IN ('pending', 'approved', 'declined', 'withdrawn')", name="status_valid"
        ),
        Index(
            "uq_team_join_requests_pending",
            "team_id",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    team_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(String(500), server_default="")
    status: Mapped[JoinRequestStatus] = mapped_column(
        EnumText(JoinRequestStatus, 16), server_default="pending"
    )
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), default=None
    )
