"""The live leaderboard's state per event, kept in this process and updated incrementally.

A full build loads every counted evaluation and the event's judging version in one statement (one
snapshot), fits the judge-effect model (`ranking.fit_judge_effect`) and keeps its
hyperparameters: each judge's weight and the ridge on the offsets. After a score changes, the
rows of `judging_changes` between the version the state has and the committed one are applied
to the arrays (commits are in version order: the version row is locked until commit) and only the
final solve runs again with the kept hyperparameters (`ranking.solve_judge_effect`, ~2 ms for
15,000 evaluations). The hyperparameters are then re-estimated off the request path: a second
after a change, a full fit of a copy of the arrays in a worker thread (one at a time per event,
again while changes keep coming); its result is used from the next change on, and when nothing
changed meanwhile the board is re-solved at once and handed to `on_refit` (the cache is
overwritten for that version). If changes outpace that, a re-estimation
runs in line once `REESTIMATE_SHARE` of the evaluations changed since the last one. The ranking
uses the same keys as `ranking.rank`. The official ranking (organizers' ranking page,
publishing) always fits in full.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.judging.scoring import ranking
from hackops.judging.scoring.normal_equations import Data, Floats, Ints

REESTIMATE_SHARE = 0.05  # re-estimate the hyperparameters after this share of changes
RELOAD_SHARE = 0.25  # more changes than this since the state's version: build afresh
REFIT_DELAY_SECONDS = 1.0  # a background re-estimation starts this long after a change
MAX_EVENTS = 32  # states kept per process (least recently used dropped)

Pair = tuple[uuid.UUID, uuid.UUID]  # (judge, submission)

_FULL = text(
    "SELECT v.version, e.judge_id, e.submission_id, e.raw_score"
    " FROM (SELECT coalesce(max(version), 0) AS version FROM judging_versions"
    "       WHERE event_id = :event) v"
    " LEFT JOIN evaluations e ON e.event_id = :event AND e.status = 'submitted'"
    "  AND e.raw_score IS NOT NULL"
)
_CHANGES = text(
    "SELECT version, judge_id, submission_id, raw_score FROM judging_changes"
    " WHERE event_id = :event AND version > :since AND version <= :until ORDER BY version"
)
_NAMES = text(
    "SELECT s.id, s.title, t.name, s.submitted_at FROM submissions s"
    " JOIN teams t ON t.id = s.team_id WHERE s.event_id = :event"
)


@dataclass
class EventBoard:
    org_id: uuid.UUID
    event_id: uuid.UUID
    version: int = -1
    scores: dict[Pair, float] = field(default_factory=dict)
    names: dict[Any, tuple[str, str, float]] = field(default_factory=dict)
    weights: dict[Any, float] = field(default_factory=dict)
    ridge: float = 1.0
    changed_since_fit: int = 0
    fitted_at: int = -1  # the version whose hyperparameters are in use
    # The arrays of the last solve (rebuilt when a pair appears or goes; a changed score of a
    # known pair is written in place) and the ranking as arrays: rows are built per request.
    data: Data | None = None
    position: dict[Pair, int] = field(default_factory=dict)
    labels: tuple[Ints, Ints] | None = None  # components of `data`'s graph
    when: Any = None  # submission times in `data.submissions` order
    order: Any = None
    quality: Any = None
    mean: Any = None
    count: Any = None
    refit_task: asyncio.Task[None] | None = None
    limits: set[int] = field(default_factory=set)  # the board sizes readers asked for
    on_refit: Callable[[EventBoard], Awaitable[None]] | None = None

    async def build(self, session: AsyncSession) -> None:
        rows = (await session.execute(_FULL, {"event": self.event_id})).all()
        self.version = int(rows[0][0]) if rows else 0
        self.scores = {(j, s): float(x) for _, j, s, x in rows if j is not None}
        await self._load_names(session)
        self._refit()

    async def advance(self, session: AsyncSession, version: int) -> None:
        """Bring the state to the committed `version` (a newer or equal one)."""
        if self.version < 0 or version < self.version:
            await self.build(session)
            return
        if version == self.version:
            return
        rows = (
            await session.execute(
                _CHANGES, {"event": self.event_id, "since": self.version, "until": version}
            )
        ).all()
        if len(rows) > RELOAD_SHARE * max(len(self.scores), 100):
            await self.build(session)
            return
        unnamed = False
        for _, judge, submission, raw in rows:
            pair = (judge, submission)
            if raw is None:
                if self.scores.pop(pair, None) is not None:
                    self.data = None
            else:
                self.scores[pair] = float(raw)
                unnamed = unnamed or submission not in self.names
                where = self.position.get(pair)
                if where is None or self.data is None:
                    self.data = None
                else:
                    self.data.x[where] = float(raw)
        self.version = version
        self.changed_since_fit += len(rows)
        if unnamed:
            await self._load_names(session)
        if self.changed_since_fit >= max(1.0, REESTIMATE_SHARE * len(self.scores)):
            self._refit()
        else:
            self._solve()
            self._refit_in_background()

    def _refit_in_background(self) -> None:
        """Re-estimate the hyperparameters soon, off the request path (one task per event)."""
        if self.refit_task is None or self.refit_task.done():
            self.refit_task = asyncio.get_running_loop().create_task(self._refit_later())

    async def _refit_later(self) -> None:
        # Let a burst of scores land first: the fit then runs on the newest arrays and no
        # incremental update waits for the interpreter while the thread fits.
        await asyncio.sleep(REFIT_DELAY_SECONDS)
        data = self._data()
        if not data.submissions or self.changed_since_fit == 0:
            return
        copy = Data(
            list(data.submissions), list(data.judges), data.sub.copy(), data.judge.copy(),
            data.x.copy(),
        )  # fmt: skip
        version, counted = self.version, self.changed_since_fit
        fit = await asyncio.to_thread(ranking.fit_judge_effect, copy)
        if version < self.fitted_at:  # an in-line re-estimation got further meanwhile
            return
        self.weights, self.ridge = fit.weights, fit.ridge_offset
        self.changed_since_fit = max(0, self.changed_since_fit - counted)
        self.fitted_at = version
        if self.version != version:  # changed meanwhile: those changes get their own fit
            self.refit_task = asyncio.get_running_loop().create_task(self._refit_later())
        elif self.order is not None:
            self._solve()
            if self.on_refit is not None:
                await self.on_refit(self)

    async def _load_names(self, session: AsyncSession) -> None:
        self.names = {
            sid: (title or "", team or "", _epoch(at))
            for sid, title, team, at in await session.execute(_NAMES, {"event": self.event_id})
        }
        self.when = None

    def _data(self) -> Data:
        if self.data is not None:
            return self.data
        subs: dict[uuid.UUID, int] = {}
        judges: dict[uuid.UUID, int] = {}
        sub = np.fromiter(
            (subs.setdefault(s, len(subs)) for _, s in self.scores), np.intp, len(self.scores)
        )
        judge = np.fromiter(
            (judges.setdefault(j, len(judges)) for j, _ in self.scores), np.intp, len(self.scores)
        )
        x = np.fromiter(self.scores.values(), np.float64, len(self.scores))
        self.position = {pair: i for i, pair in enumerate(self.scores)}
        self.data = Data(list(subs), list(judges), sub, judge, x)
        self.labels, self.when = None, None
        return self.data

    def _refit(self) -> None:
        self.data = None
        data = self._data()
        fit = ranking.fit_judge_effect(data)
        self.weights, self.ridge = fit.weights, fit.ridge_offset
        self.changed_since_fit = 0
        self.fitted_at = self.version
        quality = np.array([fit.items[s].score for s in data.submissions], dtype=np.float64)
        self._rank(data, quality)

    def _solve(self) -> None:
        data = self._data()
        if not data.submissions:
            self.order = None
            return
        known = list(self.weights.values())
        default = float(np.median(known)) if known else 1.0
        weight = np.array([self.weights.get(j, default) for j in data.judges], dtype=np.float64)
        if self.labels is None:
            self.labels = ranking.components(data)
        self._rank(data, ranking.solve_judge_effect(data, weight, self.ridge, self.labels))

    def _rank(self, data: Data, quality: Floats) -> None:
        """Order as `ranking.rank`: score, more evaluations, higher raw mean, earlier submission,
        then first appearance."""
        n_s = len(data.submissions)
        if not n_s:
            self.order = None
            return
        count = np.bincount(data.sub, minlength=n_s)
        mean = np.bincount(data.sub, data.x, n_s) / count
        if self.when is None:
            self.when = np.array(
                [self.names.get(s, ("", "", math.inf))[2] for s in data.submissions], np.float64
            )
        self.order = np.lexsort(
            (
                np.arange(n_s),
                self.when,
                -np.round(mean, ranking.TIE_DECIMALS),
                -count,
                -np.round(quality, ranking.TIE_DECIMALS),
            )
        )
        self.quality, self.mean, self.count = quality, mean, count

    def rows(self, limit: int) -> list[dict[str, Any]]:
        """The first `limit` rows of the ranking."""
        if self.order is None or self.data is None:
            return []
        rows = []
        for rank, i in enumerate(self.order[:limit].tolist(), start=1):
            sid = self.data.submissions[i]
            title, team, _ = self.names.get(sid, ("", "", math.inf))
            rows.append(
                {
                    "rank": rank,
                    "submission_id": str(sid),
                    "title": title,
                    "team_name": team,
                    "score": round(float(self.quality[i]), 4),
                    "raw_mean": round(float(self.mean[i]), 4),
                    "evaluations": int(self.count[i]),
                }
            )
        return rows

    def board(self, limit: int) -> dict[str, Any]:
        return {
            "version": self.version,
            "method": ranking.DEFAULT_METHOD.value,
            "ranked": 0 if self.order is None else len(self.order),
            "items": self.rows(limit),
            "hyperparameters_from_version": self.fitted_at,
        }


def _epoch(at: datetime | None) -> float:
    return at.timestamp() if at is not None else math.inf


class Registry:
    """The states of this process, one per (organization, event), with a lock each so that many
    readers of a new version cause one update."""

    def __init__(self, size: int = MAX_EVENTS) -> None:
        self.size = size
        self.boards: OrderedDict[Pair, EventBoard] = OrderedDict()
        self.locks: dict[Pair, asyncio.Lock] = {}

    def lock(self, org_id: uuid.UUID, event_id: uuid.UUID) -> asyncio.Lock:
        return self.locks.setdefault((org_id, event_id), asyncio.Lock())

    async def board_at(
        self, session: AsyncSession, org_id: uuid.UUID, event_id: uuid.UUID, version: int
    ) -> EventBoard:
        """The event's state at the committed `version` (call under `lock`)."""
        key = (org_id, event_id)
        board = self.boards.get(key)
        if board is None:
            board = EventBoard(org_id, event_id)
            self.boards[key] = board
            while len(self.boards) > self.size:
                dropped, _ = self.boards.popitem(last=False)
                self.locks.pop(dropped, None)
        self.boards.move_to_end(key)
        await board.advance(session, version)
        return board
