"""The domain-event outbox, in-app notifications and notification preferences (issue 13).

- `outbox_events`: one row per domain event, written in the transaction of the change
  (`hackops.outbox.emit`); `seq` orders the stream, `dispatched_at` is set by the fan-out,
  `published_at` by the broker relay. Tenant rows under RLS (platform events have no org).
- `notifications`: what one person is told in the app, unique per (person, dedupe key); a
  person reads and marks their own, whatever the tenant of the transaction.
- `notification_preferences`: a person's channel choice per category (own rows only).
- `outbound_emails.dedupe_key`: a mail queued at most once per key.

Revision ID: 0016_outbox_notifications
Revises: 0015_identity_linked_unproven
Create Date: 2026-12-07 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016_outbox_notifications"
down_revision: str | None = "0015_identity_linked_unproven"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("type", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("subject_type", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_outbox_events_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_outbox_events_seq")),
    )
    op.execute(
        "CREATE INDEX ix_outbox_events_unpublished ON outbox_events (seq)"
        " WHERE published_at IS NULL"
    )
    op.execute(
        "CREATE INDEX ix_outbox_events_undispatched ON outbox_events (occurred_at)"
        " WHERE dispatched_at IS NULL"
    )
    op.create_index("ix_outbox_events_org_seq", "outbox_events", ["org_id", "seq"])
    op.create_index("ix_outbox_events_occurred_at", "outbox_events", ["occurred_at"])

    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("outbox_event_id", sa.Uuid(), nullable=True),
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
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_notifications_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_event_id"],
            ["outbox_events.id"],
            name=op.f("fk_notifications_outbox_event_id_outbox_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "user_id", "dedupe_key", name=op.f("uq_notifications_user_id_dedupe_key")
        ),
    )
    op.create_index(
        "ix_notifications_user_recent", "notifications", ["user_id", "created_at", "id"]
    )
    op.execute(
        "CREATE INDEX ix_notifications_unread ON notifications (user_id) WHERE read_at IS NULL"
    )
    op.create_index("ix_notifications_created_at", "notifications", ["created_at"])

    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("digest", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "channel IN ('in_app', 'email')", name=op.f("ck_notification_preferences_channel_valid")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "category", "channel", name=op.f("pk_notification_preferences")
        ),
    )

    op.add_column("outbound_emails", sa.Column("dedupe_key", sa.String(length=200), nullable=True))
    op.create_unique_constraint(
        op.f("uq_outbound_emails_dedupe_key"), "outbound_emails", ["dedupe_key"]
    )

    for table in ("outbox_events", "notifications", "notification_preferences"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        """
        CREATE POLICY tenant_isolation ON outbox_events
          USING (is_platform_admin() OR org_id = current_org_id())
          WITH CHECK (is_platform_admin() OR org_id IS NULL OR org_id = current_org_id());
        CREATE POLICY own_rows ON notifications
          USING (is_platform_admin() OR user_id = current_app_user_id())
          WITH CHECK (is_platform_admin() OR user_id = current_app_user_id());
        CREATE POLICY own_rows ON notification_preferences
          USING (is_platform_admin() OR user_id = current_app_user_id())
          WITH CHECK (is_platform_admin() OR user_id = current_app_user_id());
        """
    )


def downgrade() -> None:
    op.drop_constraint(op.f("uq_outbound_emails_dedupe_key"), "outbound_emails", type_="unique")
    op.drop_column("outbound_emails", "dedupe_key")
    op.drop_table("notification_preferences")
    op.drop_table("notifications")
    op.drop_table("outbox_events")
