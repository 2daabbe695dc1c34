"""Events, registrations, teams and task boards, with the limits held by the database.

- Seats: a trigger keeps events.registered_count from the registrations' statuses; a CHECK on
  events keeps it within capacity, so no code path can oversell an event.
- Team size: a trigger keeps teams.member_count; a CHECK keeps it within max_members.
- One team per person per event: UNIQUE (event_id, user_id) on team_members; members must be
  registered: FK (event_id, user_id) -> registrations.
- Children point at their parents through composite keys that include the tenant or the event,
  so a row can never hang under another tenant's event or team.
- Removing a team member unassigns their tasks (trigger).
- RLS forced on every new tenant table; published public/unlisted events are readable by all.

Revision ID: 0003_events_teams_tasks
Revises: 0002_accounts_tenancy
Create Date: 2026-11-23 08:08:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_events_teams_tasks"
down_revision: str | Sequence[str] | None = "0002_accounts_tenancy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TENANT_TABLES = (
    "events",
    "event_tracks",
    "event_awards",
    "event_roles",
    "registrations",
    "teams",
    "team_members",
    "team_invitations",
    "team_join_requests",
    "tasks",
)
UPDATED_AT_TABLES = ("events", "registrations", "teams", "tasks")
TENANT = "is_platform_admin() OR org_id = current_org_id()"


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tagline", sa.String(length=300), server_default="", nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("description_html", sa.Text(), server_default="", nullable=False),
        sa.Column("mode", sa.String(length=16), server_default="online", nullable=False),
        sa.Column("venue", sa.String(length=300), server_default="", nullable=False),
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("registration_opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registration_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submissions_close_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("grace_minutes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("judging_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("registered_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("waitlist_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("team_min", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("team_max", sa.Integer(), server_default=sa.text("5"), nullable=False),
        sa.Column("visibility", sa.String(length=16), server_default="public", nullable=False),
        sa.Column(
            "allowed_email_domains",
            postgresql.ARRAY(sa.String(length=255)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "questions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("results_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('simple', coalesce(name, '')), 'A') || setweight(to_tsvector('english', coalesce(tagline, '')), 'B') || setweight(to_tsvector('english', coalesce(description, '')), 'C')",
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
            "mode IN ('online', 'in_person', 'hybrid')", name=op.f("ck_events_mode_valid")
        ),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'", name=op.f("ck_events_slug_format")
        ),
        sa.CheckConstraint(
            "visibility IN ('public', 'unlisted', 'private')",
            name=op.f("ck_events_visibility_valid"),
        ),
        sa.CheckConstraint(
            "capacity IS NULL OR capacity >= 0", name=op.f("ck_events_capacity_nonnegative")
        ),
        sa.CheckConstraint(
            "capacity IS NULL OR registered_count <= capacity",
            name=op.f("ck_events_registered_within_capacity"),
        ),
        sa.CheckConstraint(
            "char_length(name) BETWEEN 1 AND 200", name=op.f("ck_events_name_length")
        ),
        sa.CheckConstraint(
            "grace_minutes BETWEEN 0 AND 1440", name=op.f("ck_events_grace_minutes_range")
        ),
        sa.CheckConstraint(
            "judging_closes_at IS NULL OR submissions_close_at IS NULL OR judging_closes_at > submissions_close_at",
            name=op.f("ck_events_judging_window"),
        ),
        sa.CheckConstraint(
            "registered_count >= 0", name=op.f("ck_events_registered_count_nonnegative")
        ),
        sa.CheckConstraint(
            "registration_closes_at IS NULL OR registration_opens_at IS NULL OR registration_closes_at > registration_opens_at",
            name=op.f("ck_events_registration_window"),
        ),
        sa.CheckConstraint(
            "submissions_close_at IS NULL OR starts_at IS NULL OR submissions_close_at > starts_at",
            name=op.f("ck_events_submission_window"),
        ),
        sa.CheckConstraint(
            "team_min >= 1 AND team_max >= team_min AND team_max <= 100",
            name=op.f("ck_events_team_size"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_events_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_events_org_id_id")),
    )
    op.create_index("ix_events_public", "events", ["visibility", "published_at"], unique=False)
    op.create_index("ix_events_search", "events", ["search"], unique=False, postgresql_using="gin")
    op.create_index("uq_events_org_id_slug", "events", ["org_id", "slug"], unique=True)
    op.create_table(
        "event_roles",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "role IN ('organizer', 'judge', 'mentor')", name=op.f("ck_event_roles_role_valid")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_event_roles_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_event_roles_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_event_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_roles")),
        sa.UniqueConstraint(
            "event_id", "user_id", "role", name=op.f("uq_event_roles_event_id_user_id_role")
        ),
    )
    op.create_index("ix_event_roles_user_id", "event_roles", ["user_id"], unique=False)
    op.create_table(
        "event_tracks",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_event_tracks_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_event_tracks_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_tracks")),
        sa.UniqueConstraint("event_id", "id", name=op.f("uq_event_tracks_event_id_id")),
    )
    op.create_index(
        "uq_event_tracks_event_id_name",
        "event_tracks",
        ["event_id", sa.literal_column("lower(name)")],
        unique=True,
    )
    op.create_table(
        "registrations",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("queue_seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "answers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("checkin_code", sa.String(length=16), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_by_id", sa.Uuid(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=16), server_default="self", nullable=False),
        sa.Column(
            "looking_for_team", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "skills", postgresql.ARRAY(sa.String(length=64)), server_default="{}", nullable=False
        ),
        sa.Column("finder_note", sa.String(length=500), server_default="", nullable=False),
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
            "status IN ('registered', 'waitlisted', 'cancelled', 'checked_in')",
            name=op.f("ck_registrations_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["checked_in_by_id"],
            ["users.id"],
            name=op.f("fk_registrations_checked_in_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_registrations_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_registrations_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_registrations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
        sa.UniqueConstraint("checkin_code", name=op.f("uq_registrations_checkin_code")),
        sa.UniqueConstraint("event_id", "user_id", name=op.f("uq_registrations_event_id_user_id")),
    )
    op.create_index(
        "ix_registrations_event_id_status_queue_seq",
        "registrations",
        ["event_id", "status", "queue_seq"],
        unique=False,
    )
    op.create_index(
        "ix_registrations_skills", "registrations", ["skills"], unique=False, postgresql_using="gin"
    )
    op.create_index("ix_registrations_user_id", "registrations", ["user_id"], unique=False)
    op.create_table(
        "teams",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("captain_id", sa.Uuid(), nullable=False),
        sa.Column("recruiting", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "skills_wanted",
            postgresql.ARRAY(sa.String(length=64)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("join_code", sa.String(length=16), nullable=False),
        sa.Column("member_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_members", sa.Integer(), nullable=False),
        sa.Column("disbanded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('simple', coalesce(name, '')), 'A') || setweight(to_tsvector('english', coalesce(description, '')), 'B')",
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
            "char_length(name) BETWEEN 1 AND 100", name=op.f("ck_teams_name_length")
        ),
        sa.CheckConstraint(
            "member_count >= 0 AND member_count <= max_members",
            name=op.f("ck_teams_size_within_max"),
        ),
        sa.ForeignKeyConstraint(
            ["captain_id"],
            ["users.id"],
            name=op.f("fk_teams_captain_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_teams_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_teams_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("event_id", "id", name=op.f("uq_teams_event_id_id")),
        sa.UniqueConstraint("join_code", name=op.f("uq_teams_join_code")),
        sa.UniqueConstraint("org_id", "id", name=op.f("uq_teams_org_id_id")),
    )
    op.create_index("ix_teams_search", "teams", ["search"], unique=False, postgresql_using="gin")
    op.create_index(
        "ix_teams_skills_wanted", "teams", ["skills_wanted"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "uq_teams_event_id_name",
        "teams",
        ["event_id", sa.literal_column("lower(name)")],
        unique=True,
        postgresql_where=sa.text("disbanded_at IS NULL"),
    )
    op.create_table(
        "event_awards",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("track_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("prize", sa.String(length=300), server_default="", nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id", "track_id"],
            ["event_tracks.event_id", "event_tracks.id"],
            name=op.f("fk_event_awards_event_id_track_id_event_tracks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_event_awards_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_event_awards_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_awards")),
    )
    op.create_table(
        "tasks",
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("status", sa.String(length=8), server_default="todo", nullable=False),
        sa.Column("priority", sa.String(length=8), server_default="medium", nullable=False),
        sa.Column("priority_rank", sa.SmallInteger(), server_default=sa.text("2"), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
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
            "priority IN ('low', 'medium', 'high')", name=op.f("ck_tasks_priority_valid")
        ),
        sa.CheckConstraint(
            "status IN ('todo', 'doing', 'done')", name=op.f("ck_tasks_status_valid")
        ),
        sa.CheckConstraint(
            "(team_id IS NOT NULL AND org_id IS NOT NULL AND owner_id IS NULL) OR (team_id IS NULL AND org_id IS NULL AND owner_id IS NOT NULL)",
            name=op.f("ck_tasks_team_or_personal"),
        ),
        sa.CheckConstraint(
            "char_length(description) <= 2000", name=op.f("ck_tasks_description_length")
        ),
        sa.CheckConstraint(
            "char_length(title) BETWEEN 1 AND 200", name=op.f("ck_tasks_title_length")
        ),
        sa.CheckConstraint(
            "priority_rank BETWEEN 1 AND 3", name=op.f("ck_tasks_priority_rank_range")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_tasks_assignee_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_tasks_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "team_id"],
            ["teams.org_id", "teams.id"],
            name=op.f("fk_tasks_org_id_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_tasks_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_tasks_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index("ix_tasks_owner_id_position", "tasks", ["owner_id", "position"], unique=False)
    op.create_index("ix_tasks_team_id_position", "tasks", ["team_id", "position"], unique=False)
    op.create_table(
        "team_invitations",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("invited_user_id", sa.Uuid(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("invited_by_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'revoked')",
            name=op.f("ck_team_invitations_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id", "team_id"],
            ["teams.event_id", "teams.id"],
            name=op.f("fk_team_invitations_event_id_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_team_invitations_invited_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["invited_user_id"],
            ["users.id"],
            name=op.f("fk_team_invitations_invited_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_team_invitations_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_team_invitations_token_hash")),
    )
    op.create_index("ix_team_invitations_email", "team_invitations", ["email"], unique=False)
    op.create_index("ix_team_invitations_team_id", "team_invitations", ["team_id"], unique=False)
    op.create_table(
        "team_join_requests",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("message", sa.String(length=500), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'declined', 'withdrawn')",
            name=op.f("ck_team_join_requests_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_team_join_requests_decided_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["event_id", "team_id"],
            ["teams.event_id", "teams.id"],
            name=op.f("fk_team_join_requests_event_id_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_team_join_requests_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_team_join_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_join_requests")),
    )
    op.create_index(
        "uq_team_join_requests_pending",
        "team_join_requests",
        ["team_id", "user_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "team_members",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), server_default="member", nullable=False),
        sa.Column(
            "joined_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "role IN ('captain', 'member')", name=op.f("ck_team_members_role_valid")
        ),
        sa.ForeignKeyConstraint(
            ["event_id", "team_id"],
            ["teams.event_id", "teams.id"],
            name=op.f("fk_team_members_event_id_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id", "user_id"],
            ["registrations.event_id", "registrations.user_id"],
            name=op.f("fk_team_members_event_id_user_id_registrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_team_members_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_team_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_members")),
        sa.UniqueConstraint("event_id", "user_id", name=op.f("uq_team_members_event_id_user_id")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_team_members_team_id_user_id")),
    )

    for table in UPDATED_AT_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )
    _counters_and_cleanups()
    _row_level_security()
    _fuzzy_event_names()


def _counters_and_cleanups() -> None:
    op.execute(
        """
        CREATE FUNCTION registrations_keep_seat_count() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          was_seated boolean := TG_OP <> 'INSERT' AND OLD.status IN ('registered', 'checked_in');
          is_seated boolean := TG_OP <> 'DELETE' AND NEW.status IN ('registered', 'checked_in');
        BEGIN
          IF TG_OP = 'UPDATE' AND NEW.event_id <> OLD.event_id THEN
            RAISE EXCEPTION 'a registration cannot move to another event';
          END IF;
          IF is_seated AND NOT was_seated THEN
            UPDATE events SET registered_count = registered_count + 1 WHERE id = NEW.event_id;
          ELSIF was_seated AND NOT is_seated THEN
            UPDATE events SET registered_count = registered_count - 1 WHERE id = OLD.event_id;
          END IF;
          RETURN NULL;
        END $$;
        CREATE TRIGGER registrations_keep_seat_count
          AFTER INSERT OR UPDATE OF status, event_id OR DELETE ON registrations
          FOR EACH ROW EXECUTE FUNCTION registrations_keep_seat_count();

        CREATE FUNCTION team_members_keep_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            UPDATE teams SET member_count = member_count + 1 WHERE id = NEW.team_id;
          ELSIF TG_OP = 'DELETE' THEN
            UPDATE teams SET member_count = member_count - 1 WHERE id = OLD.team_id;
            UPDATE tasks SET assignee_id = NULL
              WHERE team_id = OLD.team_id AND assignee_id = OLD.user_id;
          ELSIF NEW.team_id <> OLD.team_id OR NEW.user_id <> OLD.user_id THEN
            RAISE EXCEPTION 'a team membership cannot move; delete it and add a new one';
          END IF;
          RETURN NULL;
        END $$;
        CREATE TRIGGER team_members_keep_count
          AFTER INSERT OR UPDATE OR DELETE ON team_members
          FOR EACH ROW EXECUTE FUNCTION team_members_keep_count();
        """
    )


def _row_level_security() -> None:
    for table in NEW_TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"""
        CREATE POLICY tenant_read ON events FOR SELECT
          USING ({TENANT} OR (published_at IS NOT NULL AND visibility IN ('public', 'unlisted')));
        CREATE POLICY tenant_insert ON events FOR INSERT WITH CHECK ({TENANT});
        CREATE POLICY tenant_update ON events FOR UPDATE USING ({TENANT}) WITH CHECK ({TENANT});
        CREATE POLICY tenant_delete ON events FOR DELETE USING ({TENANT});
        CREATE POLICY tenant_isolation ON registrations
          USING ({TENANT} OR user_id = current_app_user_id()) WITH CHECK ({TENANT});
        CREATE POLICY tenant_isolation ON tasks
          USING ({TENANT} OR (org_id IS NULL AND owner_id = current_app_user_id()))
          WITH CHECK ({TENANT} OR (org_id IS NULL AND owner_id = current_app_user_id()));
        """
    )
    for table in (
        "event_tracks",
        "event_awards",
        "event_roles",
        "teams",
        "team_members",
        "team_invitations",
        "team_join_requests",
    ):
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING ({TENANT}) WITH CHECK ({TENANT})"
        )


def _fuzzy_event_names() -> None:
    # pg_trgm is optional: with it, fuzzy name search uses this index; without, ILIKE.
    op.execute(
        """
        DO $$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
            CREATE INDEX trgm_events_name ON events USING gin (name gin_trgm_ops);
          END IF;
        END $$;
        """
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS trgm_events_name")
    op.drop_table("team_members")
    op.drop_index(
        "uq_team_join_requests_pending",
        table_name="team_join_requests",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_table("team_join_requests")
    op.drop_index("ix_team_invitations_team_id", table_name="team_invitations")
    op.drop_index("ix_team_invitations_email", table_name="team_invitations")
    op.drop_table("team_invitations")
    op.drop_index("ix_tasks_team_id_position", table_name="tasks")
    op.drop_index("ix_tasks_owner_id_position", table_name="tasks")
    op.drop_table("tasks")
    op.drop_table("event_awards")
    op.drop_index(
        "uq_teams_event_id_name",
        table_name="teams",
        postgresql_where=sa.text("disbanded_at IS NULL"),
    )
    op.drop_index("ix_teams_skills_wanted", table_name="teams", postgresql_using="gin")
    op.drop_index("ix_teams_search", table_name="teams", postgresql_using="gin")
    op.drop_table("teams")
    op.drop_index("ix_registrations_user_id", table_name="registrations")
    op.drop_index("ix_registrations_skills", table_name="registrations", postgresql_using="gin")
    op.drop_index("ix_registrations_event_id_status_queue_seq", table_name="registrations")
    op.drop_table("registrations")
    op.drop_index("uq_event_tracks_event_id_name", table_name="event_tracks")
    op.drop_table("event_tracks")
    op.drop_index("ix_event_roles_user_id", table_name="event_roles")
    op.drop_table("event_roles")
    op.drop_index("uq_events_org_id_slug", table_name="events")
    op.drop_index("ix_events_search", table_name="events", postgresql_using="gin")
    op.drop_index("ix_events_public", table_name="events")
    op.drop_table("events")
    op.execute("DROP FUNCTION team_members_keep_count()")
    op.execute("DROP FUNCTION registrations_keep_seat_count()")
