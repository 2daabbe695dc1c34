"""Published results freeze judging in the database; criterion names are unique per event.

- Once an event's results are published (`events.results_published_at`), no statement writes
  an evaluation or a pairwise judgment of it: a BEFORE trigger on `evaluations` (insert, update,
  and a delete made by a statement — a score removed by hand or by a declared conflict) and on
  `pairwise_entries` (insert, update, delete) raises `check_violation` with the constraint name
  `ck_evaluations_results_frozen` / `ck_pairwise_entries_results_frozen`. The event row is read
  FOR SHARE, so a score written while results are being published waits for the publisher's
  commit and then sees it (publishing locks the row FOR UPDATE and freezes what it reads
  after). A delete made by another trigger or a foreign key cascade (an account or an event
  deleted) passes: those are not judging, and the organizer's ranking page says when the live
  ranking no longer matches the published one.
- Joining a team or registering as a participant after publication no longer deletes that
  person's evaluations (the two withdraw triggers): the published scores stand, the
  assignments are still withdrawn.
- `uq_judging_criteria_event_id_name`: one criterion per name (case-insensitive) per event, as
  tracks; existing duplicates are renamed "Name (2)", "Name (3)", … first.

Revision ID: 0022_judging_freeze
Revises: 0021_event_bus
Create Date: 2026-12-07 01:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022_judging_freeze"
down_revision: str | None = "0021_event_bus"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FREEZE = """
CREATE FUNCTION judging_refuse_after_results() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  target uuid;
  published timestamptz;
BEGIN
  IF TG_OP = 'DELETE' THEN
    -- A cascade (account, event, submission deleted) or another trigger's delete is no judging.
    IF pg_trigger_depth() > 1 THEN RETURN OLD; END IF;
    target := OLD.event_id;
  ELSE
    target := NEW.event_id;
  END IF;
  SELECT results_published_at INTO published FROM events WHERE id = target FOR SHARE;
  IF published IS NOT NULL THEN
    RAISE EXCEPTION 'the results of event % are published: judging is final', target
      USING ERRCODE = 'check_violation', CONSTRAINT = TG_ARGV[0];
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER evaluations_results_frozen
  BEFORE INSERT OR UPDATE OR DELETE ON evaluations
  FOR EACH ROW EXECUTE FUNCTION judging_refuse_after_results('ck_evaluations_results_frozen');
CREATE TRIGGER pairwise_entries_results_frozen
  BEFORE INSERT OR UPDATE OR DELETE ON pairwise_entries
  FOR EACH ROW EXECUTE FUNCTION judging_refuse_after_results('ck_pairwise_entries_results_frozen');
"""

WITHDRAW = """
CREATE OR REPLACE FUNCTION team_members_withdraw_judging() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM evaluations
   WHERE team_id = NEW.team_id AND judge_id = NEW.user_id{frozen_team};
  UPDATE judge_assignments SET state = 'withdrawn', reason = 'joined the team'
   WHERE judge_id = NEW.user_id AND state = 'assigned'
     AND submission_id IN (SELECT id FROM submissions WHERE team_id = NEW.team_id);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION registrations_withdraw_judging() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IN ('registered', 'checked_in') THEN
    DELETE FROM evaluations
     WHERE event_id = NEW.event_id AND judge_id = NEW.user_id{frozen_event};
    UPDATE judge_assignments SET state = 'withdrawn', reason = 'registered as a participant'
     WHERE event_id = NEW.event_id AND judge_id = NEW.user_id AND state = 'assigned';
  END IF;
  RETURN NULL;
END $$;
"""

NOT_PUBLISHED = (
    "\n     AND NOT EXISTS (SELECT 1 FROM events WHERE id = {event}"
    " AND results_published_at IS NOT NULL)"
)


def upgrade() -> None:
    op.execute(FREEZE)
    op.execute(
        WITHDRAW.format(
            frozen_team=NOT_PUBLISHED.format(event="evaluations.event_id"),
            frozen_event=NOT_PUBLISHED.format(event="NEW.event_id"),
        )
    )
    op.execute(
        """
        UPDATE judging_criteria AS c
           SET name = left(c.name, 90) || ' (' || d.n || ')'
          FROM (SELECT id, row_number() OVER (PARTITION BY event_id, lower(name)
                                               ORDER BY position, id) AS n
                  FROM judging_criteria) AS d
         WHERE d.id = c.id AND d.n > 1
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_judging_criteria_event_id_name"
        " ON judging_criteria (event_id, lower(name))"
    )


def downgrade() -> None:
    op.execute("DROP INDEX uq_judging_criteria_event_id_name")
    op.execute(WITHDRAW.format(frozen_team="", frozen_event=""))
    op.execute("DROP TRIGGER pairwise_entries_results_frozen ON pairwise_entries")
    op.execute("DROP TRIGGER evaluations_results_frozen ON evaluations")
    op.execute("DROP FUNCTION judging_refuse_after_results()")
