"""One notification per `public_bump` call, not one per scope (issue 15).

A registration bumps three scopes (`event:`, `org:`, `listing`): three `pg_notify` calls in its
transaction (each checked against the ones already queued) and three notifications that every
process's `hackops_public` listener wakes for. Now the call sends one, its payload the scopes'
`<scope> <version>` lines (sorted, newline-separated; `publiccache.versions` reads each line).
A process still on the old reader ignores a payload of several lines (it names no scope it
knows) and learns the versions from its poll, within the cache's freshness bound.

Revision ID: 0036_public_bump_one_notify
Revises: 0035_generic_plans
Create Date: 2026-12-07 21:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0036_public_bump_one_notify"
down_revision: str | None = "0035_generic_plans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Scopes in one order (sorted), each bumped once per call, all announced at commit in one
# notification.
ONE_NOTIFY = """
CREATE OR REPLACE FUNCTION public_bump(scopes text[]) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = public, pg_temp AS $$
DECLARE payload text;
BEGIN
  WITH bumped AS (
    INSERT INTO public_versions AS pv (scope, version)
    SELECT DISTINCT s, 1 FROM unnest(scopes) AS s WHERE s IS NOT NULL ORDER BY 1
    ON CONFLICT (scope) DO UPDATE SET version = pv.version + 1
    RETURNING pv.scope, pv.version
  )
  SELECT string_agg(b.scope || ' ' || b.version, E'\\n' ORDER BY b.scope) INTO payload
    FROM bumped b;
  IF payload IS NOT NULL THEN
    PERFORM pg_notify('hackops_public', payload);
  END IF;
END $$;
"""

ONE_PER_SCOPE = """
CREATE OR REPLACE FUNCTION public_bump(scopes text[]) RETURNS void
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


def upgrade() -> None:
    op.execute(ONE_NOTIFY)


def downgrade() -> None:
    op.execute(ONE_PER_SCOPE)
