"""Judge assignment: k non-conflicted judges per submission, balanced loads, one connected graph.

The problem is solved exactly as a min-cost flow, written as a linear programme and handed to
HiGHS (scipy's `linprog`, dual simplex). Variables are the free judge-submission pairs
`x[j, s] ∈ [0, 1]` plus unit load increments `y[j, t] ∈ [0, 1]` (the t-th review of judge j).
Constraints: submission s receives exactly `demand(s) - kept(s)` new judges; judge j's new
reviews equal the increments used. The constraint matrix is a network matrix, hence totally
unimodular, so the simplex vertex is integral (checked after solving).

Priorities, lexicographic, encoded as cost tiers that cannot trade against each other:

1. never a conflicted judge (conflicted pairs are not variables at all);
2. coverage: `demand(s) = max(kept(s), min(k, non-conflicted judges of s))`. Coverage is limited
   only by the submission's own conflicts (judges have no capacity), so a shortfall is always
   `k - eligible` and is reported per submission;
3. balance: increment t costs `W·(2t - 1)`, so a judge's load L costs `W·L²`. Minimising the sum
   of squared loads over this set of load vectors (an M-convex set) gives a vector that is
   decreasingly minimal: it minimises the maximum load and maximises the minimum at once, so
   `max - min ≤ 1` whenever any assignment achieves it, and the spread is the smallest possible
   otherwise (Frank & Murota, "Discrete decreasing minimization, Part I", Math. Programming 2022);
4. track expertise: a judge who lists tracks "matches" a submission when the track sets
   intersect; a judge without tracks (generalist) and a submission without tracks match anyone.
   A non-matching pair costs one unit, so judges outside their tracks are used only when the
   balance of tier 3 (or coverage) requires it. Each such pair is reported in `track_fallbacks`;
5. stability: pairs of a `previous` plan cost a little less, so adding or removing a judge moves
   only the reviews that balance needs to move;
6. seeded random noise (smaller than one stability unit in total) breaks the remaining ties, so
   the plan is deterministic for a seed and varies between seeds.

Connectivity (normalisation compares judges through the submissions they share) is not a flow
constraint, and needs k ≥ 2 (with k = 1 every submission is a leaf of one judge's star). It is
checked with union-find over the judges and submissions that have at least one pair, and repaired
by swaps: `(j1, s1), (j2, s2) → (j1, s2), (j2, s1)` across two components.
A swap keeps every load and every submission's count; the cheapest swaps (fewest new track
fallbacks, then seeded order) are tried first, and one is accepted only if it reduces the number
of components. Kept pairs are never swapped.

Re-running is how the plan changes: started work is passed as `keep` (never removed, unless the
pair is now conflicted or refers to a judge or submission no longer present: then it is dropped and
reported in `dropped_keeps`), the current plan as `previous`. Adding a judge: re-run with the new
judge list; the new judge receives about the average load, taken from unstarted reviews. Removing
a judge: re-run without them; their unstarted reviews go to others, their started ones are
reported as dropped. A new conflict: re-run; the conflicted pair disappears and is replaced.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import linprog

JudgeId = Hashable
SubmissionId = Hashable
Pair = tuple[JudgeId, SubmissionId]


@dataclass(frozen=True, slots=True)
class SubmissionSlot:
    """A submission to review and the tracks it entered."""

    id: SubmissionId
    track_ids: frozenset[Hashable] = frozenset()


@dataclass(frozen=True, slots=True)
class JudgeSlot:
    """A judge, the tracks they are expert in (empty: any) and the submissions they may not see."""

    id: JudgeId
    track_ids: frozenset[Hashable] = frozenset()
    conflicts: frozenset[SubmissionId] = frozenset()


class DropReason(StrEnum):
    conflicted = "conflicted"
    unknown_judge = "unknown_judge"
    unknown_submission = "unknown_submission"


@dataclass(frozen=True, slots=True)
class DroppedKeep:
    judge_id: JudgeId
    submission_id: SubmissionId
    reason: DropReason


@dataclass(frozen=True, slots=True)
class AssignmentPlan:
    """The pairs (in submission, then judge input order) and what could not be done."""

    k: int
    seed: int
    judges: tuple[JudgeId, ...]
    submissions: tuple[SubmissionId, ...]
    pairs: tuple[Pair, ...]
    kept: frozenset[Pair]
    shortfalls: Mapping[SubmissionId, int]
    track_fallbacks: tuple[Pair, ...]
    dropped_keeps: tuple[DroppedKeep, ...]
    components: int
    by_submission: Mapping[SubmissionId, tuple[JudgeId, ...]] = field(init=False)
    by_judge: Mapping[JudgeId, tuple[SubmissionId, ...]] = field(init=False)

    def __post_init__(self) -> None:
        by_submission: dict[SubmissionId, list[JudgeId]] = {s: [] for s in self.submissions}
        by_judge: dict[JudgeId, list[SubmissionId]] = {j: [] for j in self.judges}
        for judge, submission in self.pairs:
            by_submission[submission].append(judge)
            by_judge[judge].append(submission)
        object.__setattr__(self, "by_submission", {s: tuple(v) for s, v in by_submission.items()})
        object.__setattr__(self, "by_judge", {j: tuple(v) for j, v in by_judge.items()})


@dataclass(frozen=True, slots=True)
class Coverage:
    """What an organizer checks before judging starts."""

    per_submission: Mapping[SubmissionId, int]
    loads: Mapping[JudgeId, int]
    load_min: int
    load_max: int
    connected: bool
    components: int
    shortfalls: Mapping[SubmissionId, int]
    track_fallbacks: tuple[Pair, ...]
    dropped_keeps: tuple[DroppedKeep, ...]


def coverage(plan: AssignmentPlan) -> Coverage:
    """Per-submission counts, load spread, connectivity and everything that fell short."""
    loads = {j: len(subs) for j, subs in plan.by_judge.items()}
    return Coverage(
        per_submission={s: len(js) for s, js in plan.by_submission.items()},
        loads=loads,
        load_min=min(loads.values(), default=0),
        load_max=max(loads.values(), default=0),
        connected=plan.components <= 1,
        components=plan.components,
        shortfalls=plan.shortfalls,
        track_fallbacks=plan.track_fallbacks,
        dropped_keeps=plan.dropped_keeps,
    )


def matches_track(judge: JudgeSlot, submission: SubmissionSlot) -> bool:
    """The track policy: generalists and track-less submissions match anyone, else overlap."""
    return (
        not judge.track_ids
        or not submission.track_ids
        or bool(judge.track_ids & submission.track_ids)
    )


def assign(
    submissions: Sequence[SubmissionSlot],
    judges: Sequence[JudgeSlot],
    *,
    k: int = 3,
    seed: int,
    keep: Iterable[Pair] = (),
    previous: Iterable[Pair] = (),
) -> AssignmentPlan:
    """Assign k judges to every submission (see the module docstring for the exact policy)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    sub_index = _index([s.id for s in submissions], "submission")
    judge_index = _index([j.id for j in judges], "judge")
    n_sub, n_judge = len(submissions), len(judges)

    eligible = np.ones((n_sub, n_judge), dtype=bool)
    for jj, judge in enumerate(judges):
        for conflicted in judge.conflicts:
            if conflicted in sub_index:
                eligible[sub_index[conflicted], jj] = False
    mismatch = np.array(
        [[not matches_track(j, s) for j in judges] for s in submissions], dtype=bool
    ).reshape(n_sub, n_judge)

    kept = np.zeros((n_sub, n_judge), dtype=bool)
    dropped: list[DroppedKeep] = []
    for judge_id, sub_id in dict.fromkeys(keep):
        reason = None
        if judge_id not in judge_index:
            reason = DropReason.unknown_judge
        elif sub_id not in sub_index:
            reason = DropReason.unknown_submission
        elif not eligible[sub_index[sub_id], judge_index[judge_id]]:
            reason = DropReason.conflicted
        if reason is None:
            kept[sub_index[sub_id], judge_index[judge_id]] = True
        else:
            dropped.append(DroppedKeep(judge_id, sub_id, reason))

    previous_mask = np.zeros((n_sub, n_judge), dtype=bool)
    for judge_id, sub_id in previous:
        if judge_id in judge_index and sub_id in sub_index:
            previous_mask[sub_index[sub_id], judge_index[judge_id]] = True

    eligible_count = eligible.sum(axis=1)
    kept_count = kept.sum(axis=1)
    demand = np.maximum(kept_count, np.minimum(k, eligible_count))
    shortfalls = {
        submissions[i].id: int(k - eligible_count[i]) for i in range(n_sub) if eligible_count[i] < k
    }

    rng = np.random.default_rng(seed)
    chosen = kept | _solve_flow(
        eligible & ~kept, demand - kept_count, kept.sum(axis=0), mismatch, previous_mask, rng
    )
    components = _repair_connectivity(chosen, kept, eligible, mismatch, rng)

    sub_ids = [s.id for s in submissions]
    judge_ids = [j.id for j in judges]
    rows, cols = np.nonzero(chosen)  # row-major: submission order, then judge order
    pairs = tuple(
        (judge_ids[c], sub_ids[r]) for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
    )
    fallbacks = tuple(
        (judge_ids[c], sub_ids[r])
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
        if mismatch[r, c]
    )
    kept_pairs = frozenset(
        (judge_ids[c], sub_ids[r])
        for r, c in zip(*(a.tolist() for a in np.nonzero(kept)), strict=True)
    )
    return AssignmentPlan(
        k=k,
        seed=seed,
        judges=tuple(judge_ids),
        submissions=tuple(sub_ids),
        pairs=pairs,
        kept=kept_pairs,
        shortfalls=shortfalls,
        track_fallbacks=fallbacks,
        dropped_keeps=tuple(dropped),
        components=components,
    )


def _index(ids: Sequence[Hashable], what: str) -> dict[Hashable, int]:
    index = {item: i for i, item in enumerate(ids)}
    if len(index) != len(ids):
        raise ValueError(f"duplicate {what} ids")
    return index


def _solve_flow(
    free: npt.NDArray[np.bool_],
    need: npt.NDArray[np.int_],
    base_load: npt.NDArray[np.int_],
    mismatch: npt.NDArray[np.bool_],
    previous: npt.NDArray[np.bool_],
    rng: np.random.Generator,
) -> npt.NDArray[np.bool_]:
    """The min-cost flow of the module docstring; returns the chosen free pairs as a mask."""
    n_sub, n_judge = free.shape
    chosen = np.zeros_like(free)
    total = int(need.sum())
    if total == 0:
        return chosen
    sub_of, judge_of = np.nonzero(free)
    n_x = len(sub_of)
    # Cost tiers: noise < 1 in total  <  one stability unit  <  mismatch  <  one balance step.
    stability_unit = 1.0
    mismatch_unit = stability_unit * (total + 1)
    balance_unit = mismatch_unit * (total + 1)
    noise = rng.random(n_x) * (0.5 / total)
    x_cost = (
        mismatch[sub_of, judge_of] * mismatch_unit
        + (~previous[sub_of, judge_of]) * stability_unit
        + noise
    )
    free_per_judge = np.bincount(judge_of, minlength=n_judge)
    y_judge = np.repeat(np.arange(n_judge), free_per_judge)
    first = np.cumsum(free_per_judge) - free_per_judge
    # t-th increment of judge j, counted on top of the kept load.
    y_load = np.arange(len(y_judge)) - np.repeat(first, free_per_judge) + 1 + base_load[y_judge]
    # Shifting to W·(L - mean)² would shrink these numbers but measured 2.5x slower in HiGHS.
    # At 900 reviews the mismatch unit is ~1e-5 of the largest cost in play, far above the
    # solver's 1e-7 tolerance; at ~10,000 reviews the noise tier (ties only) fades first.
    y_cost = balance_unit * (2.0 * y_load - 1.0)

    n_y = len(y_judge)
    rows = np.concatenate([sub_of, n_sub + judge_of, n_sub + y_judge])
    cols = np.concatenate([np.arange(n_x), np.arange(n_x), n_x + np.arange(n_y)])
    vals = np.concatenate([np.ones(n_x), np.ones(n_x), -np.ones(n_y)])
    matrix = sp.csr_matrix((vals, (rows, cols)), shape=(n_sub + n_judge, n_x + n_y))
    rhs = np.concatenate([need.astype(float), np.zeros(n_judge)])
    result = linprog(
        np.concatenate([x_cost, y_cost]),
        A_eq=matrix,
        b_eq=rhs,
        bounds=(0.0, 1.0),
        method="highs-ds",
    )
    if result.status != 0:
        raise RuntimeError(f"assignment flow failed: {result.message}")
    x = np.asarray(result.x[:n_x])
    if np.max(np.minimum(np.abs(x), np.abs(1.0 - x)), initial=0.0) > 1e-6:
        raise RuntimeError("assignment flow returned a fractional solution")
    take = x > 0.5
    chosen[sub_of[take], judge_of[take]] = True
    return chosen


# Almost every candidate swap merges two components (only bridge pairs fail); this bound keeps a
# hopeless repair from trying every pair of pairs.
_MAX_SWAP_TRIES = 500


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _component_roots(chosen: npt.NDArray[np.bool_]) -> tuple[list[int], int]:
    """Root per pair (in np.nonzero order) and the number of components among used nodes."""
    n_sub = chosen.shape[0]
    rows, cols = np.nonzero(chosen)
    uf = _UnionFind(n_sub + chosen.shape[1])
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        uf.union(r, n_sub + c)
    roots = [uf.find(r) for r in rows.tolist()]
    return roots, len(set(roots))


def _repair_connectivity(
    chosen: npt.NDArray[np.bool_],
    kept: npt.NDArray[np.bool_],
    eligible: npt.NDArray[np.bool_],
    mismatch: npt.NDArray[np.bool_],
    rng: np.random.Generator,
) -> int:
    """Merge components by load-preserving swaps (in place); the final number of components."""
    roots, count = _component_roots(chosen)
    used = int(chosen.any(axis=1).sum() + chosen.any(axis=0).sum())
    if int(chosen.sum()) < used - 1:
        return count  # too few pairs for a spanning tree (e.g. k = 1): no swap can connect it
    while count > 1:
        rows, cols = np.nonzero(chosen)
        root_arr = np.asarray(roots)
        sizes = {root: int(np.sum(root_arr == root)) for root in dict.fromkeys(roots)}
        smallest = min(sizes, key=lambda root: (sizes[root], root))
        inside = (root_arr == smallest) & ~kept[rows, cols]
        outside = (root_arr != smallest) & ~kept[rows, cols]
        s1, j1 = rows[inside], cols[inside]
        s2, j2 = rows[outside], cols[outside]
        # Swap (j1, s1), (j2, s2) -> (j1, s2), (j2, s1): both new pairs must be allowed.
        allowed = eligible[s2[None, :], j1[:, None]] & eligible[s1[:, None], j2[None, :]]
        delta = (
            mismatch[s2[None, :], j1[:, None]].astype(int)
            + mismatch[s1[:, None], j2[None, :]]
            - mismatch[s1, j1][:, None]
            - mismatch[s2, j2][None, :]
        )
        a_idx, b_idx = np.nonzero(allowed)
        order = np.lexsort((rng.random(len(a_idx)), delta[a_idx, b_idx]))
        merged = False
        for pos in order[:_MAX_SWAP_TRIES].tolist():
            a, b = int(a_idx[pos]), int(b_idx[pos])
            old = ((s1[a], j1[a]), (s2[b], j2[b]))
            new = ((s2[b], j1[a]), (s1[a], j2[b]))
            for cell in old:
                chosen[cell] = False
            for cell in new:
                chosen[cell] = True
            new_roots, new_count = _component_roots(chosen)
            if new_count < count:
                roots, count, merged = new_roots, new_count, True
                break
            for cell in new:
                chosen[cell] = False
            for cell in old:
                chosen[cell] = True
        if not merged:
            break
    return count
