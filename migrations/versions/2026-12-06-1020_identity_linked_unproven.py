"""OAuth identities remember whether they were linked while the account's address was unproven.

An identity linked to an account whose email nobody had confirmed yet (a sign-up that was never
verified, an account a provider made from an address it did not vouch for) says nothing about who
holds that inbox. When the inbox holder later proves the address with a password reset, a sign-in
link or an invitation link, such identities are removed (`accounts.ownership`). Existing rows are
back-filled: an identity is marked when its account is still unconfirmed, or was confirmed only
after the identity was linked.

Revision ID: 0013_identity_linked_unproven
Revises: 0012_own_event_roles_read
Create Date: 2026-12-06 09:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_identity_linked_unproven"
down_revision: str | None = "0014_sole_owned_orgs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "oauth_identities",
        sa.Column(
            "linked_while_unproven", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.execute(
        "UPDATE oauth_identities AS i SET linked_while_unproven = true FROM users AS u"
        " WHERE u.id = i.user_id"
        " AND (u.email_verified_at IS NULL OR u.email_verified_at > i.created_at)"
    )


def downgrade() -> None:
    op.drop_column("oauth_identities", "linked_while_unproven")
