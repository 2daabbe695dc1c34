"""Pairwise judging: the ordered log of comparisons and skips (Crowd-BT state is replayed from
it; undo marks an entry undone) and the pair each judge is looking at (busy items). RLS forced.

Revision ID: 0008_pairwise
Revises: 0007_results
Create Date: 2026-11-23 11:10:31.835625+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_pairwise"
down_revision: str | Sequence[str] | None = "0007_results"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "is_platform_admin() OR org_id = current_org_id()"


def upgrade() -> None:
    op.create_table(
        "pairwise_current",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("judge_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("first_id", sa.Uuid(), nullable=False),
        sa.Column("second_id", sa.Uuid(), nullable=False),
        sa.Column(
            "shown_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["first_id"],
            ["submissions.id"],
            name=op.f("fk_pairwise_current_first_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["judge_id"],
            ["users.id"],
            name=op.f("fk_pairwise_current_judge_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_pairwise_current_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_pairwise_current_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["second_id"],
            ["submissions.id"],
            name=op.f("fk_pairwise_current_second_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "judge_id", name=op.f("pk_pairwise_current")),
    )
    op.create_table(
        "pairwise_entries",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("judge_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("first_id", sa.Uuid(), nullable=False),
        sa.Column("second_id", sa.Uuid(), nullable=False),
        sa.Column("undone", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('comparison', 'skip')", name=op.f("ck_pairwise_entries_kind_valid")
        ),
        sa.CheckConstraint(
            "first_id <> second_id", name=op.f("ck_pairwise_entries_distinct_items")
        ),
        sa.ForeignKeyConstraint(
            ["first_id"],
            ["submissions.id"],
            name=op.f("fk_pairwise_entries_first_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["judge_id"],
            ["users.id"],
            name=op.f("fk_pairwise_entries_judge_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_pairwise_entries_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_pairwise_entries_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["second_id"],
            ["submissions.id"],
            name=op.f("fk_pairwise_entries_second_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairwise_entries")),
    )
    op.create_index(
        "ix_pairwise_entries_event_id_seq", "pairwise_entries", ["event_id", "seq"], unique=False
    )
    for table in ("pairwise_entries", "pairwise_current"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING ({TENANT}) WITH CHECK ({TENANT})"
        )


def downgrade() -> None:
    op.drop_index("ix_pairwise_entries_event_id_seq", table_name="pairwise_entries")
    op.drop_table("pairwise_entries")
    op.drop_table("pairwise_current")
