"""The notification centre: digests and what the in-app centre and live push need (issue 13).

Reserved in the chain so the parts of issue 13 land in a fixed order; it changes nothing until
its part fills it.

Revision ID: 0017_notification_centre
Revises: 0016_outbox_notifications
Create Date: 2026-12-07 00:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0017_notification_centre"
down_revision: str | None = "0016_outbox_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
