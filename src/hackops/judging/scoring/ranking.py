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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import numpy as np

from hackops.judging.pairwise import crowd_bt as pairwise
from hackops.judging.scoring.normal_equations import (
    Data,
    Floats,
    Ints,
    JudgeId,
    SubmissionId,
    fit,
    graph_components,
    uncertainty,
)


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
    # How sure the fit is of each judge's offset and scale: posterior SDs under the final fit's
    # prior with its hyperparameters held fixed (`normal_equations.uncertainty`). Empty where not
    # estimable (no residual degrees of freedom); scale_se is 0 unless fitted with scale=True.
    offset_se: dict[JudgeId, float] = field(default_factory=dict)
    scale_se: dict[JudgeId, float] = field(default_factory=dict)


def _data(evaluations: Iterable[Evaluation]) -> Data:
    evals = list(evaluations)
    subs: dict[SubmissionId, int] = {}
    judges: dict[JudgeId, int] = {}
    sub = [subs.setdefault(e.submission_id, len(subs)) for e in evals]
    judge = [judges.setdefault(e.judge_id, len(judges)) for e in evals]
    x = np.array([float(e.score) for e in evals], dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("scores must be finite")
    return Data(list(subs), list(judges), np.array(sub, np.intp), np.array(judge, np.intp), x)


def _scored(data: Data, score: Floats) -> dict[SubmissionId, Scored]:
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


def judge_effect(
    evaluations: Iterable[Evaluation], *, scale: bool = False, reweight: bool = True
) -> JudgeEffectFit:
    """`fit_judge_effect` of the evaluations (see there)."""
    return fit_judge_effect(_data(evaluations), scale=scale, reweight=reweight)


def components(data: Data) -> tuple[Ints, Ints]:
    """Connected-component labels of the submissions and of the judges."""
    sub_label, judge_label, _ = graph_components(data)
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
    u, _, _ = fit(data, weight, ridge_offset, None, labels)
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
    sub_label, judge_label, n_comp = graph_components(data)
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
    u, b, a = fit(data, ones, _TINY_RIDGE, tiny_scale, labels)
    y = data.x - data.x.mean()
    noise_var = np.full(n_j, float(np.var(data.x)) or 1.0)
    tau_b = 0.0
    final_weight, final_ridge = ones, _TINY_RIDGE
    offset_se: dict[JudgeId, float] = {}
    scale_se: dict[JudgeId, float] = {}
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
            u, b, a = fit(data, weight, tiny, tiny if scale else None, labels)
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
        u, b, a = fit(data, final_weight, final_ridge, ridge_scale, labels)
        se_b, se_a = uncertainty(data, u, a, final_weight, final_ridge, ridge_scale)
        offset_se = {j: float(se_b[i]) for i, j in enumerate(data.judges)}
        scale_se = {j: float(se_a[i]) for i, j in enumerate(data.judges)}
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
        offset_se=offset_se,
        scale_se=scale_se,
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
