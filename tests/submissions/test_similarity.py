"""Duplicate detection: acceptance on the generated corpus, stable fingerprints, edge cases.

Pure computation, no database: the `submission_bands` lookup is simulated by a dict keyed by
(band, hash), which is exactly what the index on (org_id, band, hash) answers.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

import pytest
from bench.similarity_corpus import Corpus, generate_corpus

from hackops.submissions.pipeline.similarity import (
    BANDS,
    DEFAULT_THRESHOLD,
    MAX_SHINGLES,
    MAX_TEXT_CHARS,
    MIN_SHINGLES,
    NUM_PERM,
    ROWS_PER_BAND,
    Fingerprint,
    band_hashes,
    fingerprint,
    jaccard,
    normalize,
    rank_candidates,
    shingle_hash,
    similarity,
    tokenize,
)

PROJECT = """# Harvest Link: a crop planner for small farms

Farmers in Porto track irrigation, soil moisture and pest outbreaks on paper. Harvest Link reads
soil sensors over LoRa, predicts irrigation needs and notifies cooperatives about pests nearby.
Built with Python, PostgreSQL and Mapbox."""


@dataclass
class Detection:
    corpus: Corpus
    fingerprints: list[Fingerprint]
    candidates: dict[int, set[int]]
    flagged: set[tuple[int, int]]


@pytest.fixture(scope="module")
def detection() -> Detection:
    corpus = generate_corpus()
    fingerprints = [fingerprint(text) for text in corpus.texts]
    bands: dict[tuple[int, int], set[int]] = defaultdict(set)
    for doc, fp in enumerate(fingerprints):
        for pair in fp.bands:
            bands[pair].add(doc)
    candidates: dict[int, set[int]] = {}
    flagged: set[tuple[int, int]] = set()
    for doc, fp in enumerate(fingerprints):
        found = set().union(*(bands[pair] for pair in fp.bands)) - {doc}
        candidates[doc] = found
        stored = [(other, fingerprints[other].shingles) for other in found]
        for other, _ in rank_candidates(fp.shingles, stored):
            flagged.add((min(doc, other), max(doc, other)))
    return Detection(corpus, fingerprints, candidates, flagged)


def test_planted_near_duplicates_are_flagged_through_the_band_lookup(detection: Detection) -> None:
    planted = detection.corpus.planted
    hits = detection.flagged & planted
    recall = len(hits) / len(planted)
    precision = len(hits) / len(detection.flagged)
    assert recall >= 0.95, sorted(planted - detection.flagged)
    assert precision >= 0.95, sorted(detection.flagged - planted)


def test_every_planted_pair_becomes_a_band_candidate_of_both_sides(detection: Detection) -> None:
    for a, b in detection.corpus.planted:
        assert b in detection.candidates[a]
        assert a in detection.candidates[b]


def test_the_band_lookup_is_selective(detection: Detection) -> None:
    """A mis-set band width would make everything a candidate (or nothing): stay well below."""
    mean = sum(map(len, detection.candidates.values())) / len(detection.candidates)
    assert 1 <= mean <= 0.15 * len(detection.fingerprints)


def test_same_theme_sibling_projects_score_below_the_threshold(detection: Detection) -> None:
    fps = detection.fingerprints
    scores = [similarity(fps[a].shingles, fps[b].shingles) for a, b in detection.corpus.siblings]
    assert len(scores) == 60
    assert max(scores) < DEFAULT_THRESHOLD


def test_the_corpus_matches_its_description_and_is_reproducible(detection: Detection) -> None:
    corpus = detection.corpus
    assert len(corpus.texts) == 1_000
    assert len(corpus.planted) == 50
    assert all(0.10 <= rate <= 0.20 for rate in corpus.edit_rates.values())
    words = [len(text.split()) for text in corpus.texts]
    assert min(words) >= 150
    assert max(words) <= 600
    digest = hashlib.sha256("\x00".join(corpus.texts).encode()).hexdigest()
    again = generate_corpus()
    assert hashlib.sha256("\x00".join(again.texts).encode()).hexdigest() == digest
    assert again.planted == corpus.planted
    assert generate_corpus(seed=7).texts != corpus.texts


def test_fingerprint_values_are_stable_across_processes_and_releases() -> None:
    """Literal values: a change of datasketch, seed, scheme, hashing or features must show here."""
    fp = fingerprint(PROJECT)
    assert fp.shingle_count == 26
    assert fp.shingles[:3] == [-8778167016166176199, -8457105513100692508, -8160372964872842339]
    assert fp.minhash[:4] == [
        211913205620207985,
        190234463477868101,
        199592596478091944,
        72913736594791852,
    ]
    assert fp.bands[0] == (0, -8136257999114708997)
    assert fp.bands[-1] == (99, 946245017494127426)
    assert shingle_hash("irrigation") == 2220853347641118435


def test_fingerprint_shape_fits_the_postgresql_columns() -> None:
    fp = fingerprint(PROJECT)
    assert len(fp.minhash) == NUM_PERM == BANDS * ROWS_PER_BAND
    assert [band for band, _ in fp.bands] == list(range(BANDS))
    assert fp.shingles == sorted(set(fp.shingles))
    values = fp.minhash + fp.shingles + [value for _, value in fp.bands]
    assert all(-(2**63) <= value < 2**63 for value in values)
    assert fp.bands == band_hashes(fp.minhash)  # recomputable from the stored signature


def test_each_band_hash_covers_its_own_rows() -> None:
    minhash = fingerprint(PROJECT).minhash
    changed = list(minhash)
    changed[ROWS_PER_BAND * 7 + 2] += 1
    before, after = band_hashes(minhash), band_hashes(changed)
    assert [i for i in range(BANDS) if before[i] != after[i]] == [7]


def test_normalize_folds_unicode_case_markup_and_urls() -> None:
    text = (
        "**Ｈｅｌｌｏ**  ﬁnal STRASSE straße — see [our demo](https://x.io/a?b=c) "
        "<b>now</b> https://example.com/x, mail me@team.dev!"
    )
    assert normalize(text) == "hello final strasse strasse see our demo now mail"


def test_tokenize_keeps_stemmed_content_words_only() -> None:
    assert tokenize(
        "What it does: the app lets users track their planned runs and tracking data"
    ) == [
        "let",
        "track",
        "plan",
        "run",
        "track",
    ]


def test_similarity_is_the_dice_form_of_the_exact_jaccard() -> None:
    a = fingerprint(PROJECT).shingles
    b = fingerprint(PROJECT.replace("Mapbox", "Leaflet").replace("Porto", "Lagos")).shingles
    j = jaccard(a, b)
    assert j == len(set(a) & set(b)) / len(set(a) | set(b))
    assert j == 24 / 28
    assert similarity(a, b) == pytest.approx(2 * j / (1 + j))
    assert similarity(a, b) == similarity(b, a)
    assert similarity(a, a) == 1.0


def test_reordering_and_reformatting_do_not_change_the_score() -> None:
    sentences = PROJECT.split(". ")
    reordered = ". ".join(reversed(sentences)).upper().replace(",", " ;")
    assert similarity(fingerprint(PROJECT).shingles, fingerprint(reordered).shingles) == 1.0


def test_rank_candidates_keeps_those_at_the_threshold_best_first() -> None:
    own = fingerprint(PROJECT).shingles
    near = fingerprint(PROJECT.replace("Mapbox", "Leaflet")).shingles
    far = fingerprint(
        "Students in Lagos swap second-hand textbooks. A chatbot matches sellers with buyers "
        "by course code, campus and price, and a weekly digest lists the cheapest offers."
    )
    assert far.bands
    ranked = rank_candidates(own, [("far", far.shingles), ("near", near), ("same", own)])
    assert [key for key, _ in ranked] == ["same", "near"]
    assert ranked[0][1] == 1.0
    assert DEFAULT_THRESHOLD <= ranked[1][1] < 1.0


@pytest.mark.parametrize("text", ["", "   \n\t ", "## What it does\n\n- [ ](https://x.io)", "TBD"])
def test_empty_text_gets_a_fingerprint_that_never_matches(text: str) -> None:
    fp = fingerprint(text)
    assert fp.minhash == []
    assert fp.bands == []
    assert fp.shingle_count == len(fp.shingles) < MIN_SHINGLES
    assert similarity(fp.shingles, fp.shingles) == 0.0


def test_short_identical_descriptions_are_not_flagged() -> None:
    text = "Our project helps students find study groups on campus."
    fp = fingerprint(text)
    assert 0 < fp.shingle_count < MIN_SHINGLES
    assert fp.bands == []  # never a band candidate, in either direction
    assert rank_candidates(fp.shingles, [("twin", fingerprint(text).shingles)]) == []


@pytest.mark.timeout(20)
def test_a_one_megabyte_text_is_read_only_up_to_the_cap() -> None:
    text = " ".join(f"sensor{i % 7_919} reading{i % 104_729}" for i in range(60_000))
    text = (text * 2)[:1_000_000]
    fp = fingerprint(text)
    assert fp == fingerprint(text[:MAX_TEXT_CHARS])
    assert fp != fingerprint(text[: MAX_TEXT_CHARS // 2])
    assert len(fp.shingles) == MAX_SHINGLES < fp.shingle_count


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "text",
    ["[" * 200_000, "[x](" + "(" * 200_000, "<" * 200_000, "a" * 200_000, "a@" * 100_000],
    ids=["brackets", "parens", "angles", "one-run", "at-signs"],
)
def test_markup_stripping_stays_linear_on_hostile_input(text: str) -> None:
    """A quadratic pattern would take minutes on these; a linear one well under a second."""
    assert fingerprint(text).bands == []


def test_capped_shingles_are_the_smallest_hashes_and_still_estimate_jaccard() -> None:
    words = [f"w{i}x" for i in range(12_000)]
    a = fingerprint(" ".join(words[:10_000]))  # shares 8,000 of 12,000 words with b: J = 2/3
    b = fingerprint(" ".join(words[:8_000] + words[10_000:]))
    assert a.shingle_count == 10_000
    assert len(a.shingles) == MAX_SHINGLES
    assert a.shingles == sorted(shingle_hash(w) for w in words[:10_000])[:MAX_SHINGLES]
    assert jaccard(a.shingles, b.shingles) == pytest.approx(2 / 3, abs=0.03)
    assert len(a.bands) == BANDS
