"""Submissions, their immutable versions and files, the processing pipeline's state, fetched
links, text fingerprints and duplicate flags.

Limits the database holds: one submission per team per event (UNIQUE (event_id, team_id));
version numbers unique per submission (UNIQUE (submission_id, number)), allocated under the
submission row lock so they have no gaps; one pipeline step row per version and step; one flag
per pair of submissions and kind. Every child points at its parent through a composite key
with the tenant, so nothing can hang under another organization's submission.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, EnumText, IdMixin, TimestampMixin


class SubmissionStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    DISQUALIFIED = "disqualified"


class PipelineStepName(enum.StrEnum):
    VALIDATE_FILES = "validate_files"
    EXTRACT_TEXT = "extract_text"
    FETCH_LINKS = "fetch_links"
    SIMILARITY = "similarity"


PIPELINE_ORDER = tuple(PipelineStepName)


class StepState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    DONE = "done"
    FAILED = "failed"


class SimilarityKind(enum.StrEnum):
    """What two submissions share: their text, or a file with the same bytes."""

    TEXT = "text"
    FILE = "file"


class FlagStatus(enum.StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    CONFIRMED = "confirmed"


def _tenant_fk(*columns: str, parent: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["org_id", *columns],
        [f"{parent}.org_id", *(f"{parent}.id" for _ in columns)],
        ondelete="CASCADE",
    )


class Submission(IdMixin, TimestampMixin, Base):
    __tablename__ = "submissions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"], ["events.org_id", "events.id"], ondelete="CASCADE"
        ),
        # A team with a submission cannot be deleted; disbanding is refused by the service.
        ForeignKeyConstraint(
            ["event_id", "team_id"], ["teams.event_id", "teams.id"], ondelete="RESTRICT"
        ),
        UniqueConstraint("event_id", "team_id"),
        UniqueConstraint("org_id", "id"),
        Index("ix_submissions_event_id_status", "event_id", "status"),
        Index("ix_submissions_search", "search", postgresql_using="gin"),
        Index("ix_submissions_technologies", "technologies", postgresql_using="gin"),
        Index("ix_submissions_track_ids", "track_ids", postgresql_using="gin"),
        CheckConstraint(
            "status IN ('draft', 'submitted', 'under_review', 'approved', 'rejected',"
            " 'disqualified')",
            name="status_valid",
        ),
        CheckConstraint("char_length(title) <= 200", name="title_length"),
        CheckConstraint("version_count >= 0", name="version_count_nonnegative"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    team_id: Mapped[uuid.UUID]
    status: Mapped[SubmissionStatus] = mapped_column(
        EnumText(SubmissionStatus, 16), server_default="draft"
    )
    title: Mapped[str] = mapped_column(String(200), server_default="")
    tagline: Mapped[str] = mapped_column(String(300), server_default="")
    description: Mapped[str] = mapped_column(Text, server_default="")
    description_html: Mapped[str] = mapped_column(Text, server_default="")
    repository_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    demo_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    video_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    technologies: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")
    track_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), server_default="{}")
    version_count: Mapped[int] = mapped_column(server_default=text("0"))
    latest_version_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    late: Mapped[bool] = mapped_column(server_default=text("false"))
    decision_reason: Mapped[str] = mapped_column(String(2000), server_default="")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    reopened_until: Mapped[datetime | None] = mapped_column(default=None)
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('english', coalesce(title, '')), 'A')"
            " || setweight(to_tsvector('english', coalesce(tagline, '')), 'B')"
            " || setweight(to_tsvector('english', coalesce(description, '')), 'C')",
            persisted=True,
        ),
    )


class SubmissionVersion(IdMixin, Base):
    """What was submitted, frozen: every field and the files' hashes, numbered, who and when."""

    __tablename__ = "submission_versions"
    __table_args__ = (
        _tenant_fk("submission_id", parent="submissions"),
        UniqueConstraint("submission_id", "number"),
        UniqueConstraint("org_id", "id"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID]
    number: Mapped[int]
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    submitted_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    late: Mapped[bool] = mapped_column(server_default=text("false"))


class SubmissionFile(IdMixin, Base):
    """A file of a submission. The storage key is made by the server; the name is only shown.
    Removed files keep their row and object while a version refers to them (`deleted_at`)."""

    __tablename__ = "submission_files"
    __table_args__ = (
        _tenant_fk("submission_id", parent="submissions"),
        UniqueConstraint("storage_key"),
        UniqueConstraint("org_id", "id"),
        Index("ix_submission_files_org_id_sha256", "org_id", "sha256"),
        Index("ix_submission_files_submission_id", "submission_id"),
        CheckConstraint("size >= 0", name="size_nonnegative"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID]
    storage_key: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    public: Mapped[bool] = mapped_column(server_default=text("false"))
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class PipelineStep(IdMixin, Base):
    """One step of the processing of one version: its state as the team and organizers see it."""

    __tablename__ = "pipeline_steps"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "version_id"],
            ["submission_versions.org_id", "submission_versions.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("version_id", "step"),
        Index("ix_pipeline_steps_submission_id", "submission_id"),
        Index("ix_pipeline_steps_event_id_state", "event_id", "state"),
        CheckConstraint(
            "step IN ('validate_files', 'extract_text', 'fetch_links', 'similarity')",
            name="step_valid",
        ),
        CheckConstraint(
            "state IN ('queued', 'running', 'retrying', 'done', 'failed')", name="state_valid"
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE")
    )
    version_id: Mapped[uuid.UUID]
    step: Mapped[PipelineStepName] = mapped_column(EnumText(PipelineStepName, 32))
    state: Mapped[StepState] = mapped_column(EnumText(StepState, 16), server_default="queued")
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    reason: Mapped[str] = mapped_column(Text, server_default="")
    retry_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    updated_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))


class VersionText(IdMixin, Base):
    """Text extracted from a version (its description, a PDF, a README in a ZIP, a web page)."""

    __tablename__ = "version_texts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "version_id"],
            ["submission_versions.org_id", "submission_versions.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("version_id", "source"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    version_id: Mapped[uuid.UUID]
    source: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)


class LinkCheck(IdMixin, Base):
    """What fetching one submitted URL found (extracted data; HTML snapshot in storage)."""

    __tablename__ = "link_checks"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "version_id"],
            ["submission_versions.org_id", "submission_versions.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("version_id", "url"),
        Index("ix_link_checks_submission_id", "submission_id"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE")
    )
    version_id: Mapped[uuid.UUID]
    url: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, server_default="")
    http_status: Mapped[int | None] = mapped_column(default=None)
    final_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    title: Mapped[str] = mapped_column(String(500), server_default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    snapshot_key: Mapped[str | None] = mapped_column(String(300), default=None)
    content_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    fetched_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))


class SubmissionFingerprint(Base):
    """MinHash signature and shingle hashes of a version's text, for exact Jaccard on candidates."""

    __tablename__ = "submission_fingerprints"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "version_id"],
            ["submission_versions.org_id", "submission_versions.id"],
            ondelete="CASCADE",
        ),
    )

    version_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE")
    )
    minhash: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    shingles: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    shingle_count: Mapped[int]


class SubmissionBand(Base):
    """LSH band hashes: candidate lookup is an index scan on (org_id, band, hash)."""

    __tablename__ = "submission_bands"
    __table_args__ = (
        ForeignKeyConstraint(
            ["version_id"], ["submission_fingerprints.version_id"], ondelete="CASCADE"
        ),
        Index("ix_submission_bands_lookup", "org_id", "band", "hash"),
    )

    version_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE")
    )
    hash: Mapped[int] = mapped_column(BigInteger)


class DuplicateFlag(IdMixin, Base):
    """A near-duplicate (text) or identical-file pair, for organizers to dismiss or confirm.
    `submission_id` is in this event; `other_submission_id` may be in an earlier event of the
    same organization. The pair is stored once per direction the check ran from."""

    __tablename__ = "duplicate_flags"
    __table_args__ = (
        _tenant_fk("submission_id", parent="submissions"),
        ForeignKeyConstraint(
            ["org_id", "other_submission_id"],
            ["submissions.org_id", "submissions.id"],
            ondelete="CASCADE",
        ),
        UniqueConstraint("submission_id", "other_submission_id", "kind"),
        Index("ix_duplicate_flags_event_id_status", "event_id", "status"),
        CheckConstraint("kind IN ('text', 'file')", name="kind_valid"),
        CheckConstraint("status IN ('open', 'dismissed', 'confirmed')", name="status_valid"),
        CheckConstraint("submission_id <> other_submission_id", name="distinct_pair"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID]
    other_submission_id: Mapped[uuid.UUID]
    kind: Mapped[SimilarityKind] = mapped_column(EnumText(SimilarityKind, 8))
    score: Mapped[float]
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    status: Mapped[FlagStatus] = mapped_column(EnumText(FlagStatus, 16), server_default="open")
    note: Mapped[str] = mapped_column(String(2000), server_default="")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
