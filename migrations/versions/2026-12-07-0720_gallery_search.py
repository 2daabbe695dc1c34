"""Gallery search that can use its indexes under row-level security (issue 15).

On `submissions` every policy condition runs before any condition that is not leakproof; `@@`
(`ts_match_vq`) and `@>` (`arraycontains`) are not, so a gallery search read and matched every
row of the tenant (a sequential scan) instead of using the GIN indexes. Marking built-ins
leakproof would need a superuser and weaken every table; instead, what the gallery shows is
public by definition and gets a table of its own:

- `gallery_entries`: one row per approved submission of an event whose gallery is public
  (opened, event published, not private) with what the gallery lists and searches (title,
  tagline, team name, technologies, tracks, submitted_at, the submission's tsvector). RLS is
  forced; the read policy is `true` (constant, so the planner drops it and the GIN indexes serve
  `@@`/`@>`); writes pass only with `hackops.platform_admin` on, which only the functions below
  set; the application's role keeps SELECT and loses INSERT/UPDATE/DELETE.
- `gallery_sync(event, submission)` (SECURITY DEFINER, fixed search_path, EXECUTE revoked from
  PUBLIC): rewrites the entries of one submission (or of a whole event) from the source rows in
  the caller's transaction. Lock order event → team(s) → entries: an approval racing the gallery's
  opening, or a team's rename, waits for the other and reads its committed rows.
- triggers: submissions (insert approved; update of listed columns while approved before or
  after), events (update that changes whether the gallery is public), teams (rename).

Revision ID: 0034_gallery_search
Revises: 0032_submit_write
Create Date: 2026-12-07 07:20:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0034_gallery_search"
down_revision: str | None = "0032_submit_write"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLIC_GALLERY = (
    "e.gallery_opened_at IS NOT NULL AND e.published_at IS NOT NULL AND e.visibility <> 'private'"
)
ADMIN = "is_platform_admin()"
DEFINER = (
    "LANGUAGE plpgsql VOLATILE SECURITY DEFINER"
    " SET hackops.platform_admin = 'on' SET search_path = public, pg_temp"
)
FUNCTIONS = (
    "gallery_sync(uuid, uuid)",
    "gallery_submission_changed()",
    "gallery_event_changed()",
    "gallery_team_renamed()",
)


def app_role() -> str:
    return str(op.get_context().config.attributes.get("app_role", "hackops_app"))


def upgrade() -> None:
    op.create_table(
        "gallery_entries",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("team_name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("tagline", sa.String(length=300), nullable=False),
        sa.Column("technologies", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("track_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("search", postgresql.TSVECTOR(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_gallery_entries_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "submission_id"],
            ["submissions.org_id", "submissions.id"],
            name=op.f("fk_gallery_entries_org_id_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_gallery_entries_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_gallery_entries")),
    )
    op.create_index(
        "ix_gallery_entries_search", "gallery_entries", ["search"], postgresql_using="gin"
    )
    op.create_index(
        "ix_gallery_entries_technologies",
        "gallery_entries",
        ["technologies"],
        postgresql_using="gin",
    )
    op.create_index(
        "ix_gallery_entries_track_ids", "gallery_entries", ["track_ids"], postgresql_using="gin"
    )
    op.create_index(
        "ix_gallery_entries_event_title",
        "gallery_entries",
        ["event_id", sa.text("lower(title)"), "submission_id"],
    )
    op.execute("ALTER TABLE gallery_entries ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE gallery_entries FORCE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY public_read ON gallery_entries FOR SELECT USING (true)")
    op.execute(f"CREATE POLICY synced_insert ON gallery_entries FOR INSERT WITH CHECK ({ADMIN})")
    op.execute(
        f"CREATE POLICY synced_update ON gallery_entries FOR UPDATE"
        f" USING ({ADMIN}) WITH CHECK ({ADMIN})"
    )
    op.execute(f"CREATE POLICY synced_delete ON gallery_entries FOR DELETE USING ({ADMIN})")
    role = app_role()
    op.execute(
        f"""
        DO $$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
            REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON gallery_entries FROM {role};
          END IF;
        END $$;
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION gallery_sync(p_event uuid, p_submission uuid) RETURNS void {DEFINER}
        AS $$
        BEGIN
          PERFORM 1 FROM events WHERE id = p_event FOR SHARE;
          PERFORM 1 FROM teams t
           WHERE t.id IN (SELECT s.team_id FROM submissions s
                           WHERE s.event_id = p_event AND s.status = 'approved'
                             AND (p_submission IS NULL OR s.id = p_submission))
           ORDER BY t.id FOR SHARE;
          DELETE FROM gallery_entries
           WHERE event_id = p_event AND (p_submission IS NULL OR submission_id = p_submission);
          INSERT INTO gallery_entries (submission_id, org_id, event_id, team_id, team_name, title,
                                       tagline, technologies, track_ids, submitted_at, search)
          SELECT s.id, s.org_id, s.event_id, s.team_id, t.name, s.title, s.tagline,
                 s.technologies, s.track_ids, s.submitted_at, s.search
            FROM submissions s
            JOIN events e ON e.id = s.event_id
            JOIN teams t ON t.id = s.team_id
           WHERE s.event_id = p_event AND (p_submission IS NULL OR s.id = p_submission)
             AND s.status = 'approved' AND {PUBLIC_GALLERY};
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION gallery_submission_changed() RETURNS trigger {DEFINER}
        AS $$
        BEGIN
          PERFORM gallery_sync(NEW.event_id, NEW.id);
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION gallery_event_changed() RETURNS trigger {DEFINER}
        AS $$
        BEGIN
          PERFORM gallery_sync(NEW.id, NULL);
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION gallery_team_renamed() RETURNS trigger {DEFINER}
        AS $$
        BEGIN
          UPDATE gallery_entries g SET team_name = NEW.name
            FROM submissions s
           WHERE s.event_id = NEW.event_id AND s.team_id = NEW.id AND g.submission_id = s.id;
          RETURN NULL;
        END $$
        """
    )
    for function in FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
    op.execute(
        "CREATE TRIGGER submissions_gallery_insert AFTER INSERT ON submissions FOR EACH ROW"
        " WHEN (NEW.status = 'approved') EXECUTE FUNCTION gallery_submission_changed()"
    )
    op.execute(
        "CREATE TRIGGER submissions_gallery_update AFTER UPDATE OF status, title, tagline,"
        " description, technologies, track_ids, submitted_at ON submissions FOR EACH ROW"
        " WHEN (NEW.status = 'approved' OR OLD.status = 'approved')"
        " EXECUTE FUNCTION gallery_submission_changed()"
    )
    public_old = PUBLIC_GALLERY.replace("e.", "OLD.")
    public_new = PUBLIC_GALLERY.replace("e.", "NEW.")
    op.execute(
        "CREATE TRIGGER events_gallery AFTER UPDATE OF gallery_opened_at, published_at,"
        f" visibility ON events FOR EACH ROW WHEN (({public_old}) IS DISTINCT FROM ({public_new}))"
        " EXECUTE FUNCTION gallery_event_changed()"
    )
    op.execute(
        "CREATE TRIGGER teams_gallery AFTER UPDATE OF name ON teams FOR EACH ROW"
        " WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION gallery_team_renamed()"
    )
    # The galleries already open.
    op.execute(f"SELECT gallery_sync(e.id, NULL) FROM events e WHERE {PUBLIC_GALLERY}")


def downgrade() -> None:
    op.execute("DROP TRIGGER teams_gallery ON teams")
    op.execute("DROP TRIGGER events_gallery ON events")
    op.execute("DROP TRIGGER submissions_gallery_update ON submissions")
    op.execute("DROP TRIGGER submissions_gallery_insert ON submissions")
    for function in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION {function}")
    op.drop_table("gallery_entries")
