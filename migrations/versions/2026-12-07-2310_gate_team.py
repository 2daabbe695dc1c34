"""The request gate reads the team a team route names, with the caller's membership (issue 15).

Every team route (`teams.deps.team_view`: a submission, its files, the team's page) loaded the
team and the caller's membership in a statement of its own after the gate's: a round trip of the
request's transaction, and the server's wake-up for it. `request_gate` takes the team's id as a
sixth argument (default NULL: a call with five is the call it was) and, for a signed-in caller
and an event it found, reads what `teams.access.load_team` reads: the live team of that event,
and the caller's membership. The loader takes it (`gate.take_team`) and keeps every rule
(tests/teams/test_gate_team.py holds both paths to the same answers over a matrix of callers and
teams).

Revision ID: 0038_gate_team
Revises: 0037_seat_count_bump
Create Date: 2026-12-07 23:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0038_gate_team"
down_revision: str | None = "0037_seat_count_bump"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Migration 0030's function, as it was (the downgrade's, and the base of the new one).
WITHOUT_TEAM = """
CREATE FUNCTION request_gate(
  p_token_hash text, p_bearer boolean, p_org_slug text, p_event_slug text, p_unread boolean,
  OUT o_outcome text, OUT o_token auth_tokens, OUT o_user users, OUT o_unread bigint,
  OUT o_org organizations, OUT o_org_role text,
  OUT o_event events, OUT o_event_roles text[], OUT o_registration registrations
) LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
DECLARE
  v_now timestamptz;
BEGIN
  o_outcome := 'ok';
  IF p_token_hash IS NOT NULL THEN
    v_now := app_now();
    SELECT * INTO o_token FROM auth_tokens
     WHERE token_hash = p_token_hash AND revoked_at IS NULL;
    IF FOUND THEN
      SELECT * INTO o_user FROM users WHERE id = o_token.user_id;
    END IF;
    IF o_token.id IS NULL OR o_user.id IS NULL OR o_token.expires_at <= v_now
       OR o_user.deleted_at IS NOT NULL OR o_user.disabled_at IS NOT NULL THEN
      o_token := NULL;
      o_user := NULL;
      IF p_bearer THEN
        o_outcome := 'invalid_token';
        RETURN;
      END IF;
    ELSE
      IF o_token.last_used_at IS NULL OR v_now - o_token.last_used_at > interval '5 minutes' THEN
        UPDATE auth_tokens SET last_used_at = v_now WHERE id = o_token.id;
        o_token.last_used_at := v_now;
      END IF;
      PERFORM set_config('hackops.user_id', o_user.id::text, true),
              set_config('hackops.platform_admin',
                         CASE WHEN o_user.is_platform_admin THEN 'on' ELSE '' END, true);
      IF p_unread THEN
        SELECT count(*) INTO o_unread FROM notifications
         WHERE user_id = o_user.id AND read_at IS NULL;
      END IF;
    END IF;
  END IF;
  IF p_org_slug IS NULL OR (p_event_slug IS NULL AND o_user.id IS NULL) THEN
    RETURN;
  END IF;
  SELECT * INTO o_org FROM organizations WHERE slug = p_org_slug AND deleted_at IS NULL;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  PERFORM set_config('hackops.org_id', o_org.id::text, true);
  IF o_user.id IS NOT NULL THEN
    SELECT role INTO o_org_role FROM org_memberships
     WHERE org_id = o_org.id AND user_id = o_user.id;
  END IF;
  IF p_event_slug IS NULL THEN
    RETURN;
  END IF;
  SELECT * INTO o_event FROM events WHERE org_id = o_org.id AND slug = p_event_slug;
  IF NOT FOUND OR o_user.id IS NULL THEN
    RETURN;
  END IF;
  SELECT coalesce(array_agg(role), '{}') INTO o_event_roles FROM event_roles
   WHERE event_id = o_event.id AND user_id = o_user.id;
  SELECT * INTO o_registration FROM registrations
   WHERE event_id = o_event.id AND user_id = o_user.id;
END
$$;
"""

#: The new arguments and results, and the team read after the registration.
SIGNATURE = (
    "  OUT o_event events, OUT o_event_roles text[], OUT o_registration registrations\n)",
    "  OUT o_event events, OUT o_event_roles text[], OUT o_registration registrations,\n"
    "  OUT o_team teams, OUT o_membership team_members\n)",
)
ARGUMENT = (
    "p_unread boolean,\n",
    "p_unread boolean,\n  p_team_id uuid DEFAULT NULL,\n",
)
TEAM_READ = (
    "   WHERE event_id = o_event.id AND user_id = o_user.id;\nEND",
    """   WHERE event_id = o_event.id AND user_id = o_user.id;
  IF p_team_id IS NULL THEN
    RETURN;
  END IF;
  SELECT * INTO o_team FROM teams
   WHERE id = p_team_id AND event_id = o_event.id AND disbanded_at IS NULL;
  IF FOUND THEN
    SELECT * INTO o_membership FROM team_members
     WHERE team_id = o_team.id AND user_id = o_user.id;
  END IF;
END""",
)


def _with_team() -> str:
    body = WITHOUT_TEAM
    for old, new in (SIGNATURE, ARGUMENT, TEAM_READ):
        if body.count(old) != 1:
            raise RuntimeError(f"request_gate's text has changed: {old!r}")
        body = body.replace(old, new)
    return body


def upgrade() -> None:
    op.execute("DROP FUNCTION request_gate(text, boolean, text, text, boolean)")
    op.execute(_with_team())


def downgrade() -> None:
    op.execute("DROP FUNCTION request_gate(text, boolean, text, text, boolean, uuid)")
    op.execute(WITHOUT_TEAM)
