"""Assignment: the invariants over many random instances, and each reported failure mode."""

from __future__ import annotations

import random
import uuid
from collections import Counter

import pytest

from hackops.judging.assignment.solver import (
    AssignmentPlan,
    DropReason,
    JudgeSlot,
    SubmissionSlot,
    assign,
    coverage,
    matches_track,
)

TRACKS = ("ai", "health", "climate", "fintech")


def random_instance(
    seed: int, *, subs: int, judges: int, conflicts: int, tracks: bool
) -> tuple[list[SubmissionSlot], list[JudgeSlot]]:
    rng = random.Random(seed)
    submissions = [
        SubmissionSlot(
            f"s{i}", frozenset(rng.sample(TRACKS, rng.randint(1, 2))) if tracks else frozenset()
        )
        for i in range(subs)
    ]
    judge_slots = [
        JudgeSlot(
            f"j{i}",
            frozenset(rng.sample(TRACKS, rng.randint(0, 2))) if tracks else frozenset(),
            frozenset(rng.sample([s.id for s in submissions], rng.randint(0, conflicts))),
        )
        for i in range(judges)
    ]
    return submissions, judge_slots


def check_invariants(
    plan: AssignmentPlan, submissions: list[SubmissionSlot], judges: list[JudgeSlot], k: int
) -> None:
    by_id = {j.id: j for j in judges}
    assert len(set(plan.pairs)) == len(plan.pairs)
    for judge_id, sub_id in plan.pairs:
        assert sub_id not in by_id[judge_id].conflicts
    for sub in submissions:
        eligible = sum(sub.id not in j.conflicts for j in judges)
        assert len(plan.by_submission[sub.id]) == min(k, eligible)
        assert plan.shortfalls.get(sub.id, 0) == max(0, k - eligible)
    report = coverage(plan)
    assert report.load_max - report.load_min <= 1
    if k >= 2:
        assert report.connected
        assert report.components == 1
    subs_by_id = {s.id: s for s in submissions}
    assert set(plan.track_fallbacks) == {
        (j, s) for j, s in plan.pairs if not matches_track(by_id[j], subs_by_id[s])
    }


@pytest.mark.parametrize("seed", range(40))
def test_random_instances_keep_every_invariant(seed: int) -> None:
    rng = random.Random(1000 + seed)
    k = rng.randint(1, 4)
    submissions, judges = random_instance(
        seed,
        subs=rng.randint(15, 60),
        judges=rng.randint(k + 2, 12),
        conflicts=rng.randint(0, 3),
        tracks=seed % 2 == 0,
    )
    check_invariants(assign(submissions, judges, k=k, seed=seed), submissions, judges, k)


def test_300_by_40_with_conflicts_and_tracks() -> None:
    submissions, judges = random_instance(7, subs=300, judges=40, conflicts=8, tracks=True)
    plan = assign(submissions, judges, k=3, seed=7)
    check_invariants(plan, submissions, judges, 3)
    assert len(plan.pairs) == 900


def test_same_seed_same_plan_other_seed_other_plan() -> None:
    submissions, judges = random_instance(3, subs=40, judges=9, conflicts=2, tracks=True)
    first = assign(submissions, judges, k=3, seed=11)
    assert assign(submissions, judges, k=3, seed=11) == first
    others = {assign(submissions, judges, k=3, seed=s).pairs for s in range(12, 16)}
    assert any(pairs != first.pairs for pairs in others)


def test_uuid_ids_and_output_order() -> None:
    submissions = [SubmissionSlot(uuid.uuid4()) for _ in range(10)]
    judges = [JudgeSlot(uuid.uuid4()) for _ in range(4)]
    plan = assign(submissions, judges, k=2, seed=0)
    order = {s.id: i for i, s in enumerate(submissions)}
    assert [order[s] for _, s in plan.pairs] == sorted(order[s] for _, s in plan.pairs)
    assert Counter(s for _, s in plan.pairs) == {s.id: 2 for s in submissions}


def test_infeasible_submission_gets_every_eligible_judge_and_a_shortfall() -> None:
    submissions = [SubmissionSlot(i) for i in range(8)]
    judges = [
        JudgeSlot("a"),
        JudgeSlot("b", conflicts=frozenset({0})),
        JudgeSlot("c", conflicts=frozenset({0})),
        JudgeSlot("d", conflicts=frozenset({0, 1})),
    ]
    plan = assign(submissions, judges, k=3, seed=1)
    assert plan.by_submission[0] == ("a",)
    assert len(plan.by_submission[1]) == 3
    assert "d" not in plan.by_submission[1]
    assert plan.shortfalls == {0: 2}
    assert coverage(plan).shortfalls == {0: 2}


def test_more_judges_needed_than_exist() -> None:
    plan = assign([SubmissionSlot("x")], [JudgeSlot("a"), JudgeSlot("b")], k=3, seed=0)
    assert set(plan.by_submission["x"]) == {"a", "b"}
    assert plan.shortfalls == {"x": 1}


def test_unbalanceable_loads_are_as_even_as_possible() -> None:
    # "b" may only review submission 0: the best spread is loads (9, 1), not (10, 0).
    submissions = [SubmissionSlot(i) for i in range(10)]
    judges = [JudgeSlot("a"), JudgeSlot("b", conflicts=frozenset(range(1, 10)))]
    plan = assign(submissions, judges, k=1, seed=3)
    report = coverage(plan)
    assert report.loads == {"a": 9, "b": 1}
    assert not report.connected
    assert report.components == 2
    assert plan.by_submission[0] == ("b",)


def test_kept_pairs_survive_and_bad_ones_are_dropped_with_a_reason() -> None:
    submissions, judges = random_instance(5, subs=30, judges=8, conflicts=2, tracks=True)
    first = assign(submissions, judges, k=3, seed=5)
    started = list(first.pairs[::4])
    conflicted_pair = started[0]
    judges = [
        JudgeSlot(j.id, j.track_ids, j.conflicts | {conflicted_pair[1]})
        if j.id == conflicted_pair[0]
        else j
        for j in judges
    ]
    keep = [*started, ("ghost", "s1"), ("j1", "gone")]
    plan = assign(submissions, judges, k=3, seed=99, keep=keep)
    assert set(started[1:]) <= set(plan.pairs)
    assert conflicted_pair not in plan.pairs
    assert {(d.judge_id, d.submission_id, d.reason) for d in plan.dropped_keeps} == {
        (*conflicted_pair, DropReason.conflicted),
        ("ghost", "s1", DropReason.unknown_judge),
        ("j1", "gone", DropReason.unknown_submission),
    }
    assert plan.kept == frozenset(started[1:])
    check_invariants(plan, submissions, judges, 3)


def test_kept_pairs_beyond_k_are_not_removed() -> None:
    submissions = [SubmissionSlot(i) for i in range(4)]
    judges = [JudgeSlot(name) for name in "abcd"]
    keep = [("a", 0), ("b", 0), ("c", 0)]
    plan = assign(submissions, judges, k=2, seed=0, keep=keep)
    assert set(plan.by_submission[0]) == {"a", "b", "c"}
    assert all(len(plan.by_submission[s]) == 2 for s in (1, 2, 3))


def test_adding_a_judge_moves_only_what_balance_needs() -> None:
    submissions, judges = random_instance(8, subs=40, judges=6, conflicts=1, tracks=False)
    before = assign(submissions, judges, k=3, seed=8)
    started = before.pairs[:10]
    after = assign(
        submissions,
        [*judges, JudgeSlot("new")],
        k=3,
        seed=8,
        keep=started,
        previous=before.pairs,
    )
    check_invariants(after, submissions, [*judges, JudgeSlot("new")], 3)
    new_load = len(after.by_judge["new"])
    assert new_load == 120 // 7 or new_load == 120 // 7 + 1
    moved = set(before.pairs) - set(after.pairs)
    assert len(moved) == new_load
    assert set(after.pairs) - set(before.pairs) == {("new", s) for s in after.by_judge["new"]}


def test_removing_a_judge_reports_their_started_work() -> None:
    submissions, judges = random_instance(9, subs=24, judges=6, conflicts=1, tracks=False)
    before = assign(submissions, judges, k=2, seed=9)
    leaving = judges[0].id
    started = [p for p in before.pairs if p[0] == leaving][:2]
    after = assign(submissions, judges[1:], k=2, seed=9, keep=started, previous=before.pairs)
    assert {d.reason for d in after.dropped_keeps} == {DropReason.unknown_judge}
    assert all(j != leaving for j, _ in after.pairs)
    check_invariants(after, submissions, judges[1:], 2)


def test_disjoint_specialists_are_connected_by_a_few_reported_fallbacks() -> None:
    submissions = [SubmissionSlot(i, frozenset({TRACKS[i % 4]})) for i in range(40)]
    judges = [JudgeSlot(f"j{i}", frozenset({TRACKS[i % 4]})) for i in range(8)]
    plan = assign(submissions, judges, k=2, seed=2)
    check_invariants(plan, submissions, judges, 2)
    assert 0 < len(plan.track_fallbacks) <= 2 * 3  # one swap per merge, three merges


def test_specialists_with_a_generalist_need_no_fallback() -> None:
    submissions = [SubmissionSlot(i, frozenset({TRACKS[i % 2]})) for i in range(20)]
    judges = [
        *(JudgeSlot(f"j{i}", frozenset({TRACKS[i % 2]})) for i in range(4)),
        JudgeSlot("generalist"),
    ]
    plan = assign(submissions, judges, k=2, seed=4)
    check_invariants(plan, submissions, judges, 2)
    assert plan.track_fallbacks == ()


def test_tracks_give_way_to_balance_and_the_fallbacks_are_reported() -> None:
    # One "ai" expert and 10 ai submissions, k=1, two judges: balance forces 5 ai reviews out.
    submissions = [SubmissionSlot(i, frozenset({"ai"})) for i in range(10)]
    judges = [JudgeSlot("expert", frozenset({"ai"})), JudgeSlot("other", frozenset({"health"}))]
    plan = assign(submissions, judges, k=1, seed=0)
    assert coverage(plan).loads == {"expert": 5, "other": 5}
    assert len(plan.track_fallbacks) == 5


def test_no_submissions_or_no_judges() -> None:
    assert assign([], [JudgeSlot("a")], seed=0).pairs == ()
    plan = assign([SubmissionSlot("x")], [], k=2, seed=0)
    assert plan.pairs == ()
    assert plan.shortfalls == {"x": 2}
    assert coverage(plan).connected


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="k must"):
        assign([SubmissionSlot(1)], [JudgeSlot(1)], k=0, seed=0)
    with pytest.raises(ValueError, match="duplicate submission"):
        assign([SubmissionSlot(1), SubmissionSlot(1)], [JudgeSlot(1)], seed=0)
    with pytest.raises(ValueError, match="duplicate judge"):
        assign([SubmissionSlot(1)], [JudgeSlot(1), JudgeSlot(1)], seed=0)
