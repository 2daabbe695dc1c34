"""Judging: criteria, declared conflicts, assignments, evaluations with their history.

- One evaluation per judge and submission (UNIQUE).
- A conflicted judge never stores a score: a trigger on evaluations locks the team row FOR SHARE
  and refuses a judge who is on the team, registered as a participant, or declared conflicted;
  joining a team (which updates the team row) deletes that person's evaluations of the team and
  withdraws their assignments, so the two orders of a race both end with no score by a member;
  registering as a participant (which updates the event row) does the same for the whole event.
- Every write of an evaluation is copied to evaluation_history with who and when (trigger).

Revision ID: 0006_judging
Revises: 0005_submissions
Create Date: 2026-11-23 11:00:39.180380+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_judging"
down_revision: str | Sequence[str] | None = "0005_submissions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "is_platform_admin() OR org_id = current_org_id()"
NEW_TENANT_TABLES = (
    "judging_criteria",
    "judge_conflicts",
    "judge_assignments",
    "evaluations",
    "evaluation_history",
    "judging_versions",
)


def upgrade() -> None:
    op.create_table(
        "evaluation_history",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("evaluation_id", sa.Uuid(), nullable=False),
        sa.Column("judge_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("scores", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("raw_score", sa.Double(), nullable=True),
        sa.Column("private_comment", sa.Text(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_evaluation_history_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_history")),
    )
    op.create_index(
        "ix_evaluation_history_evaluation_id", "evaluation_history", ["evaluation_id"], unique=False
    )
    op.create_table(
        "judge_conflicts",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("judge_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "source IN ('judge', 'organizer')", name=op.f("ck_judge_conflicts_source_valid")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_judge_conflicts_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["judge_id"],
            ["users.id"],
            name=op.f("fk_judge_conflicts_judge_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_judge_conflicts_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_judge_conflicts_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_judge_conflicts_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judge_conflicts")),
        sa.UniqueConstraint(
            "event_id",
            "judge_id",
            "team_id",
            name=op.f("uq_judge_conflicts_event_id_judge_id_team_id"),
        ),
    )
    op.create_table(
        "judging_criteria",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("track_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("weight", sa.Double(), server_default=sa.text("1"), nullable=False),
        sa.Column("max_score", sa.Integer(), server_default=sa.text("10"), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "char_length(name) BETWEEN 1 AND 100", name=op.f("ck_judging_criteria_name_length")
        ),
        sa.CheckConstraint(
            "max_score BETWEEN 1 AND 100", name=op.f("ck_judging_criteria_max_score_range")
        ),
        sa.CheckConstraint(
            "weight > 0 AND weight <= 100", name=op.f("ck_judging_criteria_weight_range")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_judging_criteria_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_judging_criteria_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["event_tracks.id"],
            name=op.f("fk_judging_criteria_track_id_event_tracks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judging_criteria")),
    )
    op.create_index("ix_judging_criteria_event_id", "judging_criteria", ["event_id"], unique=False)
    op.create_table(
        "evaluations",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("judge_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column(
            "scores", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("raw_score", sa.Double(), nullable=True),
        sa.Column("private_comment", sa.Text(), server_default="", nullable=False),
        sa.Column("feedback", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
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
            "status IN ('draft', 'submitted')", name=op.f("ck_evaluations_status_valid")
        ),
        sa.CheckConstraint(
            "raw_score IS NULL OR raw_score BETWEEN 0 AND 100",
            name=op.f("ck_evaluations_raw_range"),
        ),
        sa.ForeignKeyConstraint(
            ["judge_id"],
            ["users.id"],
            name=op.f("fk_evaluations_judge_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_evaluations_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_evaluations_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_evaluations_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_evaluations_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
        sa.UniqueConstraint(
            "judge_id", "submission_id", name=op.f("uq_evaluations_judge_id_submission_id")
        ),
    )
    op.create_index(
        "ix_evaluations_event_id_submission_id",
        "evaluations",
        ["event_id", "submission_id"],
        unique=False,
    )
    op.create_table(
        "judge_assignments",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("judge_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="assigned", nullable=False),
        sa.Column("reason", sa.String(length=300), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("app_now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "state IN ('assigned', 'withdrawn')", name=op.f("ck_judge_assignments_state_valid")
        ),
        sa.ForeignKeyConstraint(
            ["judge_id"],
            ["users.id"],
            name=op.f("fk_judge_assignments_judge_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_judge_assignments_org_id_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_judge_assignments_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_judge_assignments_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judge_assignments")),
        sa.UniqueConstraint(
            "event_id",
            "judge_id",
            "submission_id",
            name=op.f("uq_judge_assignments_event_id_judge_id_submission_id"),
        ),
    )
    op.create_index(
        "ix_judge_assignments_judge_id", "judge_assignments", ["judge_id", "event_id"], unique=False
    )
    op.create_table(
        "judging_versions",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["events.org_id", "events.id"],
            name=op.f("fk_judging_versions_org_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_judging_versions_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_judging_versions")),
    )
    op.execute(
        """
        CREATE FUNCTION evaluations_bump_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE row evaluations%ROWTYPE;
        BEGIN
          IF TG_OP = 'DELETE' THEN row := OLD; ELSE row := NEW; END IF;
          INSERT INTO judging_versions (event_id, org_id, version)
          VALUES (row.event_id, row.org_id, 1)
          ON CONFLICT (event_id) DO UPDATE SET version = judging_versions.version + 1;
          RETURN NULL;
        END $$;
        CREATE TRIGGER evaluations_bump_version
          AFTER INSERT OR UPDATE OR DELETE ON evaluations
          FOR EACH ROW EXECUTE FUNCTION evaluations_bump_version();
        """
    )
    op.execute(
        "CREATE TRIGGER evaluations_set_updated_at BEFORE UPDATE ON evaluations"
        " FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute(
        """
        CREATE FUNCTION evaluations_refuse_conflicts() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          SELECT team_id INTO NEW.team_id FROM submissions WHERE id = NEW.submission_id;
          -- Serialize with registering (which updates the event row) and joining (the team row).
          PERFORM 1 FROM events WHERE id = NEW.event_id FOR SHARE;
          PERFORM 1 FROM teams WHERE id = NEW.team_id FOR SHARE;
          IF EXISTS (SELECT 1 FROM team_members
                     WHERE team_id = NEW.team_id AND user_id = NEW.judge_id)
             OR EXISTS (SELECT 1 FROM registrations
                        WHERE event_id = NEW.event_id AND user_id = NEW.judge_id
                          AND status IN ('registered', 'checked_in'))
             OR EXISTS (SELECT 1 FROM judge_conflicts
                        WHERE event_id = NEW.event_id AND judge_id = NEW.judge_id
                          AND team_id = NEW.team_id)
          THEN
            RAISE EXCEPTION 'judge % has a conflict of interest with team %',
              NEW.judge_id, NEW.team_id
              USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_evaluations_no_conflict';
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER evaluations_refuse_conflicts
          BEFORE INSERT OR UPDATE ON evaluations
          FOR EACH ROW EXECUTE FUNCTION evaluations_refuse_conflicts();

        CREATE FUNCTION team_members_withdraw_judging() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          DELETE FROM evaluations WHERE team_id = NEW.team_id AND judge_id = NEW.user_id;
          UPDATE judge_assignments SET state = 'withdrawn', reason = 'joined the team'
           WHERE judge_id = NEW.user_id AND state = 'assigned'
             AND submission_id IN (SELECT id FROM submissions WHERE team_id = NEW.team_id);
          RETURN NULL;
        END $$;
        CREATE TRIGGER team_members_withdraw_judging
          AFTER INSERT ON team_members
          FOR EACH ROW EXECUTE FUNCTION team_members_withdraw_judging();

        CREATE FUNCTION registrations_withdraw_judging() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.status IN ('registered', 'checked_in') THEN
            DELETE FROM evaluations WHERE event_id = NEW.event_id AND judge_id = NEW.user_id;
            UPDATE judge_assignments SET state = 'withdrawn', reason = 'registered as a participant'
             WHERE event_id = NEW.event_id AND judge_id = NEW.user_id AND state = 'assigned';
          END IF;
          RETURN NULL;
        END $$;
        CREATE TRIGGER registrations_withdraw_judging
          AFTER INSERT OR UPDATE OF status ON registrations
          FOR EACH ROW EXECUTE FUNCTION registrations_withdraw_judging();

        CREATE FUNCTION evaluations_keep_history() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO evaluation_history (id, org_id, evaluation_id, judge_id, submission_id,
                                          scores, raw_score, private_comment, feedback, status,
                                          changed_by)
          VALUES (gen_random_uuid(), NEW.org_id, NEW.id, NEW.judge_id, NEW.submission_id,
                  NEW.scores, NEW.raw_score, NEW.private_comment, NEW.feedback, NEW.status,
                  current_app_user_id());
          RETURN NULL;
        END $$;
        CREATE TRIGGER evaluations_keep_history
          AFTER INSERT OR UPDATE ON evaluations
          FOR EACH ROW EXECUTE FUNCTION evaluations_keep_history();
        """
    )
    for table in NEW_TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} USING ({TENANT}) WITH CHECK ({TENANT})"
        )


def downgrade() -> None:
    op.drop_table("judging_versions")
    op.execute("DROP TRIGGER team_members_withdraw_judging ON team_members")
    op.execute("DROP FUNCTION team_members_withdraw_judging()")
    op.execute("DROP TRIGGER registrations_withdraw_judging ON registrations")
    op.execute("DROP FUNCTION registrations_withdraw_judging()")
    op.drop_index("ix_judge_assignments_judge_id", table_name="judge_assignments")
    op.drop_table("judge_assignments")
    op.drop_index("ix_evaluations_event_id_submission_id", table_name="evaluations")
    op.drop_table("evaluations")
    op.drop_index("ix_judging_criteria_event_id", table_name="judging_criteria")
    op.drop_table("judging_criteria")
    op.drop_table("judge_conflicts")
    op.drop_index("ix_evaluation_history_evaluation_id", table_name="evaluation_history")
    op.drop_table("evaluation_history")
    op.execute("DROP FUNCTION evaluations_refuse_conflicts()")
    op.execute("DROP FUNCTION evaluations_keep_history()")
    op.execute("DROP FUNCTION evaluations_bump_version()")
