"""Public voting: one vote per account per track (UNIQUE), flagged when the account is newer
than the voting window; the event's voting window (a CHECK keeps it ordered). RLS forced.

Revision ID: 0009_voting
Revises: 0008_pairwise
Create Date: 2026-11-23 11:12:26.039281+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_voting"
down_revision: str | Sequence[str] | None = "0008_pairwise"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "is_platform_admin() OR org_id = current_org_id()"


def upgrade() -> None:
    op.create_table(
        "public_votes",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("track_key", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("flagged", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_public_votes_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_public_votes_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_public_votes_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_public_votes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_votes")),
        sa.UniqueConstraint(
            "event_id",
            "track_key",
            "user_id",
            name=op.f("uq_public_votes_event_id_track_key_user_id"),
        ),
    )
    op.add_column("events", sa.Column("voting_opens_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "events", sa.Column("voting_closes_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_check_constraint(
        "voting_window_ordered",
        "events",
        "voting_opens_at IS NULL OR voting_closes_at IS NULL OR voting_closes_at > voting_opens_at",
    )
    op.execute("ALTER TABLE public_votes ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE public_votes FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON public_votes USING ({TENANT}) WITH CHECK ({TENANT})"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_events_voting_window_ordered"), "events", type_="check")
    op.drop_column("events", "voting_closes_at")
    op.drop_column("events", "voting_opens_at")
    op.drop_table("public_votes")
