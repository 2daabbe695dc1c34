"""Outbound webhooks: endpoints, secrets, deliveries (issue 13).

- `webhook_endpoints`: an organization's endpoints (URL, event types — NULL for all —,
  description, on/off with the reason), the signing secret sealed with a key derived from
  SECRET_KEY (and the previous one during a rotation's overlap), the failure streak that turns
  an endpoint off.
- `webhook_deliveries`: one row per (endpoint, outbox event), UNIQUE, so a second fan-out of an
  event adds nothing; its status and retry schedule.
- `webhook_attempts`: the delivery log, one row per HTTP request (status, latency, excerpt,
  error), UNIQUE per (delivery, number).
All three are tenant rows under forced RLS.

Revision ID: 0020_webhooks
Revises: 0019_announcements_reminders
Create Date: 2026-12-07 00:40:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020_webhooks"
down_revision: str | None = "0019_announcements_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("webhook_endpoints", "webhook_deliveries", "webhook_attempts")


def _now(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("app_now()"), nullable=nullable
    )


def _org(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id"],
        ["organizations.id"],
        name=op.f(f"fk_{table}_org_id_organizations"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=500), server_default="", nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=80)), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("previous_secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "consecutive_failures", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        _now("created_at"),
        _now("updated_at"),
        sa.CheckConstraint(
            "char_length(url) BETWEEN 1 AND 2000", name=op.f("ck_webhook_endpoints_url_length")
        ),
        sa.CheckConstraint(
            "event_types IS NULL OR cardinality(event_types) > 0",
            name=op.f("ck_webhook_endpoints_event_types_not_empty"),
        ),
        sa.CheckConstraint(
            "(previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL)",
            name=op.f("ck_webhook_endpoints_previous_secret_with_expiry"),
        ),
        sa.CheckConstraint(
            "consecutive_failures >= 0", name=op.f("ck_webhook_endpoints_failures_not_negative")
        ),
        _org("webhook_endpoints"),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_webhook_endpoints_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index(
        "ix_webhook_endpoints_org_id_created_at", "webhook_endpoints", ["org_id", "created_at"]
    )
    op.execute(
        "CREATE TRIGGER webhook_endpoints_set_updated_at BEFORE UPDATE ON webhook_endpoints"
        " FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("outbox_event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("job_token", sa.Uuid(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), server_default="", nullable=False),
        _now("created_at"),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')",
            name=op.f("ck_webhook_deliveries_status_valid"),
        ),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_webhook_deliveries_attempts_not_negative")
        ),
        _org("webhook_deliveries"),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["outbox_event_id"],
            ["outbox_events.id"],
            name=op.f("fk_webhook_deliveries_outbox_event_id_outbox_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "endpoint_id",
            "outbox_event_id",
            name=op.f("uq_webhook_deliveries_endpoint_id_outbox_event_id"),
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_recent",
        "webhook_deliveries",
        ["endpoint_id", "created_at", "id"],
    )
    op.create_index(
        "ix_webhook_deliveries_outbox_event_id", "webhook_deliveries", ["outbox_event_id"]
    )
    op.create_index("ix_webhook_deliveries_created_at", "webhook_deliveries", ["created_at"])

    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("manual", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        _now("started_at"),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("succeeded", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("response_excerpt", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("error", sa.String(length=500), server_default="", nullable=False),
        sa.CheckConstraint("number >= 1", name=op.f("ck_webhook_attempts_number_positive")),
        sa.CheckConstraint(
            "latency_ms >= 0", name=op.f("ck_webhook_attempts_latency_not_negative")
        ),
        _org("webhook_attempts"),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_attempts_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
        sa.UniqueConstraint(
            "delivery_id", "number", name=op.f("uq_webhook_attempts_delivery_id_number")
        ),
    )
    op.create_index(
        "ix_webhook_attempts_endpoint_id_started_at",
        "webhook_attempts",
        ["endpoint_id", "started_at"],
    )

    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table}"
            " USING (is_platform_admin() OR org_id = current_org_id())"
            " WITH CHECK (is_platform_admin() OR org_id = current_org_id())"
        )


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
