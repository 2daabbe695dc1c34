"""Organizer announcements and scheduled reminders (issue 13).

- `announcements`: an organizer's message to a segment of an event (draft, scheduled, sent,
  cancelled); `ix_announcements_due` finds the scheduled ones that fell due.
- `announcement_recipients`: whom its audience resolved to at dispatch.
- `event_reminders`: the reminders switched on per event; `reminder_claims`: one row per
  reminder that fell due (event, kind, occurrence), claimed with INSERT … ON CONFLICT.
- `organizations.max_announcements_per_month`: the plan's cap.
- `announcement_figures(ids)`: delivery figures of announcements of the current tenant. The
  in-app notifications it counts are their owners' own rows under RLS, so the function lifts
  the filter for its own duration (`SET hackops.platform_admin`, as `sole_owned_orgs`) and
  answers only for the announcements of the transaction's tenant (`current_org_id()`).
All four tables are tenant tables with forced RLS.

Revision ID: 0019_announcements_reminders
Revises: 0018_email_templates
Create Date: 2026-12-07 00:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019_announcements_reminders"
down_revision: str | None = "0018_email_templates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "is_platform_admin() OR org_id = current_org_id()"
TABLES = ("announcements", "announcement_recipients", "event_reminders", "reminder_claims")
AUDIENCES = (
    "registered",
    "waitlisted",
    "checked_in",
    "teams_without_submission",
    "judges_unfinished",
    "track",
    "mentors",
)
KINDS = (
    "registration_closing",
    "submissions_closing_24h",
    "submissions_closing_1h",
    "judging_daily",
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _event_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id", "event_id"],
        ["events.org_id", "events.id"],
        name=op.f(f"fk_{table}_org_id_event_id_events"),
        ondelete="CASCADE",
    )


def _org_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["org_id"],
        ["organizations.id"],
        name=op.f(f"fk_{table}_org_id_organizations"),
        ondelete="CASCADE",
    )


FIGURES = """
CREATE FUNCTION announcement_figures(p_announcements uuid[])
RETURNS TABLE (announcement_id uuid, recipients bigint, in_app bigint, read bigint,
               mails_queued bigint, mails_sent bigint, mails_failed bigint)
LANGUAGE sql STABLE SECURITY INVOKER
SET hackops.platform_admin = 'on'
SET search_path = public, pg_temp
AS $$
  SELECT a.id,
         count(r.user_id),
         count(n.id),
         count(n.read_at),
         count(m.id),
         count(m.sent_at),
         count(m.id) FILTER (WHERE m.sent_at IS NULL AND m.last_error <> '')
  FROM announcements a
  LEFT JOIN announcement_recipients r ON r.announcement_id = a.id
  LEFT JOIN notifications n
    ON n.user_id = r.user_id AND n.dedupe_key = a.outbox_event_id::text
  LEFT JOIN outbound_emails m
    ON m.dedupe_key = a.outbox_event_id::text || ':' || r.user_id::text
  WHERE a.id = ANY (p_announcements) AND a.org_id = current_org_id()
  GROUP BY a.id
$$;
"""


def upgrade() -> None:
    op.add_column(
        "organizations",
        sa.Column(
            "max_announcements_per_month",
            sa.Integer(),
            server_default=sa.text("60"),
            nullable=False,
        ),
    )
    op.create_check_constraint(
        op.f("ck_organizations_max_announcements_per_month_nonnegative"),
        "organizations",
        "max_announcements_per_month >= 0",
    )

    op.create_table(
        "announcements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(length=32), nullable=False),
        sa.Column("track_id", sa.Uuid(), nullable=True),
        sa.Column("channels", postgresql.ARRAY(sa.String(length=16)), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outbox_event_id", sa.Uuid(), nullable=True),
        sa.Column("recipient_count", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
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
            _in("status", ("draft", "scheduled", "sent", "cancelled")),
            name=op.f("ck_announcements_status_valid"),
        ),
        sa.CheckConstraint(
            _in("audience", AUDIENCES), name=op.f("ck_announcements_audience_valid")
        ),
        sa.CheckConstraint(
            "(audience = 'track') = (track_id IS NOT NULL)",
            name=op.f("ck_announcements_track_audience"),
        ),
        sa.CheckConstraint(
            "cardinality(channels) >= 1 AND channels <@ ARRAY['in_app', 'email']::varchar[]",
            name=op.f("ck_announcements_channels_valid"),
        ),
        sa.CheckConstraint(
            "char_length(title) BETWEEN 1 AND 200", name=op.f("ck_announcements_title_length")
        ),
        sa.CheckConstraint(
            "status <> 'scheduled' OR send_at IS NOT NULL",
            name=op.f("ck_announcements_scheduled_has_time"),
        ),
        sa.CheckConstraint(
            "status <> 'sent' OR sent_at IS NOT NULL", name=op.f("ck_announcements_sent_has_time")
        ),
        _event_fk("announcements"),
        _org_fk("announcements"),
        sa.ForeignKeyConstraint(
            ["outbox_event_id"],
            ["outbox_events.id"],
            name=op.f("fk_announcements_outbox_event_id_outbox_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_announcements_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_announcements_org_id_id")),
    )
    op.create_index(
        "ix_announcements_event_id_created_at", "announcements", ["event_id", "created_at"]
    )
    op.create_index("ix_announcements_org_id_queued_at", "announcements", ["org_id", "queued_at"])
    op.execute(
        "CREATE INDEX ix_announcements_due ON announcements (send_at) WHERE status = 'scheduled'"
    )
    op.execute(
        "CREATE TRIGGER announcements_set_updated_at BEFORE UPDATE ON announcements"
        " FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )

    op.create_table(
        "announcement_recipients",
        sa.Column("announcement_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "announcement_id"],
            ["announcements.org_id", "announcements.id"],
            name=op.f("fk_announcement_recipients_org_id_announcement_id_announcements"),
            ondelete="CASCADE",
        ),
        _org_fk("announcement_recipients"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_announcement_recipients_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "announcement_id", "user_id", name=op.f("pk_announcement_recipients")
        ),
    )

    op.create_table(
        "event_reminders",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "registration_closing", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "submissions_closing", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("judging_daily", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("judging_hour", sa.SmallInteger(), server_default=sa.text("9"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "judging_hour BETWEEN 0 AND 23", name=op.f("ck_event_reminders_judging_hour_range")
        ),
        _event_fk("event_reminders"),
        _org_fk("event_reminders"),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_reminders")),
    )

    op.create_table(
        "reminder_claims",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("occurrence", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "claimed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_reminder_claims_kind_valid")),
        _event_fk("reminder_claims"),
        _org_fk("reminder_claims"),
        sa.PrimaryKeyConstraint("event_id", "kind", "occurrence", name=op.f("pk_reminder_claims")),
    )

    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING ({TENANT}) WITH CHECK ({TENANT})"
        )
    op.execute(FIGURES)


def downgrade() -> None:
    op.execute("DROP FUNCTION announcement_figures(uuid[])")
    for table in reversed(TABLES):
        op.drop_table(table)
    op.drop_constraint(
        op.f("ck_organizations_max_announcements_per_month_nonnegative"), "organizations"
    )
    op.drop_column("organizations", "max_announcements_per_month")
