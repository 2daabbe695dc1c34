"""An event's schedule (issue 14 §4): `schedule_items`, the talks, workshops, meals, deadlines
and other items of an event's agenda, each at a time (an optional end after its start), at a
place or a web link (http or https only). A tenant table with forced RLS; `(event_id,
starts_at)` serves the agenda in time order and the dashboard's next items.

Revision ID: 0027_schedule
Revises: 0026_exports_calendar
Create Date: 2026-12-07 01:40:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_schedule"
down_revision: str | None = "0026_exports_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "is_platform_admin() OR org_id = current_org_id()"
KINDS = ("talk", "workshop", "meal", "deadline", "other")


def upgrade() -> None:
    op.create_table(
        "schedule_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="other", nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("place", sa.String(length=300), server_default="", nullable=False),
        sa.Column("url", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("description", sa.String(length=2000), server_default="", nullable=False),
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
            "char_length(title) BETWEEN 1 AND 200", name=op.f("ck_schedule_items_title_length")
        ),
        sa.CheckConstraint(
            f"kind IN ({', '.join(repr(k) for k in KINDS)})",
            name=op.f("ck_schedule_items_kind_valid"),
        ),
        sa.CheckConstraint(
            "ends_at IS NULL OR ends_at > starts_at",
            name=op.f("ck_schedule_items_ends_after_start"),
        ),
        sa.CheckConstraint(
            "url = '' OR url ~ '^https?://'", name=op.f("ck_schedule_items_url_web")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_schedule_items_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_schedule_items_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_items")),
    )
    op.create_index(
        "ix_schedule_items_event_id_starts_at", "schedule_items", ["event_id", "starts_at"]
    )
    op.execute(
        "CREATE TRIGGER schedule_items_set_updated_at BEFORE UPDATE ON schedule_items"
        " FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute("ALTER TABLE schedule_items ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE schedule_items FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON schedule_items USING ({TENANT}) WITH CHECK ({TENANT})"
    )


def downgrade() -> None:
    op.drop_table("schedule_items")
