"""Versions of what public pages show (issue 15): `public_versions`, one counter per scope, bumped
by triggers in the transaction of every change a public page or its JSON twin shows, and
announced at commit with `pg_notify('hackops_public', '<scope> <version>')`.

Scopes (text, so one table serves them all):
- `event:<id>`   anything of the event's own page: its row (seat counts included), its
                 organization's name, tracks, awards, schedule;
- `content:<id>` what its results, gallery and project pages show: the event row except seat
                 counts, tracks, awards, frozen results and winners, and the APPROVED projects
                 (their rows, public files, teams, members and members' names) — a working copy
                 or a submission nobody approved bumps nothing, so the deadline's submits never
                 meet on this row;
- `org:<id>`     the organization's public page (its row, its listed events' cards);
- `listing`      the landing page and the public events list (listed events' cards, the names of
                 organizations). Bumped only by changes to published public events (and by
                 organization renames or deletion), always after the event's own row lock, so
                 it adds no ordering that could deadlock.

The table holds no tenant data (scope names and counters), so it has no row-level security; the
application's role may insert and update (the triggers run as the caller) but not delete. The
user-name trigger reads team members across tenants (`SET hackops.platform_admin` for its own
duration only, as `sole_owned_orgs()` does).

Revision ID: 0029_public_versions
Revises: 0028_checkin_approval
Create Date: 2026-12-07 06:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_public_versions"
down_revision: str | None = "0028_checkin_approval"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Tables whose rows carry `event_id` and change what `event:` and `content:` pages show.
EVENT_CHILDREN = ("event_tracks", "event_awards", "schedule_items")
#: Tables that change the results / gallery / project pages (`content:`).
CONTENT_CHILDREN = ("event_results", "award_winners")
TRIGGERS = (
    ("events", "public_versions_events"),
    ("organizations", "public_versions_organizations"),
    *((t, "public_versions_event_child") for t in EVENT_CHILDREN),
    *((t, "public_versions_content_child") for t in CONTENT_CHILDREN),
    ("submissions", "public_versions_submissions"),
    ("submission_files", "public_versions_submission_files"),
    ("teams", "public_versions_teams"),
    ("team_members", "public_versions_team_members"),
    ("users", "public_versions_users"),
)
FUNCTIONS = (
    "public_versions_events()",
    "public_versions_organizations()",
    "public_versions_event_child()",
    "public_versions_content_child()",
    "public_versions_submissions()",
    "public_versions_submission_files()",
    "public_versions_teams()",
    "public_versions_team_members()",
    "public_versions_users()",
    "public_bump(text[])",
)


def app_role() -> str:
    role = op.get_context().config.attributes.get("app_role", "hackops_app")
    if not role.replace("_", "").isalnum():
        raise ValueError(f"invalid app role name {role!r}")
    return str(role)


def upgrade() -> None:
    op.create_table(
        "public_versions",
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_public_versions")),
    )
    role = app_role()
    op.execute(
        f"""
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
            REVOKE DELETE, TRUNCATE ON public_versions FROM {role};
          END IF;
        END $$;
        """
    )
    # Scopes in one order (sorted), each bumped once per call, each change announced at commit.
    op.execute(
        """
        CREATE FUNCTION public_bump(scopes text[]) RETURNS void
        LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = public, pg_temp AS $$
        DECLARE r record;
        BEGIN
          FOR r IN
            INSERT INTO public_versions AS pv (scope, version)
            SELECT DISTINCT s, 1 FROM unnest(scopes) AS s WHERE s IS NOT NULL ORDER BY 1
            ON CONFLICT (scope) DO UPDATE SET version = pv.version + 1
            RETURNING pv.scope, pv.version
          LOOP
            PERFORM pg_notify('hackops_public', r.scope || ' ' || r.version);
          END LOOP;
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION public_versions_events() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp AS $$
        DECLARE
          o jsonb := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) - 'updated_at' END;
          n jsonb := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) - 'updated_at' END;
          row_ jsonb := coalesce(n, o);
          scopes text[];
          listed boolean;
        BEGIN
          IF o IS NOT DISTINCT FROM n THEN
            RETURN NULL;
          END IF;
          scopes := ARRAY['event:' || (row_->>'id')];
          IF (o - 'registered_count') IS DISTINCT FROM (n - 'registered_count') THEN
            scopes := scopes || ('content:' || (row_->>'id'));
          END IF;
          listed := (o IS NOT NULL AND o->>'published_at' IS NOT NULL AND o->>'visibility' = 'public')
                 OR (n IS NOT NULL AND n->>'published_at' IS NOT NULL AND n->>'visibility' = 'public');
          IF listed THEN
            scopes := scopes || ('org:' || (row_->>'org_id')) || 'listing'::text;
          END IF;
          PERFORM public_bump(scopes);
          RETURN NULL;
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION public_versions_organizations() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND OLD.name IS NOT DISTINCT FROM NEW.name
             AND OLD.slug IS NOT DISTINCT FROM NEW.slug
             AND OLD.branding IS NOT DISTINCT FROM NEW.branding
             AND OLD.deleted_at IS NOT DISTINCT FROM NEW.deleted_at THEN
            RETURN NULL;
          END IF;
          PERFORM public_bump(ARRAY['org:' || coalesce(NEW.id, OLD.id), 'listing']);
          RETURN NULL;
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION public_versions_event_child() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp AS $$
        DECLARE e uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.event_id ELSE NEW.event_id END;
        BEGIN
          PERFORM public_bump(ARRAY['event:' || e, 'content:' || e]);
          IF TG_OP = 'UPDATE' AND OLD.event_id <> NEW.event_id THEN
            PERFORM public_bump(ARRAY['event:' || OLD.event_id, 'content:' || OLD.event_id]);
          END IF;
          RETURN NULL;
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION public_versions_content_child() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp AS $$
        BEGIN
          PERFORM public_bump(ARRAY[
            'content:' || CASE WHEN TG_OP = 'DELETE' THEN OLD.event_id ELSE NEW.event_id END]);
          RETURN NULL;
        END $$;
        """
    )
    # Projects: only what the gallery can show (approved, before or after the change).
    op.execute(
        """
        CREATE FUNCTION public_versions_submissions() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp AS $$
        BEGIN
          IF (TG_OP <> 'INSERT' AND OLD.status = 'approved')
             OR (TG_OP <> 'DELETE' AND NEW.status = 'approved') THEN
            PERFORM public_bump(ARRAY[
              'content:' || CASE WHEN TG_OP = 'DELETE' THEN OLD.event_id ELSE NEW.event_id END]);
          END IF;
          RETURN NULL;
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION public_versions_submission_files() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp AS $$
        BEGIN
          IF (TG_OP <> 'INSERT' AND OLD.public) OR (TG_OP <> 'DELETE' AND NEW.public) THEN
            PERFORM public_bump(ARRAY[
              'content:' || CASE WHEN TG_OP = 'DELETE' THEN OLD.event_id ELSE NEW.event_id END]);
          END IF;
          RETURN NULL;
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION public_versions_teams() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND OLD.name IS NOT DISTINCT FROM NEW.name THEN
            RETURN NULL;
          END IF;
          IF EXISTS (SELECT 1 FROM submissions s
                      WHERE s.team_id = coalesce(NEW.id, OLD.id) AND s.status = 'approved') THEN
            PERFORM public_bump(ARRAY['content:' || coalesce(NEW.event_id, OLD.event_id)]);
          END IF;
          RETURN NULL;
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION public_versions_team_members() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp AS $$
        DECLARE
          t uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.team_id ELSE NEW.team_id END;
          e uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.event_id ELSE NEW.event_id END;
        BEGIN
          IF EXISTS (SELECT 1 FROM submissions s WHERE s.team_id = t AND s.status = 'approved')
          THEN
            PERFORM public_bump(ARRAY['content:' || e]);
          END IF;
          RETURN NULL;
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION public_versions_users() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER
        SET hackops.platform_admin = 'on' SET search_path = public, pg_temp AS $$
        BEGIN
          IF OLD.name IS NOT DISTINCT FROM NEW.name THEN
            RETURN NULL;
          END IF;
          PERFORM public_bump(ARRAY(
            SELECT 'content:' || m.event_id FROM team_members m
              JOIN submissions s ON s.team_id = m.team_id AND s.status = 'approved'
             WHERE m.user_id = NEW.id));
          RETURN NULL;
        END $$;
        """
    )
    for table, function in TRIGGERS:
        events = "UPDATE" if table == "users" else "INSERT OR UPDATE OR DELETE"
        if table == "organizations":
            events = "UPDATE OR DELETE"
        op.execute(
            f"CREATE TRIGGER {table}_public_versions AFTER {events} ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {function}()"
        )


def downgrade() -> None:
    for table, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_public_versions ON {table}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.drop_table("public_versions")
