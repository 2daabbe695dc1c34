"""Accounts, organizations with members and invitations, tenant isolation (RLS), audit log.

Row-level security: every table with org_id has RLS enabled and FORCED, with policies keyed to
per-transaction settings (`SET LOCAL` via set_config(..., true)):
  hackops.org_id          the tenant of this transaction
  hackops.user_id         the authenticated person (sees their own memberships and account log)
  hackops.platform_admin  'on' for platform administrators
The application connects as a role that owns nothing (`app_role`, default hackops_app); this
migration creates it when it can and grants it what it needs. The audit log is append-only: a
trigger refuses UPDATE/DELETE and the app role has no such privilege.

Revision ID: 0002_accounts_tenancy
Revises: 0001_platform_core
Create Date: 2026-11-23 07:26:10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_accounts_tenancy"
down_revision: str | Sequence[str] | None = "0001_platform_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("org_memberships", "org_invitations", "audit_log")
UPDATED_AT_TABLES = ("users", "org_memberships")


def app_role() -> str:
    role = op.get_context().config.attributes.get("app_role", "hackops_app")
    if not role.replace("_", "").isalnum():
        raise ValueError(f"invalid app role name {role!r}")
    return str(role)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("bio", sa.String(length=2000), server_default="", nullable=False),
        sa.Column(
            "skills", postgresql.ARRAY(sa.String(length=64)), server_default="{}", nullable=False
        ),
        sa.Column(
            "interests", postgresql.ARRAY(sa.String(length=64)), server_default="{}", nullable=False
        ),
        sa.Column(
            "links", postgresql.ARRAY(sa.String(length=500)), server_default="{}", nullable=False
        ),
        sa.Column(
            "is_platform_admin", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_normalized")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "audit_log",
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("resource_type", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("ip", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.String(length=400), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_audit_log_actor_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_audit_log_org_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        "ix_audit_log_actor_id_created_at", "audit_log", ["actor_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_audit_log_org_id_created_at", "audit_log", ["org_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_audit_log_resource", "audit_log", ["resource_type", "resource_id"], unique=False
    )
    op.create_table(
        "auth_tokens",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), server_default="", nullable=False),
        sa.Column(
            "scopes", postgresql.ARRAY(sa.String(length=32)), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ip", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.String(length=400), server_default="", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("kind IN ('session', 'api')", name=op.f("ck_auth_tokens_kind_valid")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_tokens_token_hash")),
    )
    op.create_index("ix_auth_tokens_user_id_kind", "auth_tokens", ["user_id", "kind"], unique=False)
    op.create_table(
        "oauth_identities",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), server_default="", nullable=False),
        sa.Column(
            "profile",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oauth_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_identities")),
    )
    op.create_index(
        op.f("ix_oauth_identities_user_id"), "oauth_identities", ["user_id"], unique=False
    )
    op.create_index(
        "uq_oauth_identities_provider_subject",
        "oauth_identities",
        ["provider", "subject"],
        unique=True,
    )
    op.create_table(
        "one_time_tokens",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('verify_email', 'reset_password')",
            name=op.f("ck_one_time_tokens_purpose_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_one_time_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_one_time_tokens_token_hash")),
    )
    op.create_index(
        "ix_one_time_tokens_user_id_purpose",
        "one_time_tokens",
        ["user_id", "purpose"],
        unique=False,
    )
    op.create_table(
        "org_invitations",
        sa.Column("org_id", sa.Uuid(), nullable=False),
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
            "role IN ('owner', 'admin', 'organizer', 'member')",
            name=op.f("ck_org_invitations_role_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by_id"],
            ["users.id"],
            name=op.f("fk_org_invitations_accepted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_org_invitations_invited_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_org_invitations_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_org_invitations_token_hash")),
    )
    op.create_index(
        "ix_org_invitations_org_id_email", "org_invitations", ["org_id", "email"], unique=False
    )
    op.create_table(
        "org_memberships",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
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
            "role IN ('owner', 'admin', 'organizer', 'member')",
            name=op.f("ck_org_memberships_role_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_org_memberships_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_org_memberships_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_memberships")),
        sa.UniqueConstraint("org_id", "user_id", name=op.f("uq_org_memberships_org_id_user_id")),
    )
    op.create_index("ix_org_memberships_user_id", "org_memberships", ["user_id"], unique=False)
    op.create_table(
        "outbound_emails",
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transport", sa.String(length=16), server_default="", nullable=False),
        sa.Column("last_error", sa.String(length=500), server_default="", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_outbound_emails_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_emails")),
    )
    op.create_index(
        op.f("ix_outbound_emails_to_address"), "outbound_emails", ["to_address"], unique=False
    )
    op.add_column(
        "organizations",
        sa.Column("max_active_events", sa.Integer(), server_default=sa.text("3"), nullable=False),
    )
    op.add_column(
        "organizations",
        sa.Column(
            "feature_flags",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column(
        "organizations",
        sa.Column(
            "branding",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )

    for table in UPDATED_AT_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_set_updated_at BEFORE UPDATE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )
    _tenant_context_functions()
    _row_level_security()
    _append_only_audit_log()
    _app_role_and_grants()


def _tenant_context_functions() -> None:
    op.execute(
        """
        CREATE FUNCTION current_org_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
          SELECT nullif(current_setting('hackops.org_id', true), '')::uuid
        $$;
        CREATE FUNCTION current_app_user_id() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS $$
          SELECT nullif(current_setting('hackops.user_id', true), '')::uuid
        $$;
        CREATE FUNCTION is_platform_admin() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
          SELECT coalesce(current_setting('hackops.platform_admin', true), '') = 'on'
        $$;
        """
    )


def _row_level_security() -> None:
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        """
        CREATE POLICY tenant_isolation ON org_memberships
          USING (is_platform_admin() OR org_id = current_org_id() OR user_id = current_app_user_id())
          WITH CHECK (is_platform_admin() OR org_id = current_org_id());
        CREATE POLICY tenant_isolation ON org_invitations
          USING (is_platform_admin() OR org_id = current_org_id())
          WITH CHECK (is_platform_admin() OR org_id = current_org_id());
        CREATE POLICY tenant_read ON audit_log FOR SELECT
          USING (is_platform_admin() OR org_id = current_org_id()
                 OR (org_id IS NULL AND actor_id = current_app_user_id()));
        CREATE POLICY tenant_append ON audit_log FOR INSERT
          WITH CHECK (is_platform_admin() OR org_id IS NULL OR org_id = current_org_id());
        """
    )


def _append_only_audit_log() -> None:
    op.execute(
        """
        CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
          FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
          FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
        """
    )


def _app_role_and_grants() -> None:
    role = app_role()
    op.execute(
        f"""
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
            CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
          END IF;
        EXCEPTION WHEN insufficient_privilege THEN
          RAISE NOTICE 'role {role} not created (no CREATEROLE); create it and re-run grants';
        END $$;
        """
    )
    op.execute(
        f"""
        DO $$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO {role}', current_database());
            GRANT USAGE ON SCHEMA public TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public
              GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role};
            REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role};
            REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {role};
          END IF;
        END $$;
        """
    )


def downgrade() -> None:
    role = app_role()
    op.execute(
        f"""
        DO $$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
            ALTER DEFAULT PRIVILEGES IN SCHEMA public
              REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {role};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {role};
            REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role};
            REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role};
            REVOKE USAGE ON SCHEMA public FROM {role};
            EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM {role}', current_database());
          END IF;
        END $$;
        """
    )
    op.drop_column("organizations", "branding")
    op.drop_column("organizations", "feature_flags")
    op.drop_column("organizations", "max_active_events")
    op.drop_index(op.f("ix_outbound_emails_to_address"), table_name="outbound_emails")
    op.drop_table("outbound_emails")
    op.drop_index("ix_org_memberships_user_id", table_name="org_memberships")
    op.drop_table("org_memberships")
    op.drop_index("ix_org_invitations_org_id_email", table_name="org_invitations")
    op.drop_table("org_invitations")
    op.drop_index("ix_one_time_tokens_user_id_purpose", table_name="one_time_tokens")
    op.drop_table("one_time_tokens")
    op.drop_index("uq_oauth_identities_provider_subject", table_name="oauth_identities")
    op.drop_index(op.f("ix_oauth_identities_user_id"), table_name="oauth_identities")
    op.drop_table("oauth_identities")
    op.drop_index("ix_auth_tokens_user_id_kind", table_name="auth_tokens")
    op.drop_table("auth_tokens")
    op.drop_index("ix_audit_log_resource", table_name="audit_log")
    op.drop_index("ix_audit_log_org_id_created_at", table_name="audit_log")
    op.drop_index("ix_audit_log_actor_id_created_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("users")
    op.execute("DROP FUNCTION audit_log_is_append_only()")
    op.execute("DROP FUNCTION is_platform_admin()")
    op.execute("DROP FUNCTION current_app_user_id()")
    op.execute("DROP FUNCTION current_org_id()")
