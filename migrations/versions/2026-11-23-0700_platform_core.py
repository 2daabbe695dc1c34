"""Platform core: clock, updated_at trigger, optional extensions, job queue, organizations.

The job queue's schema is procrastinate's own `schema.sql`, read from the installed (exactly
pinned) package at migration time. Upgrading procrastinate means a new migration that applies
its migration files between the two versions.

Revision ID: 0001_platform_core
Revises:
Create Date: 2026-11-23 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "0001_platform_core"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPTIONAL_EXTENSIONS = ("pg_trgm",)


def upgrade() -> None:
    # Optional extensions: installed when the server has them and lets us; code detects at run time.
    for name in OPTIONAL_EXTENSIONS:
        op.execute(
            f"""
            DO $$
            BEGIN
              IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = '{name}') THEN
                CREATE EXTENSION IF NOT EXISTS {name};
              END IF;
            EXCEPTION WHEN insufficient_privilege THEN
              RAISE NOTICE 'extension {name} not installed: insufficient privilege';
            END $$;
            """
        )
    # The database clock. Tests freeze it per transaction with SET LOCAL hackops.frozen_now.
    op.execute(
        """
        CREATE FUNCTION app_now() RETURNS timestamptz
        LANGUAGE sql STABLE PARALLEL SAFE AS $$
          SELECT coalesce(nullif(current_setting('hackops.frozen_now', true), '')::timestamptz, now())
        $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION set_updated_at() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          NEW.updated_at := app_now();
          RETURN NEW;
        END $$;
        """
    )
    # The driver sees a parameter list, so literal percent signs are doubled.
    op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))

    op.create_table(
        "organizations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("plan", sa.String(length=32), server_default="free", nullable=False),
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
        sa.CheckConstraint(
            "char_length(name) BETWEEN 1 AND 200", name=op.f("ck_organizations_name_length")
        ),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'",
            name=op.f("ck_organizations_slug_format"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("slug", name=op.f("uq_organizations_slug")),
    )
    op.execute(
        "CREATE TRIGGER organizations_set_updated_at BEFORE UPDATE ON organizations"
        " FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )


def downgrade() -> None:
    op.drop_table("organizations")
    # Drop every procrastinate object (tables first, then functions, then types).
    op.execute(
        """
        DO $$
        DECLARE r record;
        BEGIN
          FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = current_schema() AND c.relkind = 'r'
                     AND c.relname LIKE 'procrastinate\\_%' LOOP
            EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', r.relname);
          END LOOP;
          FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                   JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
            EXECUTE format('DROP ROUTINE IF EXISTS %s CASCADE', r.sig);
          END LOOP;
          FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                   WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'c', 'd')
                     AND t.typname LIKE 'procrastinate\\_%' LOOP
            EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', r.typname);
          END LOOP;
        END $$;
        """
    )
    op.execute("DROP FUNCTION set_updated_at()")
    op.execute("DROP FUNCTION app_now()")
    for name in OPTIONAL_EXTENSIONS:
        op.execute(f"DROP EXTENSION IF EXISTS {name}")
