"""Email rendered from templates: HTML part, headers, attachments (issue 13).

`outbound_emails` gains what a rendered mail needs besides its text part: the HTML part, small
attachments (base64 in a JSON array: the check-in QR code, a calendar entry), the one-click
unsubscribe address of a mail a person can turn off, and its notification category. Bodies,
attachments and the address are cleared once a mail is sent (links carry tokens).

Revision ID: 0018_email_templates
Revises: 0017_notification_centre
Create Date: 2026-12-07 00:20:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018_email_templates"
down_revision: str | None = "0017_notification_centre"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbound_emails", sa.Column("body_html", sa.Text(), nullable=True))
    op.add_column(
        "outbound_emails",
        sa.Column(
            "attachments",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column(
        "outbound_emails", sa.Column("list_unsubscribe", sa.String(length=1000), nullable=True)
    )
    op.add_column("outbound_emails", sa.Column("category", sa.String(length=40), nullable=True))
    op.create_check_constraint(
        "attachments_array", "outbound_emails", "jsonb_typeof(attachments) = 'array'"
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_outbound_emails_attachments_array"), "outbound_emails", type_="check"
    )
    op.drop_column("outbound_emails", "category")
    op.drop_column("outbound_emails", "list_unsubscribe")
    op.drop_column("outbound_emails", "attachments")
    op.drop_column("outbound_emails", "body_html")
