"""Judging withdrawal triggers keep one plan (issue 15, fewer statements' worth of work per write).

`registrations_withdraw_judging` (every registration that takes a seat) and
`team_members_withdraw_judging` (every team join) delete the person's evaluations and withdraw
their assignments, which for almost everyone match no row. PL/pgSQL keeps a plan per statement,
but PostgreSQL's plan cache (`plan_cache_mode = auto`) compares the generic plan's estimate with
the plans made for the actual values, and for an event with no evaluations yet (every event
while people register) the value-specific plan is always estimated cheaper: the statements were
planned again on every call. pg_stat_statements under the registration benchmark: 2,461 plans
for 2,445 calls of each statement, 0.64 ms of planning per registration, under the event's
seat lock. The generic plans are the right ones for every value (index scans on `judge_id`), so
these functions use them always (`SET plan_cache_mode = force_generic_plan`, for the duration
of the call only).

Revision ID: 0035_generic_plans
Revises: 0034_gallery_search
Create Date: 2026-12-07 21:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0035_generic_plans"
down_revision: str | None = "0034_gallery_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Trigger functions whose statements look rows up by key and must not be planned per call.
FUNCTIONS = ("registrations_withdraw_judging()", "team_members_withdraw_judging()")


def upgrade() -> None:
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} SET plan_cache_mode = force_generic_plan")


def downgrade() -> None:
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} RESET plan_cache_mode")
