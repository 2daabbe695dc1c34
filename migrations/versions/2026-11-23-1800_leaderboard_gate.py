"""The leaderboard's read gate: who may read an event's live board, and its version, in one
statement.

`leaderboard_gate(token_hash, bearer, org_slug, event_slug)` applies the same rules as the
request path `get_actor` → `load_event_access` → `organizer_access` (an equivalence test in
tests/judging/test_leaderboard_gate.py runs both over a matrix of callers):

- a token that is unknown, revoked, expired or whose user is deleted or disabled: `invalid_token`
  when it came as a bearer token (401), an anonymous caller when it came as the session cookie;
- a live token is touched (`last_used_at`) at most every five minutes, like `resolve_token`;
- unknown or deleted organization, unknown event, anonymous caller: `not_found` (404);
- platform admins, the organization's organizers/admins/owners and the event's organizers: `ok`
  with the organization, the event and the committed judging version;
- other staff of the event (judges, mentors): `forbidden` (403); everyone else `not_found`.

It runs as the caller's role (SECURITY INVOKER): row-level security applies, with the tenant and
actor set by the function itself for the rest of the transaction, as the request path does.

Revision ID: 0011_leaderboard_gate
Revises: 0010_judging_extras
Create Date: 2026-11-23 18:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011_leaderboard_gate"
down_revision: str | None = "0010_judging_extras"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GATE = """
CREATE FUNCTION leaderboard_gate(
  p_token_hash text, p_bearer boolean, p_org_slug text, p_event_slug text,
  OUT o_outcome text, OUT o_org_id uuid, OUT o_event_id uuid, OUT o_version bigint
) LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
DECLARE
  v_now timestamptz := app_now();
  v_token_id uuid;
  v_expires timestamptz;
  v_used timestamptz;
  v_user uuid;
  v_live boolean;
  v_admin boolean := false;
  v_org_role text;
BEGIN
  o_outcome := 'not_found';
  IF p_token_hash IS NOT NULL THEN
    SELECT t.id, t.expires_at, t.last_used_at, u.id,
           u.deleted_at IS NULL AND u.disabled_at IS NULL, u.is_platform_admin
      INTO v_token_id, v_expires, v_used, v_user, v_live, v_admin
      FROM auth_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = p_token_hash AND t.revoked_at IS NULL;
    IF v_token_id IS NULL OR v_expires <= v_now OR NOT v_live THEN
      IF p_bearer THEN
        o_outcome := 'invalid_token';
        RETURN;
      END IF;
      v_user := NULL;
      v_admin := false;
    ELSE
      IF v_used IS NULL OR v_now - v_used > interval '5 minutes' THEN
        UPDATE auth_tokens SET last_used_at = v_now WHERE id = v_token_id;
      END IF;
      PERFORM set_config('hackops.user_id', v_user::text, true),
              set_config('hackops.platform_admin', CASE WHEN v_admin THEN 'on' ELSE '' END, true);
    END IF;
  END IF;
  SELECT id INTO o_org_id FROM organizations WHERE slug = p_org_slug AND deleted_at IS NULL;
  IF o_org_id IS NULL THEN
    RETURN;
  END IF;
  PERFORM set_config('hackops.org_id', o_org_id::text, true);
  SELECT id INTO o_event_id FROM events WHERE org_id = o_org_id AND slug = p_event_slug;
  IF o_event_id IS NULL OR v_user IS NULL THEN
    o_org_id := NULL;
    o_event_id := NULL;
    RETURN;
  END IF;
  SELECT role INTO v_org_role FROM org_memberships
   WHERE org_id = o_org_id AND user_id = v_user;
  IF v_admin OR v_org_role IN ('organizer', 'admin', 'owner') OR EXISTS (
       SELECT 1 FROM event_roles
        WHERE event_id = o_event_id AND user_id = v_user AND role = 'organizer') THEN
    o_outcome := 'ok';
    SELECT coalesce(max(version), 0) INTO o_version
      FROM judging_versions WHERE event_id = o_event_id;
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM event_roles WHERE event_id = o_event_id AND user_id = v_user) THEN
    o_outcome := 'forbidden';
  END IF;
  o_org_id := NULL;
  o_event_id := NULL;
END
$$;
"""


def upgrade() -> None:
    op.execute(GATE)


def downgrade() -> None:
    op.execute("DROP FUNCTION leaderboard_gate(text, boolean, text, text)")
