"""People read their own event roles in every organization.

A judge or mentor invited by email to one event of an organization they are not a member of
holds an `event_roles` row there; row-level security showed it only under that organization's
tenant, so "My events" (which finds organizations through memberships and registrations) never
listed the event. This policy lets each person read their own role rows (as registrations
already do), nothing else.

Revision ID: 0012_own_event_roles_read
Revises: 0011_leaderboard_gate
Create Date: 2026-11-23 18:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_own_event_roles_read"
down_revision: str | None = "0011_leaderboard_gate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE POLICY own_roles_read ON event_roles FOR SELECT"
        " USING (user_id = current_app_user_id())"
    )


def downgrade() -> None:
    op.execute("DROP POLICY own_roles_read ON event_roles")
