"""Submissions, versions, files, the processing pipeline, link checks, fingerprints, duplicates.

- One submission per team per event (UNIQUE); versions numbered per submission (UNIQUE
  (submission_id, number)); a team with a submission cannot be deleted (FK RESTRICT).
- Children reference their parent with the tenant in the key, so no row can hang under another
  organization's submission; RLS forced on every new table.
- Candidate lookup for near-duplicates is an index scan on submission_bands (org_id, band, hash).
- Events gain file limits, late submissions and the gallery switch.

Revision ID: 0005_submissions
Revises: 0004_registrants_read_events
Create Date: 2026-11-23 10:53:44.520037+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_submissions"
down_revision: str | Sequence[str] | None = "0004_registrants_read_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "is_platform_admin() OR org_id = current_org_id()"
NEW_TENANT_TABLES = (
    "submissions",
    "submission_versions",
    "submission_files",
    "pipeline_steps",
    "version_texts",
    "link_checks",
    "submission_fingerprints",
    "submission_bands",
    "duplicate_flags",
)


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("title", sa.String(length=200), server_default="", nullable=False),
        sa.Column("tagline", sa.String(length=300), server_default="", nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("description_html", sa.Text(), server_default="", nullable=False),
        sa.Column("repository_url", sa.String(length=2000), nullable=True),
        sa.Column("demo_url", sa.String(length=2000), nullable=True),
        sa.Column("video_url", sa.String(length=2000), nullable=True),
        sa.Column(
            "technologies",
            postgresql.ARRAY(sa.String(length=64)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("track_ids", postgresql.ARRAY(sa.Uuid()), server_default="{}", nullable=False),
        sa.Column("version_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("latest_version_id", sa.Uuid(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("decision_reason", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopened_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(tagline, '')), 'B') || setweight(to_tsvector('english', coalesce(description, '')), 'C')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'under_review', 'approved', 'rejected', 'disqualified')",
            name=op.f("ck_submissions_status_valid"),
        ),
        sa.CheckConstraint("char_length(title) <= 200", name=op.f("ck_submissions_title_length")),
        sa.CheckConstraint(
            "version_count >= 0", name=op.f("ck_submissions_version_count_nonnegative")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_submissions_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id", "team_id"],
            ["teams.event_id", "teams.id"],
            name=op.f("fk_submissions_event_id_team_id_teams"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_submissions_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_submissions_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("event_id", "team_id", name=op.f("uq_submissions_event_id_team_id")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_submissions_org_id_id")),
    )
    op.create_index(
        "ix_submissions_event_id_status", "submissions", ["event_id", "status"], unique=False
    )
    op.create_index(
        "ix_submissions_search", "submissions", ["search"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_submissions_technologies",
        "submissions",
        ["technologies"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_submissions_track_ids",
        "submissions",
        ["track_ids"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "duplicate_flags",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("other_submission_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("note", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("kind IN ('text', 'file')", name=op.f("ck_duplicate_flags_kind_valid")),
        sa.CheckConstraint(
            "status IN ('open', 'dismissed', 'confirmed')",
            name=op.f("ck_duplicate_flags_status_valid"),
        ),
        sa.CheckConstraint(
            "submission_id <> other_submission_id", name=op.f("ck_duplicate_flags_distinct_pair")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_duplicate_flags_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_duplicate_flags_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "other_submission_id"],
            ["submissions.org_id", "submissions.id"],
            name=op.f("fk_duplicate_flags_org_id_other_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "submission_id"],
            ["submissions.org_id", "submissions.id"],
            name=op.f("fk_duplicate_flags_org_id_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_duplicate_flags_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_flags")),
        sa.UniqueConstraint(
            "submission_id",
            "other_submission_id",
            "kind",
            name=op.f("uq_duplicate_flags_submission_id_other_submission_id_kind"),
        ),
    )
    op.create_index(
        "ix_duplicate_flags_event_id_status",
        "duplicate_flags",
        ["event_id", "status"],
        unique=False,
    )
    op.create_table(
        "submission_files",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("public", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_submission_files_sha256_hex")
        ),
        sa.CheckConstraint("size >= 0", name=op.f("ck_submission_files_size_nonnegative")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_submission_files_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "submission_id"],
            ["submissions.org_id", "submissions.id"],
            name=op.f("fk_submission_files_org_id_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_submission_files_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_submission_files_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
            name=op.f("fk_submission_files_uploaded_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_files")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_submission_files_org_id_id")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_submission_files_storage_key")),
    )
    op.create_index(
        "ix_submission_files_org_id_sha256", "submission_files", ["org_id", "sha256"], unique=False
    )
    op.create_index(
        "ix_submission_files_submission_id", "submission_files", ["submission_id"], unique=False
    )
    op.create_table(
        "submission_versions",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "files", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.Column("submitted_by", sa.Uuid(), nullable=True),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("late", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("number >= 1", name=op.f("ck_submission_versions_number_positive")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_submission_versions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "submission_id"],
            ["submissions.org_id", "submissions.id"],
            name=op.f("fk_submission_versions_org_id_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_submission_versions_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"],
            ["users.id"],
            name=op.f("fk_submission_versions_submitted_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_versions")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_submission_versions_org_id_id")),
        sa.UniqueConstraint(
            "submission_id", "number", name=op.f("uq_submission_versions_submission_id_number")
        ),
    )
    op.create_table(
        "link_checks",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("final_url", sa.String(length=2000), nullable=True),
        sa.Column("title", sa.String(length=500), server_default="", nullable=False),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("snapshot_key", sa.String(length=300), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column(
            "fetched_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "version_id"],
            ["submission_versions.org_id", "submission_versions.id"],
            name=op.f("fk_link_checks_org_id_version_id_submission_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_link_checks_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_link_checks_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_checks")),
        sa.UniqueConstraint("version_id", "url", name=op.f("uq_link_checks_version_id_url")),
    )
    op.create_index("ix_link_checks_submission_id", "link_checks", ["submission_id"], unique=False)
    op.create_table(
        "pipeline_steps",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "result", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'retrying', 'done', 'failed')",
            name=op.f("ck_pipeline_steps_state_valid"),
        ),
        sa.CheckConstraint(
            "step IN ('validate_files', 'extract_text', 'fetch_links', 'similarity')",
            name=op.f("ck_pipeline_steps_step_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_pipeline_steps_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "version_id"],
            ["submission_versions.org_id", "submission_versions.id"],
            name=op.f("fk_pipeline_steps_org_id_version_id_submission_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_pipeline_steps_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_pipeline_steps_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_steps")),
        sa.UniqueConstraint("version_id", "step", name=op.f("uq_pipeline_steps_version_id_step")),
    )
    op.create_index(
        "ix_pipeline_steps_event_id_state", "pipeline_steps", ["event_id", "state"], unique=False
    )
    op.create_index(
        "ix_pipeline_steps_submission_id", "pipeline_steps", ["submission_id"], unique=False
    )
    op.create_table(
        "submission_fingerprints",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("minhash", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("shingles", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("shingle_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_submission_fingerprints_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "version_id"],
            ["submission_versions.org_id", "submission_versions.id"],
            name=op.f("fk_submission_fingerprints_org_id_version_id_submission_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_submission_fingerprints_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_fingerprints_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_submission_fingerprints")),
    )
    op.create_table(
        "version_texts",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "version_id"],
            ["submission_versions.org_id", "submission_versions.id"],
            name=op.f("fk_version_texts_org_id_version_id_submission_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_version_texts_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_version_texts")),
        sa.UniqueConstraint(
            "version_id", "source", name=op.f("uq_version_texts_version_id_source")
        ),
    )
    op.create_table(
        "submission_bands",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("band", sa.SmallInteger(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("hash", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_submission_bands_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_submission_bands_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_submission_bands_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["submission_fingerprints.version_id"],
            name=op.f("fk_submission_bands_version_id_submission_fingerprints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "band", name=op.f("pk_submission_bands")),
    )
    op.create_index(
        "ix_submission_bands_lookup", "submission_bands", ["org_id", "band", "hash"], unique=False
    )
    op.add_column(
        "events",
        sa.Column(
            "file_max_bytes", sa.BigInteger(), server_default=sa.text("26214400"), nullable=False
        ),
    )
    op.add_column(
        "events",
        sa.Column("file_max_count", sa.Integer(), server_default=sa.text("10"), nullable=False),
    )
    op.add_column(
        "events",
        sa.Column(
            "file_types",
            postgresql.ARRAY(sa.String(length=16)),
            server_default="{pdf,png,jpeg,zip,mp4}",
            nullable=False,
        ),
    )
    op.add_column(
        "events",
        sa.Column(
            "late_submissions", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.add_column(
        "events", sa.Column("gallery_opened_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(
        "CREATE TRIGGER submissions_set_updated_at BEFORE UPDATE ON submissions"
        " FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    for table in NEW_TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING ({TENANT}) WITH CHECK ({TENANT})"
        )


def downgrade() -> None:
    op.drop_column("events", "gallery_opened_at")
    op.drop_column("events", "late_submissions")
    op.drop_column("events", "file_types")
    op.drop_column("events", "file_max_count")
    op.drop_column("events", "file_max_bytes")
    op.drop_index("ix_submission_bands_lookup", table_name="submission_bands")
    op.drop_table("submission_bands")
    op.drop_table("version_texts")
    op.drop_table("submission_fingerprints")
    op.drop_index("ix_pipeline_steps_submission_id", table_name="pipeline_steps")
    op.drop_index("ix_pipeline_steps_event_id_state", table_name="pipeline_steps")
    op.drop_table("pipeline_steps")
    op.drop_index("ix_link_checks_submission_id", table_name="link_checks")
    op.drop_table("link_checks")
    op.drop_table("submission_versions")
    op.drop_index("ix_submission_files_submission_id", table_name="submission_files")
    op.drop_index("ix_submission_files_org_id_sha256", table_name="submission_files")
    op.drop_table("submission_files")
    op.drop_index("ix_duplicate_flags_event_id_status", table_name="duplicate_flags")
    op.drop_table("duplicate_flags")
    op.drop_index("ix_submissions_track_ids", table_name="submissions", postgresql_using="gin")
    op.drop_index("ix_submissions_technologies", table_name="submissions", postgresql_using="gin")
    op.drop_index("ix_submissions_search", table_name="submissions", postgresql_using="gin")
    op.drop_index("ix_submissions_event_id_status", table_name="submissions")
    op.drop_table("submissions")
