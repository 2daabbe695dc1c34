"""The notification centre: news held for daily digests (issue 13).

- `notification_digest_items`: one row per piece of news waiting for a person's daily digest
  mail (their email for its category is set to digest), unique per (person, dedupe key) like
  the in-app notification of the same news; the digest job deletes the rows it mails in the
  transaction that queues the mail. A person's own rows (RLS), like `notifications`.

The in-app centre, its unread badge and live push need nothing new: `notifications` already
has `ix_notifications_user_recent` (keyset pages) and `ix_notifications_unread` (the badge).

Revision ID: 0017_notification_centre
Revises: 0016_outbox_notifications
Create Date: 2026-12-07 00:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_notification_centre"
down_revision: str | None = "0016_outbox_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_digest_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("link", sa.String(length=1000), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_digest_items_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_digest_items")),
        sa.UniqueConstraint(
            "user_id", "dedupe_key", name=op.f("uq_notification_digest_items_user_id_dedupe_key")
        ),
    )
    op.create_index(
        "ix_notification_digest_items_user_created",
        "notification_digest_items",
        ["user_id", "created_at"],
    )
    op.create_index(
        "ix_notification_digest_items_created_at", "notification_digest_items", ["created_at"]
    )
    op.execute("ALTER TABLE notification_digest_items ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE notification_digest_items FORCE ROW LEVEL SECURITY")
    op.execute(
        """
        CREATE POLICY own_rows ON notification_digest_items
          USING (is_platform_admin() OR user_id = current_app_user_id())
          WITH CHECK (is_platform_admin() OR user_id = current_app_user_id());
        """
    )


def downgrade() -> None:
    op.drop_table("notification_digest_items")
