"""A change of an event's seat count alone bumps its public versions without two JSON copies of
the row (issue 15).

`public_versions_events` compares the old and new row as JSON (`to_jsonb` of each, the seat
count and `updated_at` left out) to tell a seat taken from an edit of what the pages show. Every
registration, cancellation and waitlist promotion moves the seat count, so every one of them paid
for two JSON copies of the whole event row inside the event's seat lock. Now an UPDATE whose new
row is the old one apart from `registered_count` and `updated_at` (compared byte for byte, `*=`)
takes a short path to the same scopes: the event page, and the lists when the event is listed.
Anything else takes the comparison as before, so what is bumped does not change (a row that
differs in bytes but not in JSON still bumps nothing). Measured with pgbench (one client, the
seat-count UPDATE with its triggers, rolled back): 0.62 → 0.57 ms.

Revision ID: 0037_seat_count_bump
Revises: 0036_public_bump_one_notify
Create Date: 2026-12-07 23:40:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0037_seat_count_bump"
down_revision: str | None = "0036_public_bump_one_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The JSON comparison, shared by both versions of the function (the short path goes first).
COMPARE = """
          o := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) - 'updated_at' END;
          n := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) - 'updated_at' END;
          row_ := coalesce(n, o);
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
"""

SHORT_PATH = """
          IF TG_OP = 'UPDATE' THEN
            seats_only := NEW;
            seats_only.registered_count := OLD.registered_count;
            seats_only.updated_at := OLD.updated_at;
            IF seats_only *= OLD THEN
              IF NEW.registered_count = OLD.registered_count THEN
                RETURN NULL;
              END IF;
              -- The seat count only: the event page and, when listed, the lists (not content:).
              scopes := ARRAY['event:' || NEW.id];
              IF NEW.published_at IS NOT NULL AND NEW.visibility = 'public' THEN
                scopes := scopes || ('org:' || NEW.org_id) || 'listing'::text;
              END IF;
              PERFORM public_bump(scopes);
              RETURN NULL;
            END IF;
          END IF;
"""


def function(*, short_path: bool) -> str:
    """`public_versions_events()`, with the seat count's short path before the comparison or
    (the downgrade) without it."""
    return (
        """
        CREATE OR REPLACE FUNCTION public_versions_events() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = public, pg_temp AS $$
        DECLARE
          o jsonb;
          n jsonb;
          row_ jsonb;
          scopes text[];
          listed boolean;
          seats_only events;
        BEGIN
"""
        + (SHORT_PATH if short_path else "")
        + COMPARE
        + """
        END $$;
"""
    )


def upgrade() -> None:
    op.execute(function(short_path=True))


def downgrade() -> None:
    op.execute(function(short_path=False))
