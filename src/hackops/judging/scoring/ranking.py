"""Final scores and rankings from rubric evaluations (or pairwise comparisons).

Every method returns, per submission, a score on an interpretable scale and the evaluation count:

- `raw_mean`: the mean of the raw weighted scores (0..100). What common tools do; a lenient judge
  lifts every submission they happen to see.
- `zscore`: each judge's scores standardised by that judge's mean and SD, averaged per submission,
  then put back on the 0..100 scale as `grand mean + pooled within-judge SD x mean z`. A judge who
  cannot discriminate (one score, or all scores equal) has x - mean = 0 and contributes z = 0.
- `judge_effect`: the fitted model `score = quality_s + offset_j (+ (scale_j - 1)·(quality_s - c)) +
  noise_j`, the "calibration" model of peer review (Roos, Rothe & Scheuermann, AAAI 2011; MacKay,
  Kenna, Low & Parker, "Calibration with confidence", R. Soc. Open Sci. 2017; Ge, Welling &
  Ghahramani 2013 for the Bayesian reading). See `judge_effect` for the estimation.
- `crowd_bt`: from pairwise comparisons (`judging.pairwise.crowd_bt`); the score is the probability,
  in %, of beating an average submission, and `raw_mean` is the share of comparisons won, in %.

`rank` orders by score, then more evaluations, then higher raw mean, then earlier submission time
(an item without a time goes after those with one); an exact tie on all keys keeps input order.
Only submissions with at least one evaluation (comparison) are ranked; per-track rankings are
`rank` over the track's subset of the scored items (the fit itself uses every evaluation, so judge
effects are estimated from the whole event).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from hackops.judging.pairwise import crowd_bt as pairwise

SubmissionId = Hashable
JudgeId = Hashable
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]


class Method(StrEnum):
    raw_mean = "raw_mean"
    zscore = "zscore"
    judge_effect = "judge_effect"
    crowd_bt = "crowd_bt"


# bench/judging_sim.py: judge_effect beats raw_mean by ≈ 0.13 Kendall tau; z-score sits between.
DEFAULT_METHOD = Method.judge_effect


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One submitted rubric evaluation: the raw weighted score on 0..100."""

    judge_id: JudgeId
    submission_id: SubmissionId
    score: float


@dataclass(frozen=True, slots=True)
class Scored:
    submission_id: SubmissionId
    score: float
    raw_mean: float
    evaluations: int


@dataclass(frozen=True, slots=True)
class RankedItem:
    submission_id: SubmissionId
    rank: int
    score: float
    raw_mean: float
    evaluations: int


@dataclass(frozen=True, slots=True)
class JudgeEffectFit:
    """The fitted model: scores, and what an organizer may want to see about the judges."""

    items: dict[SubmissionId, Scored]
    offsets: dict[JudgeId, float]  # points above an average judge, at average quality
    scales: dict[JudgeId, float]  # 1.0 unless fitted with scale=True
    noise_sd: dict[JudgeId, float]  # per-judge residual SD (shrunk towards the pooled one)
    offset_sd: float  # estimated spread of the judges' leniency (0 when not estimable)
    components: tuple[frozenset[SubmissionId], ...]  # submissions per connected component
    # The hyperparameters of the final solve (scale=False): the weight of each judge's scores
    # and the ridge on the offsets. `solve_judge_effect` with these reproduces `items`.
    weights: dict[JudgeId, float]
    ridge_offset: float


@dataclass(frozen=True, slots=True)
class Data:
    """Evaluations as arrays: `sub[i]`, `judge[i]` index `submissions` and `judges`; `x[i]` is
    the raw score. Every listed submission and judge has at least one evaluation."""

    submissions: list[SubmissionId]
    judges: list[JudgeId]
    sub: Ints
    judge: Ints
    x: Floats


_Data = Data


def _data(evaluations: Iterable[Evaluation]) -> _Data:
    evals = list(evaluations)
    subs: dict[SubmissionId, int] = {}
    judges: dict[JudgeId, int] = {}
    sub = [subs.setdefault(e.submission_id, len(subs)) for e in evals]
    judge = [judges.setdefault(e.judge_id, len(judges)) for e in evals]
    x = np.array([float(e.score) for e in evals], dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("scores must be finite")
    return _Data(list(subs), list(judges), np.array(sub, np.intp), np.array(judge, np.intp), x)


def _scored(data: _Data, score: Floats) -> dict[SubmissionId, Scored]:
    n = np.bincount(data.sub, minlength=len(data.submissions))
    mean = np.bincount(data.sub, data.x, len(data.submissions)) / n
    return {
        s: Scored(s, float(score[i]), float(mean[i]), int(n[i]))
        for i, s in enumerate(data.submissions)
    }


def raw_mean(evaluations: Iterable[Evaluation]) -> dict[SubmissionId, Scored]:
    """Mean raw score per submission."""
    data = _data(evaluations)
    if not data.submissions:
        return {}
    n = np.bincount(data.sub)
    return _scored(data, np.bincount(data.sub, data.x) / n)


def zscore(evaluations: Iterable[Evaluation]) -> dict[SubmissionId, Scored]:
    """Per-judge standardisation (sample SD), mapped back to the 0..100 scale."""
    data = _data(evaluations)
    if not data.submissions:
        return {}
    n_j = np.bincount(data.judge)
    mean_j = np.bincount(data.judge, data.x) / n_j
    centred = data.x - mean_j[data.judge]
    ss_j = np.bincount(data.judge, centred**2)
    sd_j = np.sqrt(np.divide(ss_j, n_j - 1, out=np.zeros_like(ss_j), where=n_j > 1))
    usable = sd_j > 1e-12
    z = np.divide(centred, sd_j[data.judge], out=np.zeros_like(centred), where=usable[data.judge])
    dof = float(np.sum(np.maximum(n_j - 1, 0)))
    pooled = math.sqrt(float(ss_j.sum()) / dof) if dof > 0 else 0.0
    if pooled <= 1e-12:
        pooled = float(np.std(data.x)) or 1.0
    mean_z = np.bincount(data.sub, z) / np.bincount(data.sub)
    return _scored(data, float(data.x.mean()) + pooled * mean_z)


# --- judge-effect model ------------------------------------------------------------------------

_TINY_RIDGE = 1e-6  # relative to the typical weight: fixes the gauge, changes nothing else
_PRIOR_DOF = 5.0  # pseudo degrees of freedom pulling each judge's noise towards the pooled one
_SCALE_BOUNDS = (0.1, 10.0)


def _components(data: _Data) -> tuple[Ints, Ints, int]:
    """Connected-component label of every submission and judge, and how many there are."""
    n_s, n_j = len(data.submissions), len(data.judges)
    graph = sp.coo_matrix(
        (np.ones(len(data.x)), (data.sub, n_s + data.judge)), shape=(n_s + n_j, n_s + n_j)
    )
    count, labels = sp.csgraph.connected_components(graph, directed=False)
    labels = np.asarray(labels, dtype=np.intp)
    return labels[:n_s], labels[n_s:], int(count)


def _solve_quality_and_offsets(
    data: _Data,
    y: Floats,
    scale: Floats,
    weight: Floats,
    ridge_offset: float,
    labels: tuple[Ints, Ints],
) -> tuple[Floats, Floats]:
    """Weighted ridge least squares for (u, b) in y = b_j + scale_j · u_s, scale fixed.

    Normal equations, with the submission block (diagonal) eliminated: a dense judges x judges
    Schur complement. The ridge on the offsets makes it positive definite per component and puts
    the offsets' mean at 0 in each component (shifting all b by c and all u by -c leaves the
    residuals unchanged, and Σ(b_j + c)² is smallest at mean(b + c) = 0; with scales the shift
    is b - scale·h, u + h, and the optimum has Σ scale_j·b_j = 0). That condition is re-imposed
    exactly afterwards, as the solve can lose it when the noise is tiny and the weights huge.
    """
    n_s, n_j = len(data.submissions), len(data.judges)
    g = scale[data.judge]
    w = weight[data.judge]
    d_q = np.bincount(data.sub, w * g * g, n_s)
    r_q = np.bincount(data.sub, w * g * y, n_s)
    d_b = np.bincount(data.judge, w, n_j) + ridge_offset
    r_b = np.bincount(data.judge, w * y, n_j)
    cross = sp.csr_matrix((w * g, (data.sub, data.judge)), shape=(n_s, n_j))
    scaled = sp.diags(1.0 / d_q) @ cross
    schur = np.diag(d_b) - (cross.T @ scaled).toarray()
    b = np.linalg.solve(schur, r_b - scaled.T @ r_q)
    u = (r_q - cross @ b) / d_q
    sub_label, judge_label = labels
    shift = np.bincount(judge_label, scale * b) / np.bincount(judge_label, scale * scale)
    b = b - scale * shift[judge_label]
    u = u + shift[sub_label]
    return np.asarray(u, dtype=np.float64), np.asarray(b, dtype=np.float64)


def _fit(
    data: _Data,
    weight: Floats,
    ridge_offset: float,
    ridge_scale: float | None,
    labels: tuple[Ints, Ints],
) -> tuple[Floats, Floats, Floats]:
    """(u, offsets, scales); scales by alternating least squares when ridge_scale is given."""
    y = data.x - data.x.mean()
    scale = np.ones(len(data.judges))
    u, b = _solve_quality_and_offsets(data, y, scale, weight, ridge_offset, labels)
    if ridge_scale is None:
        return u, b, scale
    for _ in range(100):
        # Per judge, ridge regression of y on (1, u): a 2 x 2 system with the prior scale 1.
        w = weight[data.judge]
        uj = u[data.sub]
        n_j = len(data.judges)
        s_w = np.bincount(data.judge, w, n_j)
        s_u = np.bincount(data.judge, w * uj, n_j)
        s_uu = np.bincount(data.judge, w * uj * uj, n_j)
        s_y = np.bincount(data.judge, w * y, n_j)
        s_uy = np.bincount(data.judge, w * uj * y, n_j)
        a11, a12, a22 = s_w + ridge_offset, s_u, s_uu + ridge_scale
        new_scale = (a11 * (s_uy + ridge_scale) - a12 * s_y) / (a11 * a22 - a12 * a12)
        new_scale = np.clip(new_scale, *_SCALE_BOUNDS)
        # Gauge: geometric mean scale 1 per component (u ↦ g·u, scale ↦ scale/g fits the same).
        judge_label = labels[1]
        log_mean = np.bincount(judge_label, np.log(new_scale)) / np.bincount(judge_label)
        new_scale = new_scale / np.exp(log_mean[judge_label])
        change = float(np.max(np.abs(new_scale - scale)))
        scale = new_scale
        u, b = _solve_quality_and_offsets(data, y, scale, weight, ridge_offset, labels)
        if change < 1e-9:
            break
    return u, b, scale


def judge_effect(
    evaluations: Iterable[Evaluation], *, scale: bool = False, reweight: bool = True
) -> JudgeEffectFit:
    """`fit_judge_effect` of the evaluations (see there)."""
    return fit_judge_effect(_data(evaluations), scale=scale, reweight=reweight)


def components(data: Data) -> tuple[Ints, Ints]:
    """Connected-component labels of the submissions and of the judges."""
    sub_label, judge_label, _ = _components(data)
    return sub_label, judge_label


def solve_judge_effect(
    data: Data, weight: Floats, ridge_offset: float, labels: tuple[Ints, Ints] | None = None
) -> Floats:
    """The final step of `fit_judge_effect` alone (scale=False): quality per submission (in
    `data.submissions` order, on the 0..100 scale) for given judge weights and offset ridge.

    The live leaderboard keeps the hyperparameters of the last full fit and re-solves only this
    after a score changes: one sparse elimination, no re-estimation (bench/leaderboard_load.py
    reports how far that drifts from a full refit)."""
    if labels is None:
        labels = components(data)
    u, _, _ = _fit(data, weight, ridge_offset, None, labels)
    return np.asarray(u + data.x.mean(), dtype=np.float64)


def fit_judge_effect(data: Data, *, scale: bool = False, reweight: bool = True) -> JudgeEffectFit:
    """Fit score = quality + judge offset (x judge scale) + judge noise; scores = quality.

    Estimation, empirical Bayes in three steps, all closed-form or tiny dense solves:

    1. a near-fixed-effects fit (tiny ridge on the offsets only, for identifiability): residuals
       give the pooled noise variance (residual SS / degrees of freedom, N - submissions - judges
       + components) and each judge's noise variance, shrunk towards the pooled one with
       `_PRIOR_DOF` pseudo degrees of freedom;
    2. with weights 1/noise_j² (`reweight`; else the pooled noise), the fixed-effects fit again;
       the spread of the judges' leniency by the method of moments:
       tau² = mean(b_j²) - mean(Var b_j), with Var b_j ≈ noise_j² / Σ_s (m_s - 1)/m_s (m_s the
       evaluations of submission s: a submission seen by one judge says nothing about offsets);
    3. the final fit with the ridge 1/tau² on the offsets (the Gaussian prior b_j ~ N(0, tau²)),
       so offsets of judges with little shared work are shrunk, and an event whose judges agree
       (tau ≈ 0) falls back to the raw mean. With `scale`, the same for (scale_j - 1).

    The score of a submission is its quality: what an average judge (offset 0, scale 1) would
    have given, on the 0..100 scale. Components of the judge-submission graph are independent
    blocks of the normal equations, so each is fitted separately (the noise and offset spread
    are pooled); across components the scores assume equally lenient average judges, which is
    why they are reported. With no residual degrees of freedom (e.g. one evaluation per
    submission) offsets are not estimable and the fit is the raw mean.
    """
    if not data.submissions:
        return JudgeEffectFit({}, {}, {}, {}, 0.0, (), {}, 0.0)
    sub_label, judge_label, n_comp = _components(data)
    labels = (sub_label, judge_label)
    n, n_s, n_j = len(data.x), len(data.submissions), len(data.judges)
    per_sub = np.bincount(data.sub, minlength=n_s)
    info = (per_sub[data.sub] - 1) / per_sub[data.sub]
    n_eff = np.bincount(data.judge, info, n_j)
    informative = n_eff > 1e-12
    # One gauge per component: the offsets' mean (and with scales, their geometric mean).
    params = (n_s + n_j - n_comp) + ((n_j - n_comp) if scale else 0)
    dof = n - params
    ones = np.ones(n_j)
    tiny_scale = _TINY_RIDGE if scale else None
    u, b, a = _fit(data, ones, _TINY_RIDGE, tiny_scale, labels)
    y = data.x - data.x.mean()
    noise_var = np.full(n_j, float(np.var(data.x)) or 1.0)
    tau_b = 0.0
    final_weight, final_ridge = ones, _TINY_RIDGE
    if dof > 0:
        for _ in range(2):
            resid = y - b[data.judge] - a[data.judge] * u[data.sub]
            pooled = float(resid @ resid) / dof
            rss_j = np.bincount(data.judge, resid**2, n_j)
            dof_j = np.bincount(data.judge, minlength=n_j) * (dof / n)
            noise_var = np.maximum((rss_j + _PRIOR_DOF * pooled) / (dof_j + _PRIOR_DOF), 1e-9)
            if not reweight:
                noise_var = np.full(n_j, max(pooled, 1e-9))
            weight = 1.0 / noise_var
            tiny = _TINY_RIDGE * float(np.median(weight))
            u, b, a = _fit(data, weight, tiny, tiny if scale else None, labels)
        # After the loop: weights from the last residuals, fixed-effects estimates b, a.
        var_b = noise_var[informative] / n_eff[informative]
        moment = float(np.mean(b[informative] ** 2 - var_b)) if informative.any() else 0.0
        tau_b_sq = max(moment, 1e-4 * float(pooled), 1e-12)
        tau_b = math.sqrt(tau_b_sq)
        ridge_scale = None
        if scale:
            centred = (
                u[data.sub]
                - (
                    np.bincount(data.judge, u[data.sub], n_j)
                    / np.bincount(data.judge, minlength=n_j)
                )[data.judge]
            )
            spread = np.bincount(data.judge, info * centred**2, n_j)
            ok = informative & (spread > 1e-12)
            var_a = noise_var[ok] / spread[ok]
            tau_a_sq = max(float(np.mean((a[ok] - 1.0) ** 2 - var_a)) if ok.any() else 0.0, 1e-6)
            ridge_scale = 1.0 / tau_a_sq
        final_weight, final_ridge = 1.0 / noise_var, 1.0 / tau_b_sq
        u, b, a = _fit(data, final_weight, final_ridge, ridge_scale, labels)
    quality = u + data.x.mean()
    parts = tuple(
        frozenset(s for i, s in enumerate(data.submissions) if sub_label[i] == c)
        for c in range(n_comp)
    )
    return JudgeEffectFit(
        items=_scored(data, quality),
        offsets={j: float(b[i]) for i, j in enumerate(data.judges)},
        scales={j: float(a[i]) for i, j in enumerate(data.judges)},
        noise_sd={j: math.sqrt(float(noise_var[i])) for i, j in enumerate(data.judges)},
        offset_sd=tau_b,
        components=parts,
        weights={j: float(final_weight[i]) for i, j in enumerate(data.judges)},
        ridge_offset=final_ridge,
    )


# --- pairwise, ranking, the entry point ---------------------------------------------------------


def crowd_bt(comparisons: Iterable[pairwise.LogEntry]) -> dict[SubmissionId, Scored]:
    """Crowd-BT strengths as P(beating an average submission) in %; raw_mean = wins in %."""
    state = pairwise.replay(comparisons)
    compared = {i: b for i, b in state.items.items() if b.comparisons > 0}
    if not compared:
        return {}
    reference = sum(b.mu for b in compared.values()) / len(compared)
    return {
        i: Scored(
            i,
            100.0 * pairwise.win_probability(b.mu, reference),
            100.0 * b.wins / b.comparisons,
            b.comparisons,
        )
        for i, b in compared.items()
    }


# Scores (0..100) that agree to this many decimals are a tie, and the tie-breaks decide: the
# judge-effect fit can separate equal raw scores by a few ten-thousandths of a point (judge
# offsets estimated from noise), which is no evidence that one project is better.
TIE_DECIMALS = 2


def rank(
    items: Iterable[Scored], submitted_at: Mapping[SubmissionId, datetime]
) -> list[RankedItem]:
    """Ranks 1..n by score (to `TIE_DECIMALS`), then more evaluations, higher raw mean, earlier
    submission, input order."""
    listed = list(items)
    times = sorted(
        {submitted_at[i.submission_id] for i in listed if i.submission_id in submitted_at}
    )
    time_rank = {t: r for r, t in enumerate(times)}

    def key(item: Scored) -> tuple[float, int, float, int]:
        when = submitted_at.get(item.submission_id)
        return (
            -round(item.score, TIE_DECIMALS),
            -item.evaluations,
            -round(item.raw_mean, TIE_DECIMALS),
            time_rank[when] if when is not None else len(times),
        )

    ordered = sorted(listed, key=key)
    return [
        RankedItem(i.submission_id, r, i.score, i.raw_mean, i.evaluations)
        for r, i in enumerate(ordered, start=1)
    ]


def score(
    method: Method,
    evaluations: Iterable[Evaluation],
    *,
    comparisons: Sequence[pairwise.LogEntry] = (),
) -> dict[SubmissionId, Scored]:
    """Per-submission scores by `method` (crowd_bt uses `comparisons`, the others `evaluations`)."""
    match Method(method):
        case Method.raw_mean:
            return raw_mean(evaluations)
        case Method.zscore:
            return zscore(evaluations)
        case Method.judge_effect:
            return judge_effect(evaluations).items
        case Method.crowd_bt:
            return crowd_bt(comparisons)


def compute(
    method: Method,
    evaluations: Iterable[Evaluation],
    submitted_at: Mapping[SubmissionId, datetime],
    *,
    comparisons: Sequence[pairwise.LogEntry] = (),
) -> list[RankedItem]:
    """The overall ranking by `method`; see the module docstring for per-track rankings."""
    return rank(score(method, evaluations, comparisons=comparisons).values(), submitted_at)
