"""Manual approval of registrations (issue 14 §4).

- `events.approval_required`: when on, a new registration waits for an organizer's decision
  (`pending`) instead of taking a seat or a place on the waitlist.
- `registrations.status` gains `pending` (awaiting approval: no seat, no place in line, no
  check-in code shown) and `declined` (an organizer said no: no seat; registering again is
  refused). Neither holds a seat, so the seat trigger (`registrations_keep_seat_count`, which
  counts `registered` and `checked_in` only) and the capacity CHECK need no change.

Revision ID: 0028_checkin_approval
Revises: 0027_schedule
Create Date: 2026-12-07 01:50:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_checkin_approval"
down_revision: str | None = "0027_schedule"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "status IN ('registered', 'waitlisted', 'cancelled', 'checked_in')"
NEW = "status IN ('registered', 'waitlisted', 'cancelled', 'checked_in', 'pending', 'declined')"


def upgrade() -> None:
    op.add_column(
        "events",
        sa.Column(
            "approval_required", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.drop_constraint(op.f("ck_registrations_status_valid"), "registrations", type_="check")
    op.create_check_constraint(op.f("ck_registrations_status_valid"), "registrations", NEW)


def downgrade() -> None:
    # The older schema knows no undecided or declined registration: both become cancelled.
    op.execute(
        "UPDATE registrations SET status = 'cancelled', cancelled_at = coalesce(cancelled_at,"
        " app_now()) WHERE status IN ('pending', 'declined')"
    )
    op.drop_constraint(op.f("ck_registrations_status_valid"), "registrations", type_="check")
    op.create_check_constraint(op.f("ck_registrations_status_valid"), "registrations", OLD)
    op.drop_column("events", "approval_required")
