"""Owners deleting their account: count the other owners across row-level security.

`delete_account` runs without a tenant, so the `org_memberships` policy showed the caller only
their own rows: every organization looked like it had one owner, and with two owners neither
could delete their account (`last_owner`). `sole_owned_orgs()` answers exactly one question
for the current actor (`hackops.user_id`): the organizations where they are the only owner. It
reads every owner row of those organizations (the function's own `SET hackops.platform_admin`
lifts the tenant filter for its duration only) and locks them, so two owners deleting their
accounts at once are serialized: the second sees the first gone and is refused.

Revision ID: 0013_sole_owned_orgs
Revises: 0012_own_event_roles_read
Create Date: 2026-12-06 10:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014_sole_owned_orgs"
down_revision: str | None = "0013_idempotency_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION sole_owned_orgs() RETURNS SETOF uuid
        LANGUAGE plpgsql VOLATILE SECURITY INVOKER
        SET hackops.platform_admin = 'on'
        SET search_path = public, pg_temp
        AS $$
        DECLARE
          v_user uuid := current_app_user_id();
          v_org uuid;
        BEGIN
          IF v_user IS NULL THEN
            RETURN;
          END IF;
          FOR v_org IN
            SELECT org_id FROM org_memberships
             WHERE user_id = v_user AND role = 'owner' ORDER BY org_id
          LOOP
            PERFORM 1 FROM org_memberships
             WHERE org_id = v_org AND role = 'owner' ORDER BY id FOR UPDATE;
            IF NOT EXISTS (
              SELECT 1 FROM org_memberships
               WHERE org_id = v_org AND role = 'owner' AND user_id <> v_user
            ) THEN
              RETURN NEXT v_org;
            END IF;
          END LOOP;
        END $$;
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION sole_owned_orgs()")
