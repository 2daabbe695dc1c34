"""Judging extras: judges' flags to organizers, event role invitations (magic-link sign-in for
invited people without an account), the evaluation change log the live leaderboard applies
incrementally (written by the version-bump trigger, so rows and versions commit together), the
results breakdown switch. RLS forced on the new tables.

Revision ID: 0010_judging_extras
Revises: 0009_voting
Create Date: 2026-11-23 14:33:16.879371+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TENANT = "is_platform_admin() OR org_id = current_org_id()"
NEW_TENANT_TABLES = ("event_role_invitations", "judging_changes", "judging_flags")

BUMP_WITH_LOG = """
CREATE OR REPLACE FUNCTION evaluations_bump_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  row evaluations%ROWTYPE;
  counted double precision;
  next_version bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN row := OLD; ELSE row := NEW; END IF;
  INSERT INTO judging_versions (event_id, org_id, version)
  VALUES (row.event_id, row.org_id, 1)
  ON CONFLICT (event_id) DO UPDATE SET version = judging_versions.version + 1
  RETURNING version INTO next_version;
  IF TG_OP <> 'DELETE' AND row.status = 'submitted' THEN counted := row.raw_score; END IF;
  INSERT INTO judging_changes (event_id, version, org_id, judge_id, submission_id, raw_score)
  VALUES (row.event_id, next_version, row.org_id, row.judge_id, row.submission_id, counted);
  RETURN NULL;
END $$;
"""

BUMP_ONLY = """
CREATE OR REPLACE FUNCTION evaluations_bump_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE row evaluations%ROWTYPE;
BEGIN
  IF TG_OP = 'DELETE' THEN row := OLD; ELSE row := NEW; END IF;
  INSERT INTO judging_versions (event_id, org_id, version)
  VALUES (row.event_id, row.org_id, 1)
  ON CONFLICT (event_id) DO UPDATE SET version = judging_versions.version + 1;
  RETURN NULL;
END $$;
"""


revision: str = "0010_judging_extras"
down_revision: str | Sequence[str] | None = "0009_voting"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_role_invitations",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_id", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "role IN ('organizer', 'judge', 'mentor')",
            name=op.f("ck_event_role_invitations_role_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"],
            ["users.id"],
            name=op.f("fk_event_role_invitations_accepted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_event_role_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_event_role_invitations_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_event_role_invitations_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_role_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_event_role_invitations_token_hash")),
    )
    op.create_index(
        "uq_event_role_invitations_pending",
        "event_role_invitations",
        ["event_id", "email", "role"],
        unique=True,
        postgresql_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL"),
    )
    op.create_table(
        "judging_changes",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("judge_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("raw_score", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_judging_changes_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_judging_changes_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "version", name=op.f("pk_judging_changes")),
    )
    op.create_table(
        "judging_flags",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("judge_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "reason IN ('broken', 'code_of_conduct', 'ineligible', 'other')",
            name=op.f("ck_judging_flags_reason_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'resolved')", name=op.f("ck_judging_flags_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["judge_id"],
            ["users.id"],
            name=op.f("fk_judging_flags_judge_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_judging_flags_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_judging_flags_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["users.id"],
            name=op.f("fk_judging_flags_resolved_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_judging_flags_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judging_flags")),
    )
    op.create_index(
        "ix_judging_flags_event_id_status", "judging_flags", ["event_id", "status"], unique=False
    )
    op.create_index(
        "uq_judging_flags_open_per_judge",
        "judging_flags",
        ["judge_id", "submission_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.add_column(
        "events",
        sa.Column(
            "results_show_breakdown", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.drop_constraint("ck_one_time_tokens_purpose_valid", "one_time_tokens")
    op.create_check_constraint(
        "purpose_valid",
        "one_time_tokens",
        "purpose IN ('verify_email', 'reset_password', 'sign_in')",
    )
    op.execute(BUMP_WITH_LOG)
    for table in NEW_TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING ({TENANT}) WITH CHECK ({TENANT})"
        )


def downgrade() -> None:
    op.execute(BUMP_ONLY)
    op.execute("DELETE FROM one_time_tokens WHERE purpose = 'sign_in'")
    op.drop_constraint("ck_one_time_tokens_purpose_valid", "one_time_tokens")
    op.create_check_constraint(
        "purpose_valid", "one_time_tokens", "purpose IN ('verify_email', 'reset_password')"
    )
    op.drop_column("events", "results_show_breakdown")
    op.drop_index(
        "uq_judging_flags_open_per_judge",
        table_name="judging_flags",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index("ix_judging_flags_event_id_status", table_name="judging_flags")
    op.drop_table("judging_flags")
    op.drop_table("judging_changes")
    op.drop_index(
        "uq_event_role_invitations_pending",
        table_name="event_role_invitations",
        postgresql_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL"),
    )
    op.drop_table("event_role_invitations")
