"""What granting and revoking the judge role tell the judging domain (`hackops.hooks`).

Sent by `service.grant_role`, `service.revoke_role` and `invitations.accept`, in their
transaction, after the grant row and its audit record; handled by `judging.assignment.rebalance`
(connected in `hackops.wiring`), which re-balances an existing assignment run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import ClassVar

from hackops.hooks import Hook


@dataclass(frozen=True)
class JudgeAdded:
    """An account was given the judge role of an event (directly or by an invitation)."""

    name: ClassVar[str] = "events.judge_added"
    event_id: uuid.UUID
    judge_id: uuid.UUID


@dataclass(frozen=True)
class JudgeRemoved:
    """An account's judge role of an event was revoked (the grant row is already gone)."""

    name: ClassVar[str] = "events.judge_removed"
    event_id: uuid.UUID
    judge_id: uuid.UUID


@dataclass(frozen=True)
class Reassigned:
    """The assignment after the judging domain re-ran it, as the organizer is told: reviews
    assigned and the smallest and largest load of one judge."""

    assigned: int
    load_min: int
    load_max: int


#: Answers None when nothing was re-run (no assignment run yet, or an archived event).
judge_added: Hook[JudgeAdded, Reassigned | None] = Hook(JudgeAdded)
judge_removed: Hook[JudgeRemoved, Reassigned | None] = Hook(JudgeRemoved)
