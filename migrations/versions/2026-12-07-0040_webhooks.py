"""Outbound webhooks: endpoints, secrets, deliveries (issue 13).

Reserved in the chain so the parts of issue 13 land in a fixed order; it changes nothing until
its part fills it.

Revision ID: 0020_webhooks
Revises: 0019_announcements_reminders
Create Date: 2026-12-07 00:40:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0020_webhooks"
down_revision: str | None = "0019_announcements_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
