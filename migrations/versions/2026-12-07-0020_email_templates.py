"""Email rendered from templates: HTML part, headers, attachments (issue 13).

Reserved in the chain so the parts of issue 13 land in a fixed order; it changes nothing until
its part fills it.

Revision ID: 0018_email_templates
Revises: 0017_notification_centre
Create Date: 2026-12-07 00:20:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0018_email_templates"
down_revision: str | None = "0017_notification_centre"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
