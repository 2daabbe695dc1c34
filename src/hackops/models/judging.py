"""Judging: criteria, declared conflicts, judge assignments, evaluations and their history.

Limits the database holds (migration 0006):
- one evaluation per judge per submission (UNIQUE (judge_id, submission_id));
- a conflicted judge never stores a score: a trigger on evaluations refuses a judge who is a
  member of the submitting team, registered as a participant of the event, or has a declared
  conflict with the team; it first locks the team row (FOR SHARE), and joining a team locks it
  FOR UPDATE, so "judge joins the team" and "judge scores the team" are serialized;
- when the conflict appears later (the judge joins the team), a trigger on team_members deletes
  the judge's evaluations of that team and withdraws the assignments, in the same transaction;
- every insert and update of an evaluation is copied to evaluation_history (trigger), with who
  and when;
- once the event's results are published, no statement writes an evaluation or a pairwise
  judgment of it (triggers, migration 0022: `ck_evaluations_results_frozen`,
  `ck_pairwise_entries_results_frozen`), and joining or registering no longer deletes scores;
- a criterion's name is unique per event, case-insensitively (`uq_judging_criteria_event_id_name`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, EnumText, IdMixin, TimestampMixin


class ConflictSource(enum.StrEnum):
    JUDGE = "judge"
    ORGANIZER = "organizer"


class AssignmentState(enum.StrEnum):
    ASSIGNED = "assigned"
    WITHDRAWN = "withdrawn"


class EvaluationStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class PairwiseKind(enum.StrEnum):
    COMPARISON = "comparison"
    SKIP = "skip"


#: Why a judge flags a project to the organizers (no docstring: the API shows an enum's).
class FlagReason(enum.StrEnum):
    BROKEN = "broken"
    CODE_OF_CONDUCT = "code_of_conduct"
    INELIGIBLE = "ineligible"
    OTHER = "other"


#: A judge's flag: open until an organizer resolves it with a note.
class FlagState(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


def _event_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
    )


class Criterion(IdMixin, Base):
    __tablename__ = "judging_criteria"
    __table_args__ = (
        _event_fk(),
        CheckConstraint("weight > 0 AND weight <= 100", name="weight_range"),
        CheckConstraint("max_score BETWEEN 1 AND 100", name="max_score_range"),
        CheckConstraint("char_length(name) BETWEEN 1 AND 100", name="name_length"),
        Index("ix_judging_criteria_event_id", "event_id"),
        Index("uq_judging_criteria_event_id_name", "event_id", text("lower(name)"), unique=True),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    track_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("event_tracks.id", ondelete="CASCADE"), default=None
    )
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(2000), server_default="")
    weight: Mapped[float] = mapped_column(server_default=text("1"))
    max_score: Mapped[int] = mapped_column(server_default=text("10"))
    position: Mapped[int] = mapped_column(server_default=text("0"))


class JudgeConflict(IdMixin, Base):
    __tablename__ = "judge_conflicts"
    __table_args__ = (
        _event_fk(),
        UniqueConstraint("event_id", "judge_id", "team_id"),
        CheckConstraint("source IN ('judge', 'organizer')", name="source_valid"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    judge_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    source: Mapped[ConflictSource] = mapped_column(EnumText(ConflictSource, 16))
    reason: Mapped[str] = mapped_column(String(500), server_default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))


class JudgeAssignment(IdMixin, Base):
    __tablename__ = "judge_assignments"
    __table_args__ = (
        _event_fk(),
        UniqueConstraint("event_id", "judge_id", "submission_id"),
        Index("ix_judge_assignments_judge_id", "judge_id", "event_id"),
        CheckConstraint("state IN ('assigned', 'withdrawn')", name="state_valid"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    judge_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE")
    )
    state: Mapped[AssignmentState] = mapped_column(
        EnumText(AssignmentState, 16), server_default="assigned"
    )
    reason: Mapped[str] = mapped_column(String(300), server_default="")
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))


class Evaluation(IdMixin, TimestampMixin, Base):
    __tablename__ = "evaluations"
    __table_args__ = (
        _event_fk(),
        UniqueConstraint("judge_id", "submission_id"),
        Index("ix_evaluations_event_id_submission_id", "event_id", "submission_id"),
        CheckConstraint("status IN ('draft', 'submitted')", name="status_valid"),
        CheckConstraint("raw_score IS NULL OR raw_score BETWEEN 0 AND 100", name="raw_range"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    judge_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE")
    )
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    scores: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    raw_score: Mapped[float | None] = mapped_column(default=None)
    private_comment: Mapped[str] = mapped_column(Text, server_default="")
    feedback: Mapped[str] = mapped_column(Text, server_default="")
    status: Mapped[EvaluationStatus] = mapped_column(
        EnumText(EvaluationStatus, 16), server_default="draft"
    )
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)


class EvaluationHistory(IdMixin, Base):
    __tablename__ = "evaluation_history"
    __table_args__ = (Index("ix_evaluation_history_evaluation_id", "evaluation_id"),)

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    evaluation_id: Mapped[uuid.UUID]
    judge_id: Mapped[uuid.UUID]
    submission_id: Mapped[uuid.UUID]
    scores: Mapped[dict[str, Any]] = mapped_column(JSONB)
    raw_score: Mapped[float | None]
    private_comment: Mapped[str] = mapped_column(Text)
    feedback: Mapped[str] = mapped_column(Text)
    status: Mapped[EvaluationStatus] = mapped_column(EnumText(EvaluationStatus, 16))
    changed_by: Mapped[uuid.UUID | None]
    changed_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))


class JudgingVersion(Base):
    """A counter per event, bumped by a trigger in the transaction of every evaluation change:
    leaderboard cache keys carry it, so a committed score change is a new key (transactional
    invalidation) and an uncommitted one is never visible."""

    __tablename__ = "judging_versions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class PairwiseEntry(IdMixin, Base):
    """One pairwise judgment (or skip), in order. The Crowd-BT state is replayed from these;
    undo marks an entry undone (kept, audited)."""

    __tablename__ = "pairwise_entries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        Index("ix_pairwise_entries_event_id_seq", "event_id", "seq"),
        CheckConstraint("kind IN ('comparison', 'skip')", name="kind_valid"),
        CheckConstraint("first_id <> second_id", name="distinct_items"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    judge_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[PairwiseKind] = mapped_column(EnumText(PairwiseKind, 16))
    first_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    second_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    undone: Mapped[bool] = mapped_column(server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))


class PairwiseCurrent(Base):
    """The pair a judge is looking at now (busy items for the others)."""

    __tablename__ = "pairwise_current"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    judge_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    first_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    second_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    shown_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))


class JudgingChange(Base):
    """The evaluation change log: one row per evaluation write, numbered by the event's judging
    version (written by the same trigger that bumps it, so versions and rows commit together and
    in order). The live leaderboard applies the rows after the version it last saw instead of
    reloading every evaluation. `raw_score` is NULL when the evaluation no longer counts (a draft,
    or deleted)."""

    __tablename__ = "judging_changes"
    __table_args__ = (_event_fk(),)

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    judge_id: Mapped[uuid.UUID]
    submission_id: Mapped[uuid.UUID]
    raw_score: Mapped[float | None]


class JudgingFlag(IdMixin, Base):
    """A judge flags a submission to the organizers (broken, code of conduct, ...); an organizer
    resolves it with a note. One open flag per judge per submission."""

    __tablename__ = "judging_flags"
    __table_args__ = (
        _event_fk(),
        CheckConstraint(
            "reason IN ('broken', 'code_of_conduct', 'ineligible', 'other')", name="reason_valid"
        ),
        CheckConstraint("status IN ('open', 'resolved')", name="status_valid"),
        Index("ix_judging_flags_event_id_status", "event_id", "status"),
        Index(
            "uq_judging_flags_open_per_judge",
            "judge_id",
            "submission_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    submission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE")
    )
    judge_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[FlagReason] = mapped_column(EnumText(FlagReason, 32))
    note: Mapped[str] = mapped_column(String(2000), server_default="")
    status: Mapped[FlagState] = mapped_column(EnumText(FlagState, 16), server_default="open")
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution: Mapped[str] = mapped_column(String(2000), server_default="")


class EventRoleInvitation(IdMixin, Base):
    """An invitation to an event role (judge, mentor, organizer) sent by email to someone who may
    have no account yet: the link (its SHA-256 stored) signs them in — creating the account with
    the address verified — and grants the role. One pending invitation per event, email and role."""

    __tablename__ = "event_role_invitations"
    __table_args__ = (
        _event_fk(),
        CheckConstraint("role IN ('organizer', 'judge', 'mentor')", name="role_valid"),
        Index(
            "uq_event_role_invitations_pending",
            "event_id",
            "email",
            "role",
            unique=True,
            postgresql_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
