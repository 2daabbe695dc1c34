"""The request gate: who is asking, and what they are to the organization and event the address
names, in one statement on the request's own transaction.

`request_gate(token_hash, bearer, org_slug, event_slug, unread)` loads what the request path
(`accounts.deps.get_actor` → `orgs.access.load_org_access` / `events.access.load_event_access`,
and the pages' `web.deps.unread_badge`) would load, in the same order, with the same side effects,
and decides nothing else (the loaders keep every rule; an equivalence test in
tests/accounts/test_request_gate.py runs both over a matrix of callers):

- a token that is unknown, revoked, expired or whose user is deleted or disabled: `invalid_token`
  when it came as a bearer token (nothing else is read), an anonymous caller when it came as the
  session cookie (`accounts.auth_tokens.resolve_token`);
- a live token is touched (`last_used_at`) at most every five minutes and its person becomes the
  transaction's actor (`tenancy.set_actor`); with `unread`, their unread notifications are counted;
- with an organization slug (for an event, whoever asks; for the organization alone, a signed-in
  caller only, as `org_access` requires one): the live organization, which becomes the tenant
  (`tenancy.set_tenant`), and the caller's membership role;
- with an event slug too: the event, and the caller's roles on it and registration.

Rows come back whole (composite values of their tables), so the application builds the same ORM
objects the loaders would have. It runs as the caller's role (SECURITY INVOKER): row-level
security applies to every read, with the actor and tenant set by the function before the rows
that need them, for the rest of the transaction.

Revision ID: 0030_request_gate
Revises: 0028_checkin_approval
Create Date: 2026-12-07 06:40:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0030_request_gate"
down_revision: str | None = "0029_public_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GATE = """
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


def upgrade() -> None:
    op.execute(GATE)


def downgrade() -> None:
    op.execute("DROP FUNCTION request_gate(text, boolean, text, text, boolean)")
