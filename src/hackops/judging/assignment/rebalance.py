"""Re-balancing the judge assignment when a judge is added or removed.

When the event already has an assignment run (rows of `judge_assignments` in state 'assigned'),
granting the judge role (directly or by accepting an invitation) or revoking it re-runs
`service.run_assignment` in the same transaction (the events domain sends `events.roles.hooks`
`JudgeAdded` / `JudgeRemoved`; `judge_added` / `judge_removed` below handle them, connected in
`hackops.wiring`), with the k the organizers chose, so loads stay
balanced and every submission keeps k non-conflicted judges. Without a run nothing happens: the
organizers' first run will count the new judge anyway.

- An added judge takes about the average load, moved from unstarted reviews; started work (an
  evaluation exists, draft or submitted) keeps its pairs (`run_assignment` keeps them).
- A removed judge: their assignments without a submitted evaluation are withdrawn (reason
  'judge removed') and the re-run replaces them. A draft they left stays stored but never counts
  (rankings read submitted evaluations only). Their submitted evaluations are kept and still
  count — finished, honest work; that assignment is withdrawn too (reason 'judge removed,
  evaluation kept'), and the submission still receives k active judges, so it ends with one
  review more than k, never fewer.
- An archived event is left as it is (the removed judge's unstarted reviews are still withdrawn).

Which k: the one of the event's latest `judging.assigned` audit row (the organizers' run, or a
re-balance, which reuses it). The assignment table alone cannot tell "k = 2" from "k = 3 with a
shortfall" (only two judges could take a submission); the audit row, written in the same
transaction as the run, can. Without one (assignments made another way), the largest number of
active judges of one submission.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.actor import Actor
from hackops.events.access import EventAccess
from hackops.events.roles.hooks import JudgeAdded, JudgeRemoved, Reassigned
from hackops.judging.service import AssignmentReport, run_assignment
from hackops.models import AuditEntry, Evaluation, Event, JudgeAssignment, Organization

REMOVED = "judge removed"
REMOVED_EVALUATION_KEPT = "judge removed, evaluation kept"
DEFAULT_K = 3


@dataclass(frozen=True)
class Rebalance:
    """What a re-balance did: the removed judge's withdrawn assignments (with or without a
    submitted evaluation kept) and the re-run's report (None: no re-run)."""

    withdrawn: int
    kept_evaluations: int
    report: AssignmentReport | None


async def _lock(session: AsyncSession, event: Event) -> None:
    # The lock run_assignment takes (advisory locks stack within one transaction): the check
    # "is there a run" and the k read below see what the re-run will see.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"judging:{event.id}"))))


async def has_assignment_run(session: AsyncSession, event: Event) -> bool:
    found = await session.scalar(
        select(JudgeAssignment.id)
        .where(JudgeAssignment.event_id == event.id, JudgeAssignment.state == "assigned")
        .limit(1)
    )
    return found is not None


async def intended_k(session: AsyncSession, event: Event) -> int:
    """The k of the latest run of this event (see the module's docstring)."""
    details = await session.scalar(
        select(AuditEntry.details)
        .where(
            AuditEntry.org_id == event.org_id,
            AuditEntry.resource_type == "judging",
            AuditEntry.resource_id == str(event.id),
            AuditEntry.action == "judging.assigned",
        )
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(1)
    )
    if details is not None and isinstance(details.get("k"), int) and details["k"] > 0:
        return int(details["k"])
    per_submission = (
        select(func.count().label("n"))
        .where(JudgeAssignment.event_id == event.id, JudgeAssignment.state == "assigned")
        .group_by(JudgeAssignment.submission_id)
        .subquery()
    )
    return int(await session.scalar(select(func.max(per_submission.c.n))) or DEFAULT_K)


async def _access(session: AsyncSession, actor: Actor, event: Event) -> EventAccess:
    """What `run_assignment` needs: the event and who acts (it reads nothing else)."""
    org = await session.get_one(Organization, event.org_id)
    return EventAccess(org, event, actor, None, frozenset(), None)


async def after_judge_added(session: AsyncSession, actor: Actor, event: Event) -> Rebalance | None:
    """Re-run the assignment with the new judge, if the event has a run (None: nothing done)."""
    if event.archived_at is not None:
        return None
    await _lock(session, event)
    if not await has_assignment_run(session, event):
        return None
    k = await intended_k(session, event)
    report = await run_assignment(session, await _access(session, actor, event), k=k)
    return Rebalance(withdrawn=0, kept_evaluations=0, report=report)


async def after_judge_removed(
    session: AsyncSession, actor: Actor, event: Event, judge_id: uuid.UUID
) -> Rebalance | None:
    """Withdraw a removed judge's assignments and re-run without them (the role is already
    gone). None when the event has no assignment run."""
    await _lock(session, event)
    if not await has_assignment_run(session, event):
        return None
    k = await intended_k(session, event)
    submitted = select(Evaluation.submission_id).where(
        Evaluation.event_id == event.id,
        Evaluation.judge_id == judge_id,
        Evaluation.status == "submitted",
    )
    mine = (
        JudgeAssignment.event_id == event.id,
        JudgeAssignment.judge_id == judge_id,
        JudgeAssignment.state == "assigned",
    )
    unstarted = await session.execute(
        update(JudgeAssignment)
        .where(*mine, JudgeAssignment.submission_id.not_in(submitted))
        .values(state="withdrawn", reason=REMOVED)
    )
    finished = await session.execute(
        update(JudgeAssignment)
        .where(*mine, JudgeAssignment.submission_id.in_(submitted))
        .values(state="withdrawn", reason=REMOVED_EVALUATION_KEPT)
    )
    withdrawn = int(unstarted.rowcount or 0)  # type: ignore[attr-defined]
    kept = int(finished.rowcount or 0)  # type: ignore[attr-defined]
    report = None
    if event.archived_at is None:
        report = await run_assignment(session, await _access(session, actor, event), k=k)
    return Rebalance(withdrawn=withdrawn + kept, kept_evaluations=kept, report=report)


def _reassigned(done: Rebalance | None) -> Reassigned | None:
    report = None if done is None else done.report
    if report is None:
        return None
    return Reassigned(assigned=report.assigned, load_min=report.load_min, load_max=report.load_max)


async def judge_added(session: AsyncSession, actor: Actor, added: JudgeAdded) -> Reassigned | None:
    """Handler of `events.roles.hooks.judge_added`."""
    event = await session.get_one(Event, added.event_id)
    return _reassigned(await after_judge_added(session, actor, event))


async def judge_removed(
    session: AsyncSession, actor: Actor, removed: JudgeRemoved
) -> Reassigned | None:
    """Handler of `events.roles.hooks.judge_removed`."""
    event = await session.get_one(Event, removed.event_id)
    return _reassigned(await after_judge_removed(session, actor, event, removed.judge_id))
