"""Duplicate detection on the generated corpus: recall, precision, candidates per lookup, speed.

    .venv/bin/python -m bench.similarity_eval [--seed 20240517] [--size 1000] [--planted 50]
    .venv/bin/python -m bench.similarity_eval --seeds 12      # the same on 12 other corpora

Fingerprints every text of bench/similarity_corpus.py, fills an in-memory stand-in for the
`submission_bands` table (a dict keyed by (band, hash), which is what the index on
(org_id, band, hash) answers), then looks every text up against all the others exactly as the
service does: band candidates, then the exact score on the candidates' stored shingles. Reports
the acceptance figures (issue 5: recall ≥ 0.95 and precision ≥ 0.95 at the default threshold),
a threshold sweep, the score distribution of planted, sibling and unrelated pairs, and the
fingerprint time per text and for one 1 MB text.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bench.similarity_corpus import PLANTED, SEED, SIZE, Corpus, generate_corpus

from hackops.submissions.pipeline.similarity import (
    BANDS,
    DEFAULT_THRESHOLD,
    MAX_TEXT_CHARS,
    NUM_PERM,
    ROWS_PER_BAND,
    Fingerprint,
    fingerprint,
    similarity,
)

SWEEP = (0.6, 0.7, 0.75, 0.8, 0.85, 0.9)


@dataclass
class Run:
    """Everything measured on one corpus; `scores` holds every candidate pair once."""

    corpus: Corpus
    fingerprints: list[Fingerprint]
    seconds_per_text: float
    scores: dict[tuple[int, int], float]
    candidates_per_lookup: float


def band_index(fingerprints: Sequence[Fingerprint]) -> dict[tuple[int, int], list[int]]:
    """The `submission_bands` table as the index sees it: (band, hash) -> version ids."""
    index: dict[tuple[int, int], list[int]] = defaultdict(list)
    for doc, fp in enumerate(fingerprints):
        for pair in fp.bands:
            index[pair].append(doc)
    return index


def lookup(
    doc: int, fingerprints: Sequence[Fingerprint], index: dict[tuple[int, int], list[int]]
) -> set[int]:
    """SELECT DISTINCT version_id FROM submission_bands WHERE (band, hash) IN (doc's pairs)."""
    found = {other for pair in fingerprints[doc].bands for other in index.get(pair, ())}
    found.discard(doc)
    return found


def run(corpus: Corpus) -> Run:
    """Fingerprint the corpus, look every text up, score every candidate pair."""
    start = time.perf_counter()
    fingerprints = [fingerprint(text) for text in corpus.texts]
    per_text = (time.perf_counter() - start) / len(corpus.texts)
    index = band_index(fingerprints)
    scores: dict[tuple[int, int], float] = {}
    total = 0
    for doc in range(len(fingerprints)):
        candidates = lookup(doc, fingerprints, index)
        total += len(candidates)
        for other in candidates:
            pair = (min(doc, other), max(doc, other))
            if pair not in scores:
                scores[pair] = similarity(fingerprints[doc].shingles, fingerprints[other].shingles)
    return Run(corpus, fingerprints, per_text, scores, total / len(fingerprints))


def recall_precision(result: Run, threshold: float) -> tuple[float, float, int]:
    """Recall and precision of the flags at `threshold`, and how many pairs were flagged."""
    flagged = {pair for pair, score in result.scores.items() if score >= threshold}
    hits = len(flagged & result.corpus.planted)
    recall = hits / len(result.corpus.planted)
    precision = hits / len(flagged) if flagged else 1.0
    return recall, precision, len(flagged)


def _describe(values: Sequence[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p5 = ordered[int(0.05 * (len(ordered) - 1))]
    mean = statistics.fmean(ordered)
    return f"min {ordered[0]:.3f}  p5 {p5:.3f}  mean {mean:.3f}  max {ordered[-1]:.3f}"


def large_text_seconds() -> float:
    """Fingerprint time for a 1 MB text (only MAX_TEXT_CHARS of it are read)."""
    text = " ".join(f"word{i % 9_973} sensor{i % 577} dashboard" for i in range(40_000))
    text = (text * (1_000_000 // len(text) + 1))[:1_000_000]
    start = time.perf_counter()
    fingerprint(text)
    return time.perf_counter() - start


def report(result: Run) -> None:
    corpus = result.corpus
    print(f"corpus: {len(corpus.texts)} texts, {len(corpus.planted)} planted pairs, "
          f"{len(corpus.siblings)} same-theme sibling pairs")  # fmt: skip
    print(f"minhash: {NUM_PERM} permutations, {BANDS} bands x {ROWS_PER_BAND} rows")
    large = large_text_seconds() * 1000
    print(f"fingerprint: {result.seconds_per_text * 1000:.2f} ms per text; "
          f"1 MB text: {large:.0f} ms (first {MAX_TEXT_CHARS:,} chars read)")  # fmt: skip
    print(f"candidates per lookup: {result.candidates_per_lookup:.1f} "
          f"(of {len(corpus.texts) - 1} others)")  # fmt: skip
    found = sum(pair in result.scores for pair in corpus.planted)
    print(f"planted pairs that became band candidates: {found}/{len(corpus.planted)}")
    print()
    print("threshold  recall  precision  flagged")
    for threshold in SWEEP:
        recall, precision, flagged = recall_precision(result, threshold)
        mark = "  <- default" if threshold == DEFAULT_THRESHOLD else ""
        print(f"{threshold:9.2f}  {recall:6.3f}  {precision:9.3f}  {flagged:7d}{mark}")
    print()
    planted = [result.scores.get(pair, 0.0) for pair in corpus.planted]
    siblings = [result.scores[p] for p in corpus.siblings if p in result.scores]
    others = [
        s for p, s in result.scores.items() if p not in corpus.planted and p not in corpus.siblings
    ]
    print(f"planted scores:              {_describe(planted)}")
    print(f"sibling scores (candidates): {_describe(siblings)}")
    print(f"other candidate scores:      {_describe(others)}")
    rates = sorted(corpus.edit_rates.items(), key=lambda item: item[1])
    worst = min(rates[-10:], key=lambda item: result.scores.get(item[0], 0.0))
    print(f"most-edited copies ({rates[-10][1]:.0%}-{rates[-1][1]:.0%} changed): "
          f"lowest score {result.scores.get(worst[0], 0.0):.3f}")  # fmt: skip


def seed_sweep(first: int, count: int, size: int, planted: int) -> None:
    """Acceptance figures on `count` corpora with other seeds: how much they move."""
    print("seed   recall  precision  lowest copy  highest other  candidates/lookup")
    for seed in range(first, first + count):
        result = run(generate_corpus(seed, size, planted))
        recall, precision, _ = recall_precision(result, DEFAULT_THRESHOLD)
        lowest = min(result.scores.get(pair, 0.0) for pair in result.corpus.planted)
        highest = max(s for p, s in result.scores.items() if p not in result.corpus.planted)
        print(f"{seed:4d}   {recall:6.3f}  {precision:9.3f}  {lowest:11.3f}  {highest:13.3f}  "
              f"{result.candidates_per_lookup:17.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--planted", type=int, default=PLANTED)
    parser.add_argument("--seeds", type=int, default=0, help="sweep this many seeds from 1 instead")
    args = parser.parse_args()
    if args.seeds:
        seed_sweep(1, args.seeds, args.size, args.planted)
    else:
        report(run(generate_corpus(args.seed, args.size, args.planted)))


if __name__ == "__main__":
    main()
