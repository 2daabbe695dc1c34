"""The judging section of an event's dashboard: progress per judge, evaluations per project,
the score distribution per criterion, and each judge's leniency and scale.

The leniency is the one exception to "aggregates only" (`analytics.service`): the judge-effect
model (`judging.scoring.ranking.fit_judge_effect`, the one the ranking uses) is fitted on the
event's submitted evaluations, read in one statement; its fit is kept per (event, judging
version), so a dashboard read again before a score changes does not fit again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.analytics.counts import Count, fetch_rows
from hackops.events.access import EventAccess
from hackops.judging.scoring import ranking


@dataclass(frozen=True, slots=True)
class JudgeRow:
    judge_id: uuid.UUID
    name: str
    assigned: int
    done: int
    evaluations: int  # submitted evaluations (assigned or not)
    offset: float | None  # points above an average judge (None: not in the fit)
    offset_se: float | None
    scale: float | None
    scale_se: float | None


@dataclass(frozen=True, slots=True)
class CriterionScores:
    """How one criterion's scores spread: counts per tenth of its maximum (0%, 10%, … 100%)."""

    name: str
    max_score: int
    bins: list[int]  # 11 counts
    mean: float | None
    count: int


@dataclass(frozen=True, slots=True)
class Judging:
    judges: list[JudgeRow]
    per_project: list[Count]  # label: evaluations per submitted project; value: projects
    criteria: list[CriterionScores]
    offset_sd: float  # spread of the judges' leniency the fit estimated
    fitted: bool  # False when too few evaluations overlap to estimate judge effects


_JUDGES = """
SELECT g.user_id, coalesce(nullif(u.name, ''), u.email),
       count(a.id), count(e.id) FILTER (WHERE e.status = 'submitted'),
       (SELECT count(*) FROM evaluations x
        WHERE x.event_id = :event AND x.judge_id = g.user_id AND x.status = 'submitted')
FROM event_roles g
JOIN users u ON u.id = g.user_id
LEFT JOIN judge_assignments a ON a.event_id = g.event_id AND a.judge_id = g.user_id
    AND a.state = 'assigned'
LEFT JOIN evaluations e ON e.judge_id = a.judge_id AND e.submission_id = a.submission_id
WHERE g.event_id = :event AND g.role = 'judge'
GROUP BY 1, 2 ORDER BY 2, 1
"""

_PER_PROJECT = """
SELECT n, count(*) FROM (
    SELECT count(e.id) AS n FROM submissions s
    LEFT JOIN evaluations e ON e.submission_id = s.id AND e.status = 'submitted'
    WHERE s.event_id = :event AND s.submitted_at IS NOT NULL
    GROUP BY s.id
) x GROUP BY n ORDER BY n
"""

# Each score as a share of its criterion's maximum, to the nearest tenth (bin 0..10).
_CRITERIA = """
SELECT c.id, c.name, c.max_score,
       round(10 * (e.scores ->> c.id::text)::float / c.max_score)::int AS bin,
       count(e.id), sum((e.scores ->> c.id::text)::float)
FROM judging_criteria c
LEFT JOIN evaluations e ON e.event_id = c.event_id AND e.status = 'submitted'
    AND e.scores ? c.id::text
WHERE c.event_id = :event
GROUP BY c.id, c.name, c.max_score, c.position, 4
ORDER BY c.position, c.name, c.id, 4
"""

# The event's committed judging version with the evaluations the ranking counts (one snapshot).
_FIT_INPUT = """
SELECT v.version, e.judge_id, e.submission_id, e.raw_score
FROM (SELECT coalesce(max(version), 0) AS version FROM judging_versions
      WHERE event_id = :event) v
LEFT JOIN evaluations e ON e.event_id = :event AND e.status = 'submitted'
    AND e.raw_score IS NOT NULL
"""

_FITS: OrderedDict[tuple[uuid.UUID, int], ranking.JudgeEffectFit] = OrderedDict()
_FITS_KEPT = 32


async def judge_fit(session: AsyncSession, access: EventAccess) -> ranking.JudgeEffectFit:
    """The judge-effect model with per-judge scales fitted on the submitted evaluations, kept
    per (event, judging version): a score changed is a new version, so never a stale fit."""
    rows = await fetch_rows(session, _FIT_INPUT, event=access.event.id)
    key = (access.event.id, int(rows[0][0]) if rows else 0)
    fit = _FITS.get(key)
    if fit is None:
        evaluations = [ranking.Evaluation(j, s, float(x)) for _, j, s, x in rows if j is not None]
        # Seconds of CPU for a large event: off the event loop, so other requests go on.
        fit = await asyncio.to_thread(ranking.judge_effect, evaluations, scale=True)
        _FITS[key] = fit
        while len(_FITS) > _FITS_KEPT:
            _FITS.popitem(last=False)
    else:
        _FITS.move_to_end(key)
    return fit


async def judging(session: AsyncSession, access: EventAccess) -> Judging:
    event = access.event.id
    fit = await judge_fit(session, access)
    judges = [
        JudgeRow(
            judge_id,
            name,
            int(assigned),
            int(done),
            int(evaluations),
            fit.offsets.get(judge_id),
            fit.offset_se.get(judge_id),
            fit.scales.get(judge_id),
            fit.scale_se.get(judge_id),
        )
        for judge_id, name, assigned, done, evaluations in await fetch_rows(
            session, _JUDGES, event=event
        )
    ]
    per_project = [
        Count(str(n), int(c)) for n, c in await fetch_rows(session, _PER_PROJECT, event=event)
    ]
    criteria: dict[Any, tuple[str, int, list[int], float, int]] = {}
    for cid, name, max_score, bin_, n, total in await fetch_rows(session, _CRITERIA, event=event):
        _, _, bins, sum_, count = criteria.setdefault(cid, (name, max_score, [0] * 11, 0.0, 0))
        if bin_ is not None:
            bins[min(max(int(bin_), 0), 10)] += int(n)
            criteria[cid] = (name, max_score, bins, sum_ + float(total or 0.0), count + int(n))
    return Judging(
        judges,
        per_project,
        [
            CriterionScores(name, max_score, bins, total / count if count else None, count)
            for name, max_score, bins, total, count in criteria.values()
        ],
        fit.offset_sd,
        bool(fit.offset_se),
    )
