"""Ranking: the judge-effect model recovers planted judges, z-score edge cases, tie-breaks."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy.stats import kendalltau

from hackops.judging.assignment.solver import JudgeSlot, SubmissionSlot, assign
from hackops.judging.pairwise import crowd_bt as pairwise
from hackops.judging.scoring.ranking import (
    DEFAULT_METHOD,
    Evaluation,
    Method,
    Scored,
    compute,
    judge_effect,
    rank,
    raw_mean,
    zscore,
)

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def planted(
    seed: int, *, subs: int = 60, judges: int = 12, k: int = 3, noise: float = 0.0
) -> tuple[list[Evaluation], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    quality = rng.normal(60.0, 10.0, subs)
    offsets = rng.normal(0.0, 10.0, judges)
    offsets -= offsets.mean()
    plan = assign(
        [SubmissionSlot(s) for s in range(subs)],
        [JudgeSlot(j) for j in range(judges)],
        k=k,
        seed=seed,
    )
    evaluations = [
        Evaluation(j, s, float(quality[s] + offsets[j] + rng.normal(0.0, noise) * (noise > 0)))
        for j, s in plan.pairs
    ]
    return evaluations, quality, offsets


def test_judge_effect_recovers_planted_offsets_exactly_without_noise() -> None:
    evaluations, quality, offsets = planted(1)
    fit = judge_effect(evaluations)
    assert max(abs(fit.offsets[j] - offsets[j]) for j in range(12)) < 1e-3
    assert max(abs(fit.items[s].score - quality[s]) for s in range(60)) < 1e-3
    assert len(fit.components) == 1
    assert fit.offset_sd == pytest.approx(float(np.sqrt(np.mean(offsets**2))), rel=0.05)


def test_judge_effect_beats_the_raw_mean_with_noisy_lenient_judges() -> None:
    evaluations, quality, offsets = planted(2, subs=150, judges=20, noise=6.0)
    fit = judge_effect(evaluations)
    assert np.corrcoef([fit.offsets[j] for j in range(20)], offsets)[0, 1] > 0.95
    effect_tau = kendalltau([fit.items[s].score for s in range(150)], quality).statistic
    raw = raw_mean(evaluations)
    raw_tau = kendalltau([raw[s].score for s in range(150)], quality).statistic
    assert effect_tau > raw_tau + 0.07  # one event; bench/judging_sim.py averages 50
    for variant in (
        judge_effect(evaluations, scale=True),
        judge_effect(evaluations, reweight=False),
    ):
        tau = kendalltau([variant.items[s].score for s in range(150)], quality).statistic
        assert tau > raw_tau + 0.04


def test_judge_effect_orders_a_harsh_judges_pick_correctly() -> None:
    # "harsh" scores 20 below "kind" on the three shared submissions; A is seen only by harsh.
    evaluations = [
        Evaluation("harsh", "A", 70.0),
        Evaluation("kind", "B", 85.0),
        *(Evaluation("harsh", s, v - 20) for s, v in (("x", 60.0), ("y", 70.0), ("z", 80.0))),
        *(Evaluation("kind", s, v) for s, v in (("x", 60.0), ("y", 70.0), ("z", 80.0))),
    ]
    assert raw_mean(evaluations)["B"].score > raw_mean(evaluations)["A"].score
    fit = judge_effect(evaluations)
    assert fit.offsets["harsh"] == pytest.approx(-10.0, abs=0.01)
    assert fit.items["A"].score == pytest.approx(80.0, abs=0.01)
    assert fit.items["A"].score > fit.items["B"].score


def test_disconnected_components_are_fitted_separately_and_reported() -> None:
    first, _, _ = planted(3, subs=12, judges=4, k=2)
    second = [Evaluation(("b", e.judge_id), ("b", e.submission_id), e.score + 5) for e in first]
    fit = judge_effect(first + second)
    assert len(fit.components) == 2
    assert {len(c) for c in fit.components} == {12}
    for part in (first, second):
        judges = {e.judge_id for e in part}
        assert sum(fit.offsets[j] for j in judges) == pytest.approx(0.0, abs=1e-6)


def test_one_evaluation_per_submission_falls_back_to_the_raw_mean() -> None:
    evaluations = [Evaluation(j, f"s{j}{i}", 50.0 + 7 * i + j) for j in range(3) for i in range(3)]
    fit = judge_effect(evaluations)
    raw = raw_mean(evaluations)
    assert all(fit.items[s].score == pytest.approx(raw[s].score) for s in raw)
    assert all(v == pytest.approx(0.0) for v in fit.offsets.values())


def test_judges_who_agree_leave_the_raw_mean_almost_unchanged() -> None:
    evaluations, quality, _ = planted(4, subs=40, judges=8)
    unbiased = [
        Evaluation(e.judge_id, e.submission_id, quality[e.submission_id]) for e in evaluations
    ]
    noisy = [
        Evaluation(e.judge_id, e.submission_id, e.score + d)
        for e, d in zip(unbiased, np.random.default_rng(4).normal(0, 5, len(unbiased)), strict=True)
    ]
    fit = judge_effect(noisy)
    assert max(abs(v) for v in fit.offsets.values()) < 1.0


def test_zscore_values() -> None:
    evaluations = [
        Evaluation("a", "x", 60.0),
        Evaluation("a", "y", 80.0),
        Evaluation("b", "x", 40.0),
        Evaluation("b", "y", 50.0),
    ]
    # judge a: mean 70, sd √200; judge b: mean 45, sd √50 → z(x) = -1/√2, z(y) = +1/√2.
    pooled = math.sqrt((200.0 + 50.0) / 2)
    result = zscore(evaluations)
    assert result["x"].score == pytest.approx(57.5 - pooled / math.sqrt(2))
    assert result["y"].score == pytest.approx(57.5 + pooled / math.sqrt(2))
    assert result["x"].raw_mean == 50.0
    assert result["x"].evaluations == 2


def test_zscore_single_score_and_flat_judges_contribute_average() -> None:
    evaluations = [
        Evaluation("once", "solo", 95.0),
        Evaluation("flat", "p", 70.0),
        Evaluation("flat", "q", 70.0),
        Evaluation("spread", "p", 40.0),
        Evaluation("spread", "q", 60.0),
    ]
    result = zscore(evaluations)
    grand = sum(e.score for e in evaluations) / 5
    assert result["solo"].score == pytest.approx(grand)
    assert result["q"].score > result["p"].score
    assert result["p"].score + result["q"].score == pytest.approx(2 * grand)


def test_zscore_when_nobody_discriminates_and_when_empty() -> None:
    flat = [Evaluation("a", "x", 50.0), Evaluation("b", "y", 70.0)]
    assert {s: v.score for s, v in zscore(flat).items()} == {"x": 60.0, "y": 60.0}
    assert zscore([]) == {}
    assert raw_mean([]) == {}
    assert judge_effect([]).items == {}


def test_non_finite_scores_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        raw_mean([Evaluation("a", "x", float("nan"))])


def test_scores_equal_to_a_hundredth_of_a_point_are_a_tie() -> None:
    """The judge-effect fit can split equal raw scores by ten-thousandths (offsets estimated from
    noise): that is a tie, decided by more evaluations, not by the noise."""
    items = [
        Scored("one-judge-a", 90.0005, 90.0, 1),
        Scored("one-judge-b", 90.0, 90.0, 1),
        Scored("two-judges", 89.9998, 90.0, 2),
        Scored("clearly-lower", 89.98, 95.0, 3),
    ]
    submitted_at = {i.submission_id: T0 for i in items}
    ranked = [r.submission_id for r in rank(items, submitted_at)]
    assert ranked == ["two-judges", "one-judge-a", "one-judge-b", "clearly-lower"]


def test_tie_breaks_evaluations_then_raw_mean_then_time_then_input_order() -> None:
    items = [
        Scored("late", 70.0, 60.0, 3),
        Scored("fewer", 70.0, 90.0, 2),
        Scored("early", 70.0, 60.0, 3),
        Scored("higher-raw", 70.0, 65.0, 3),
        Scored("no-time", 70.0, 60.0, 3),
        Scored("best", 71.0, 10.0, 1),
        Scored("twin-1", 70.0, 60.0, 3),
        Scored("twin-2", 70.0, 60.0, 3),
    ]
    submitted_at = {
        "late": T0 + timedelta(hours=2),
        "fewer": T0,
        "early": T0,
        "higher-raw": T0 + timedelta(hours=5),
        "best": T0,
        "twin-1": T0 + timedelta(hours=3),
        "twin-2": T0 + timedelta(hours=3),
    }
    ranked = rank(items, submitted_at)
    assert [r.submission_id for r in ranked] == [
        "best",
        "higher-raw",
        "early",
        "late",
        "twin-1",
        "twin-2",
        "no-time",
        "fewer",
    ]
    assert [r.rank for r in ranked] == list(range(1, 9))


def test_compute_every_method() -> None:
    evaluations, _, _ = planted(5, subs=10, judges=4, k=2, noise=3.0)
    log = [
        pairwise.Comparison("j", 0, 1),
        pairwise.Comparison("j", 2, 0),
        pairwise.Comparison("k", 2, 1),
    ]
    times = {s: T0 + timedelta(minutes=s) for s in range(10)}
    assert Method.judge_effect == DEFAULT_METHOD
    for method in Method:
        ranked = compute(method, evaluations, times, comparisons=log)
        assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
        assert all(
            a.score > b.score or math.isclose(a.score, b.score)
            for a, b in itertools.pairwise(ranked)
        )
    pairwise_ranked = compute(Method.crowd_bt, [], times, comparisons=log)
    assert [r.submission_id for r in pairwise_ranked] == [2, 0, 1]
    assert [r.raw_mean for r in pairwise_ranked] == [100.0, 50.0, 0.0]
    assert [r.evaluations for r in pairwise_ranked] == [2, 2, 2]
    assert compute("raw_mean", evaluations, times)[0].raw_mean == max(  # type: ignore[arg-type]
        s.raw_mean for s in raw_mean(evaluations).values()
    )


def test_judge_effect_reports_how_sure_it_is_of_each_judge() -> None:
    """The offsets' and scales' posterior SDs: the planted offsets lie within two of them about
    as often as a normal error would (95%), and a judge with more shared work is known better."""
    covered, total = 0, 0
    for seed in range(8):
        evaluations, _, offsets = planted(seed, subs=120, judges=16, k=3, noise=5.0)
        fit = judge_effect(evaluations, scale=True)
        assert set(fit.offset_se) == set(fit.scale_se) == set(range(16))
        assert all(0 < fit.scale_se[j] < 1 for j in range(16))
        for j in range(16):
            total += 1
            covered += abs(fit.offsets[j] - offsets[j]) <= 2 * fit.offset_se[j]
    assert 0.85 <= covered / total <= 1.0
    light, heavy = (
        planted(3, subs=40, judges=8, k=2, noise=5.0)[0],
        planted(3, subs=40, judges=8, k=6, noise=5.0)[0],
    )
    light_se = np.mean(list(judge_effect(light).offset_se.values()))
    heavy_se = np.mean(list(judge_effect(heavy).offset_se.values()))
    assert heavy_se < light_se
    assert judge_effect(light).scale_se == dict.fromkeys(range(8), 0.0)


def test_judge_effect_reports_no_uncertainty_it_cannot_estimate() -> None:
    one_each = [Evaluation(j, j, 50.0 + j) for j in range(5)]
    fit = judge_effect(one_each, scale=True)
    assert fit.offset_se == {}
    assert fit.scale_se == {}
