"""Crowd-BT: updates, replay equals incremental, undo, skip, pair choice, serialisation."""

from __future__ import annotations

import json
import random
import uuid

import numpy as np
import pytest

from hackops.judging.pairwise import crowd_bt as pairwise
from hackops.judging.pairwise.crowd_bt import Comparison, Skip, State


def random_log(seed: int, items: int = 12, judges: int = 3, entries: int = 40) -> list:
    rng = random.Random(seed)
    log: list[pairwise.LogEntry] = []
    for _ in range(entries):
        a, b = rng.sample(range(items), 2)
        judge = f"judge-{rng.randrange(judges)}"
        if rng.random() < 0.1:
            log.append(Skip(judge, a, b))
        else:
            log.append(Comparison(judge, a, b, undone=rng.random() < 0.1))
    return log


def test_an_update_moves_the_winner_up_and_the_loser_down() -> None:
    state = State()
    pairwise.update(state, "j", "w", "l")
    winner, loser = state.items["w"], state.items["l"]
    assert winner.mu > pairwise.MU_PRIOR > loser.mu
    assert winner.mu == pytest.approx(-loser.mu)
    assert winner.sigma_sq < pairwise.SIGMA_SQ_PRIOR
    assert loser.sigma_sq < pairwise.SIGMA_SQ_PRIOR
    assert (winner.comparisons, winner.wins, loser.comparisons, loser.wins) == (1, 1, 1, 0)
    assert state.judges["j"].anchor == "w"
    assert set(state.judges["j"].seen) == {"w", "l"}


def test_the_chain_moves_to_the_new_item() -> None:
    state = State()
    pairwise.update(state, "j", "a", "b")  # first pair: the judge stays at the winner, a
    pairwise.update(state, "j", "c", "a")  # a was the anchor: c is new
    assert state.judges["j"].anchor == "c"
    pairwise.update(state, "j", "c", "d")
    assert state.judges["j"].anchor == "d"


def test_judge_reliability_follows_agreement_with_the_consensus() -> None:
    state = State()
    for _ in range(6):
        pairwise.update(state, "crowd", "strong", "weak")
    prior = pairwise.JudgeBelief().reliability
    contrarian, agreeing = State(), State()
    for copy in (contrarian, agreeing):
        copy.items = {i: pairwise.ItemBelief(b.mu, b.sigma_sq) for i, b in state.items.items()}
    pairwise.update(contrarian, "odd", "weak", "strong")
    pairwise.update(agreeing, "fair", "strong", "weak")
    assert contrarian.judges["odd"].reliability < prior < agreeing.judges["fair"].reliability
    # An upset by a judge doubted moves the items less than one by a trusted judge.
    doubted = State(items=dict(contrarian.items), judges={})
    doubted.items = {i: pairwise.ItemBelief(b.mu, b.sigma_sq) for i, b in state.items.items()}
    doubted.judges["odd"] = pairwise.JudgeBelief(alpha=2.0, beta=2.0)
    pairwise.update(doubted, "odd", "weak", "strong")
    assert doubted.items["weak"].mu < contrarian.items["weak"].mu


@pytest.mark.parametrize("seed", range(5))
def test_replay_equals_the_incrementally_built_state(seed: int) -> None:
    log = random_log(seed)
    state = State()
    for entry in log:
        pairwise.apply(state, entry)
    assert pairwise.replay(log) == state
    assert pairwise.replay(log) == pairwise.replay(list(log))


def test_undo_is_replay_without_the_entry() -> None:
    log = [e for e in random_log(7) if not e.undone]
    undone = [*log[:10], Comparison(log[10].judge, 0, 1, undone=True), *log[11:]]
    without = [*log[:10], *log[11:]]
    assert pairwise.replay(undone) == pairwise.replay(without)
    assert pairwise.replay(undone) != pairwise.replay(log)


def test_skip_changes_no_belief_and_the_item_is_not_proposed_again() -> None:
    state = pairwise.replay([Comparison("j", "a", "b")])  # anchor a
    before = {i: (b.mu, b.sigma_sq) for i, b in state.items.items()}
    pairwise.apply(state, Skip("j", "a", "c"))
    assert {i: (b.mu, b.sigma_sq) for i, b in state.items.items()} == before
    assert state.judges["j"].anchor == "a"
    assert "c" in state.judges["j"].seen
    for seed in range(20):
        assert pairwise.next_pair(state, "j", ["a", "b", "c", "d"], rng_seed=seed) == ("a", "d")
    assert pairwise.next_pair(state, "j", ["a", "b", "c"], rng_seed=0) is None


def test_next_pair_never_returns_a_busy_or_seen_item() -> None:
    items = list(range(30))
    for seed in range(50):
        rng = random.Random(seed)
        state = pairwise.replay(random_log(seed, items=30, judges=2, entries=25))
        busy = set(rng.sample(items, 10))
        pair = pairwise.next_pair(state, "judge-0", items, busy=busy, rng_seed=seed)
        assert pair is not None
        anchor, new = pair
        assert new not in busy
        assert new not in state.judges["judge-0"].seen
        assert anchor == state.judges["judge-0"].anchor


def test_next_pair_prefers_under_seen_items() -> None:
    state = pairwise.replay([Comparison("other", i, i + 1) for i in range(0, 8, 2)])
    counts = dict.fromkeys(range(8), 5) | {8: 0, 9: 1}
    for seed in range(30):
        pair = pairwise.next_pair(state, "j", list(range(10)), seen_counts=counts, rng_seed=seed)
        assert pair is not None
        assert pair[1] in {8, 9}
        assert pair[0] in {8, 9}  # no anchor yet: the judge starts at a least-seen item


def test_next_pair_maximises_the_expected_information_gain() -> None:
    log = [Comparison("crowd", "a", b) for b in "bcdef"] + [Comparison("crowd", "c", "d")]
    state = pairwise.replay(log)
    state.judges["j"] = pairwise.JudgeBelief(anchor="a", seen={"a": None})
    pool = ["b", "c", "d", "e", "f"]
    gains = pairwise.expected_information_gain(
        10.0,
        1.0,
        state.items["a"].mu,
        state.items["a"].sigma_sq,
        np.array([state.items[i].mu for i in pool]),
        np.array([state.items[i].sigma_sq for i in pool]),
    )
    expected = pool[int(np.argmax(gains))]
    assert pairwise.next_pair(state, "j", [*pool, "a"], rng_seed=1, min_views=0) == ("a", expected)


def test_uncertain_and_close_items_are_worth_more() -> None:
    gains = pairwise.expected_information_gain(
        10.0, 1.0, 0.0, 1.0, np.array([0.0, 0.0, 3.0]), np.array([1.0, 0.1, 1.0])
    )
    assert gains[0] > gains[1]
    assert gains[0] > gains[2]


def test_next_pair_is_deterministic_for_a_seed_and_none_when_nothing_is_left() -> None:
    state = pairwise.replay(random_log(3, items=20))
    fresh = State()  # every item alike: only the seed decides
    picks = {pairwise.next_pair(fresh, "new", list(range(20)), rng_seed=s) for s in range(10)}
    assert all(
        pairwise.next_pair(state, "new", list(range(20)), rng_seed=s)
        == pairwise.next_pair(state, "new", list(range(20)), rng_seed=s)
        for s in range(10)
    )
    assert len(picks) > 1
    assert pairwise.next_pair(state, "new", [1, 2], busy={2}, rng_seed=0) is None
    assert pairwise.next_pair(state, "new", [], rng_seed=0) is None


def test_epsilon_explores_within_the_pool() -> None:
    state = pairwise.replay([Comparison("j", "a", "b")])
    picks = {
        pairwise.next_pair(state, "j", ["a", "b", "c", "d", "e"], rng_seed=s, epsilon=1.0)
        for s in range(30)
    }
    assert picks == {("a", "c"), ("a", "d"), ("a", "e")}


def test_state_round_trips_through_json_with_uuid_ids() -> None:
    ids = [uuid.uuid4() for _ in range(6)]
    judges = [uuid.uuid4() for _ in range(2)]
    log = [Comparison(judges[i % 2], ids[i], ids[(i + 1) % 6]) for i in range(6)]
    state = pairwise.replay([*log, Skip(judges[0], ids[1], ids[4])])
    text = json.dumps(state.to_dict(str, str))
    restored = State.from_dict(json.loads(text), uuid.UUID, uuid.UUID)
    assert restored == state
    with pytest.raises(ValueError, match="version"):
        State.from_dict({"version": 2, "items": [], "judges": []})


def test_ranking_by_mu_and_self_comparison_refused() -> None:
    state = pairwise.replay(
        [Comparison("j", "a", "b"), Comparison("j", "b", "c"), Comparison("k", "a", "c")]
    )
    assert [item for item, _ in pairwise.ranking(state)] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="itself"):
        pairwise.update(state, "j", "a", "a")
