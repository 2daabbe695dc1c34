"""A person registered for an event may read that event, whatever its visibility.

`/me/registrations` lists registrations across organizations without a tenant set; the events
policy let it read only published public/unlisted events, so a private (invite-only) event of
another organization came back without its name and dates. The new policy adds: the current user
holds a registration for this event (their own registration row is readable to them by the
registrations policy; the lookup uses UNIQUE (event_id, user_id)).

Revision ID: 0004_registrants_read_events
Revises: 0003_events_teams_tasks
Create Date: 2026-11-23 09:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_registrants_read_events"
down_revision: str | Sequence[str] | None = "0003_events_teams_tasks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE POLICY registrant_read ON events FOR SELECT
          USING (EXISTS (SELECT 1 FROM registrations r
                         WHERE r.event_id = events.id AND r.user_id = current_app_user_id()))
        """
    )


def downgrade() -> None:
    op.execute("DROP POLICY registrant_read ON events")
