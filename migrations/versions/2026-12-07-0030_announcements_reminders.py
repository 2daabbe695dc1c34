"""Organizer announcements and scheduled reminders (issue 13).

Reserved in the chain so the parts of issue 13 land in a fixed order; it changes nothing until
its part fills it.

Revision ID: 0019_announcements_reminders
Revises: 0018_email_templates
Create Date: 2026-12-07 00:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0019_announcements_reminders"
down_revision: str | None = "0018_email_templates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
