"""Pairwise judging in the database: the judge's current pair, vote, skip, undo.

The log (`pairwise_entries`, in `seq` order) is the truth; the Crowd-BT state is replayed from it
for every choice (`pairwise.replay`), so undo is "mark undone" and nothing else. The next pair
comes from `pairwise.next_pair`: never an item the judge is conflicted with or has seen, never an
item another judge is looking at (their current pair, shown in the last BUSY_MINUTES), under-seen
items first, the most informative one among them. Table numbers are the submission's place in
submission order, stable for the event (for expo judging).
"""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.audit.service import record
from hackops.constraints import savepoint
from hackops.errors import Conflict
from hackops.events.access import EventAccess
from hackops.judging.pairwise import crowd_bt as pairwise
from hackops.judging.service import (
    CONSTRAINT_ERRORS,
    conflicts_of,
    eligible_submissions,
    require_judge,
    require_judging_open,
)
from hackops.models import PairwiseCurrent, PairwiseEntry
from hackops.submissions.intake.visibility import SubmittedCopy, judge_copies

BUSY_MINUTES = 5
UNDO_MINUTES = 30


class NoPair(Conflict):
    code = "no_pair"
    message = "You have no pair to judge right now."


class NothingToUndo(Conflict):
    code = "nothing_to_undo"
    message = "There is nothing of yours to undo in this session."


class NotInPair(Conflict):
    code = "not_in_pair"
    message = "The winner must be one of the two submissions shown."


@dataclass(frozen=True)
class Shown:
    """The pair on the judge's screen, as they see it (the latest submitted versions)."""

    first: SubmittedCopy
    second: SubmittedCopy
    first_table: int
    second_table: int
    comparisons: int  # the judge's comparisons so far


async def log_of(session: AsyncSession, access: EventAccess) -> list[pairwise.LogEntry]:
    rows = await session.scalars(
        select(PairwiseEntry)
        .where(PairwiseEntry.event_id == access.event.id)
        .order_by(PairwiseEntry.seq)
    )
    out: list[pairwise.LogEntry] = []
    for row in rows:
        if row.kind == "comparison":
            out.append(pairwise.Comparison(row.judge_id, row.first_id, row.second_id, row.undone))
        else:
            out.append(pairwise.Skip(row.judge_id, row.first_id, row.second_id, row.undone))
    return out


async def _check_open(session: AsyncSession, access: EventAccess) -> None:
    await require_judging_open(session, access)  # closed window or published results: 409


async def _shown(
    session: AsyncSession, access: EventAccess, current: PairwiseCurrent, judge_id: uuid.UUID
) -> Shown:
    submissions = await eligible_submissions(session, access)
    order = sorted(submissions, key=lambda s: (s.submitted_at is None, s.submitted_at, s.id))
    tables = {s.id: n + 1 for n, s in enumerate(order)}
    by_id = {s.id: s for s in submissions}
    done = await session.scalar(
        select(func.count()).where(
            PairwiseEntry.event_id == access.event.id,
            PairwiseEntry.judge_id == judge_id,
            PairwiseEntry.kind == "comparison",
            PairwiseEntry.undone.is_(False),
        )
    )
    first, second = await judge_copies(session, [by_id[current.first_id], by_id[current.second_id]])
    return Shown(
        first,
        second,
        tables.get(current.first_id, 0),
        tables.get(current.second_id, 0),
        int(done or 0),
    )


async def current_pair(session: AsyncSession, access: EventAccess) -> Shown | None:
    """The judge's pair: the one on screen, else the most informative next one (or None)."""
    judge_id = require_judge(access)
    await _check_open(session, access)
    current = await session.get(PairwiseCurrent, (access.event.id, judge_id))
    if current is not None:
        return await _shown(session, access, current, judge_id)
    submissions = await eligible_submissions(session, access)
    conflicts = (await conflicts_of(session, access, submissions)).get(judge_id, set())
    candidates = [s.id for s in submissions if s.id not in conflicts]
    now = await session.scalar(select(func.app_now()))
    assert now is not None
    busy_rows = await session.execute(
        select(PairwiseCurrent.first_id, PairwiseCurrent.second_id).where(
            PairwiseCurrent.event_id == access.event.id,
            PairwiseCurrent.judge_id != judge_id,
            PairwiseCurrent.shown_at > now - timedelta(minutes=BUSY_MINUTES),
        )
    )
    busy = {item for row in busy_rows for item in row}
    log = await log_of(session, access)
    state = pairwise.replay(log)
    pair = pairwise.next_pair(
        state,
        judge_id,
        candidates,
        busy=busy,
        rng_seed=zlib.crc32(judge_id.bytes) + len(log),
    )
    if pair is None:
        return None
    first, second = uuid.UUID(str(pair[0])), uuid.UUID(str(pair[1]))
    await session.execute(
        pg_insert(PairwiseCurrent)
        .values(
            event_id=access.event.id,
            judge_id=judge_id,
            org_id=access.event.org_id,
            first_id=first,
            second_id=second,
        )
        .on_conflict_do_nothing()
    )
    current = await session.get(
        PairwiseCurrent, (access.event.id, judge_id), populate_existing=True
    )
    assert current is not None
    return await _shown(session, access, current, judge_id)


async def _take_current(session: AsyncSession, access: EventAccess) -> PairwiseCurrent:
    judge_id = require_judge(access)
    await _check_open(session, access)
    current = await session.scalar(
        select(PairwiseCurrent)
        .where(PairwiseCurrent.event_id == access.event.id, PairwiseCurrent.judge_id == judge_id)
        .with_for_update()
    )
    if current is None:
        raise NoPair
    return current


async def vote(session: AsyncSession, access: EventAccess, winner: uuid.UUID) -> PairwiseEntry:
    current = await _take_current(session, access)
    pair = (current.first_id, current.second_id)
    if winner not in pair:
        raise NotInPair
    loser = pair[1] if winner == pair[0] else pair[0]
    return await _log(session, access, current, "comparison", winner, loser)


async def skip(session: AsyncSession, access: EventAccess) -> PairwiseEntry:
    current = await _take_current(session, access)
    return await _log(session, access, current, "skip", current.first_id, current.second_id)


async def _log(
    session: AsyncSession,
    access: EventAccess,
    current: PairwiseCurrent,
    kind: str,
    first: uuid.UUID,
    second: uuid.UUID,
) -> PairwiseEntry:
    entry = PairwiseEntry(
        org_id=access.event.org_id,
        event_id=access.event.id,
        judge_id=current.judge_id,
        kind=kind,
        first_id=first,
        second_id=second,
    )
    async with savepoint(session, CONSTRAINT_ERRORS):  # results published meanwhile: 409
        session.add(entry)
        await session.delete(current)
        await session.flush()
    await record(
        session,
        access.actor,
        f"pairwise.{'compared' if kind == 'comparison' else 'skipped'}",
        resource_type="pairwise_entry",
        resource_id=entry.id,
        org_id=access.event.org_id,
    )
    return entry


async def undo(session: AsyncSession, access: EventAccess) -> PairwiseEntry:
    """Undo the judge's last judgment of this session (the last UNDO_MINUTES): it is marked
    undone (kept for the audit trail) and its pair is shown again."""
    judge_id = require_judge(access)
    await _check_open(session, access)
    now = await session.scalar(select(func.app_now()))
    assert now is not None
    entry = await session.scalar(
        select(PairwiseEntry)
        .where(
            PairwiseEntry.event_id == access.event.id,
            PairwiseEntry.judge_id == judge_id,
            PairwiseEntry.undone.is_(False),
            PairwiseEntry.created_at > now - timedelta(minutes=UNDO_MINUTES),
        )
        .order_by(PairwiseEntry.seq.desc())
        .limit(1)
        .with_for_update()
    )
    if entry is None:
        raise NothingToUndo
    async with savepoint(session, CONSTRAINT_ERRORS):
        entry.undone = True
        await session.flush()
    await session.execute(
        delete(PairwiseCurrent).where(
            PairwiseCurrent.event_id == access.event.id, PairwiseCurrent.judge_id == judge_id
        )
    )
    session.add(
        PairwiseCurrent(
            event_id=access.event.id,
            judge_id=judge_id,
            org_id=access.event.org_id,
            first_id=entry.first_id,
            second_id=entry.second_id,
        )
    )
    await session.flush()
    await record(
        session,
        access.actor,
        "pairwise.undone",
        resource_type="pairwise_entry",
        resource_id=entry.id,
        org_id=access.event.org_id,
    )
    return entry
