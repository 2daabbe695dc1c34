"""Near-duplicate detection for submissions: fingerprints, LSH bands and the exact similarity.

Pure computation; the caller stores what `fingerprint()` returns and runs the candidate query:

    submission_fingerprints(version_id, org_id, event_id, minhash bigint[], shingles bigint[],
                            shingle_count int)
    submission_bands(org_id, event_id, version_id, band smallint, hash bigint)
        -- index on (org_id, band, hash)

    candidates = SELECT DISTINCT version_id FROM submission_bands
                 WHERE org_id = :org AND (band, hash) IN (<fingerprint.bands>)
    flags      = rank_candidates(fingerprint.shingles, <(version_id, shingles) of the candidates>)

What a "shingle" is, and why. The features are the distinct *content-word stems* of the text:
NFKC + casefold, markdown / HTML / URLs removed, every non-alphanumeric character a separator,
English function words and the boilerplate every hackathon write-up shares ("inspiration", "what
it does", "app", "users", "data", "built" ...) dropped, then a light suffix stemmer. Chosen by
measuring on the generated corpus (bench/similarity_corpus.py: 1,000 write-ups, 50 planted copies
paraphrased + reordered + 10-20 % of words changed, 60 same-theme sibling projects):

    features (set)                copies: Jaccard   unrelated: Jaccard   recall at 0.8    candidates
                                  min / p5          max / mean           Jaccard / Dice   per lookup
    word 3-shingles               0.34 / 0.37       0.30 / 0.09          0.00 / 0.00        2
    char 5-grams of the stems     0.56 / 0.56       0.40 / 0.16          0.00 / 0.30       20
    stems + stem bigrams          0.51 / 0.54       0.32 / 0.12          0.00 / 0.24        5
    stems, function words off     0.69 / 0.71       0.55 / 0.25          0.38 / 1.00      140
    + hackathon boilerplate off   0.68 / 0.71       0.51 / 0.22          0.36 / 1.00       77 (*)

(*) chosen.

Anything spanning word boundaries loses a feature to every edit on either side, so only single
stems survive 20 % edits well. Even then no set reaches a Jaccard of 0.8 for a 20 %-edited copy:
each inserted or substituted word adds a feature to the copy only, and short texts use most of
their content words once, so each deleted or replaced word removes one from the copy. The
threshold 0.8 therefore applies to the Sørensen-Dice coefficient of the same two sets,
D = 2|A∩B| / (|A| + |B|) = 2J / (1 + J), an exact, fixed, monotone function of their exact
Jaccard J: D ≥ 0.8 is exactly J ≥ 2/3. On the corpus the planted copies score D ≥ 0.81 (p5 0.83),
unrelated pairs at most 0.67 and siblings 0.65: recall 1.00 and precision 1.00 at 0.8. On twelve
other seeds (`python -m bench.similarity_eval --seeds 12`) precision stays 1.00 and recall is
0.98-1.00: the most edited copies (~20 % of their words changed) score 0.79-0.83, so 0.8 sits at
the edge of the hardest copies while unrelated pairs stay below 0.71 (at 0.75 both are 1.00 on
every seed). Plain Jaccard at 0.8 finds about a third of the copies. `jaccard()` is kept for the
LSH reasoning.

MinHash and bands. MinHash (datasketch, "affine64" scheme and a fixed seed, both pinned so a
library default change cannot silently re-hash stored signatures) over the kept shingle hashes,
500 permutations cut into 100 bands of 5 rows. A pair with Jaccard J shares a band with probability
1 - (1 - J^5)^100: > 0.99999 at J = 2/3 (D = 0.8), 0.9997 at J = 0.6 (D = 0.75, the margin for a
lowered threshold), 0.22 at J = 0.3 and 0.017 at J = 0.176 (D = 0.3). Fewer rows per band cannot
keep 0.999 at the margin without flooding the candidates, because projects of one hackathon share
much vocabulary (unrelated Jaccard averages 0.22 here: ~78 candidates per lookup among 1,000,
each scored from its stored shingles in microseconds). Band hashes are BLAKE2b of the band's
values, never Python's `hash()` (salted per process).

Limits. Only the first `MAX_TEXT_CHARS` characters are read (bounded time and memory for a 1 MB
extracted PDF). Texts with more than `MAX_SHINGLES` distinct stems keep the `MAX_SHINGLES`
smallest shingle hashes: a consistent sample (the same stem is kept or dropped in every text), so
`jaccard()` compares two such lists only below the smaller of their largest kept values: the
exact Jaccard of two uniform samples of the same hash range, a close estimate of the full sets'.
Texts with fewer than `MIN_SHINGLES` distinct stems (empty or one-line descriptions) get no
signature and no bands, and score 0 against anything: many teams leave a description empty,
which must not flag them as copies of each other.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import numpy as np
from datasketch import MinHash

DEFAULT_THRESHOLD: Final = 0.8
# Bump when features, seed or bands change: stored fingerprints and bands must then be rebuilt.
FINGERPRINT_VERSION: Final = 1
NUM_PERM: Final = 500
BANDS: Final = 100
ROWS_PER_BAND: Final = NUM_PERM // BANDS
MINHASH_SEED: Final = 20_240_517
MINHASH_SCHEME: Final = "affine64"
MAX_TEXT_CHARS: Final = 200_000
MAX_SHINGLES: Final = 5_000
MIN_SHINGLES: Final = 12

_SHINGLE_KEY: Final = b"hackops-shingle"
_BAND_KEY: Final = b"hackops-lsh-band"
_U64: Final = 1 << 64
_I64_MAX: Final = (1 << 63) - 1

# Function words (written for this module, not taken from a library list).
_FUNCTION_WORDS = """
a about above after again against all also am an and any are as at be because been before being
below between both but by can cannot could did do does doing done down during each either else
even ever every few for from further had has have having he her here hers herself him himself his
how however i if in into is it its itself just least less let like may me might more most much
must my myself near no nor not now of off often on once only onto or other others otherwise our
ours ourselves out over own per rather really same shall she should since so some such than that
the their theirs them themselves then there therefore these they this those though through thus
to too toward towards under until up upon us very via was we were what whatever when whenever
where whether which while who whom whose why will with within without would yet you your yours
yourself yourselves s t d ll m re ve
"""
# Words every hackathon write-up uses, including the headings of the usual submission template:
# shared by unrelated projects, so they only add background similarity.
_BOILERPLATE = """
app apps application applications platform tool tools user users people data project projects
team teams hackathon hackathons build builds built building create created creating creates make
makes made making use used uses using work works worked working help helps helped helping allow
allows allowed allowing way ways new time times real will want wanted feature features system
systems solution solutions idea ideas inspiration inspired challenge challenges ran accomplishment
accomplishments proud learn learned learning next thing things lot lots able get gets got one two
first many well good great enable enables website web
"""


def _stem(word: str) -> str:
    """Fold the common English inflections so "tracks", "tracking" and "tracked" are one feature."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # running -> run, planned -> plan
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]  # create / created / creating -> creat
    return word


_STOP_WORDS: Final = frozenset(_FUNCTION_WORDS.split()) | frozenset(_BOILERPLATE.split())
_STOP_STEMS: Final = frozenset(_stem(word) for word in _BOILERPLATE.split())

# Every part is linear in the text: the bracketed parts exclude their own opening character and
# are bounded, and the e-mail part starts only at the beginning of a run (possessive, no
# backtracking), so a 200,000-character run of "[" or "a" cannot make the scan quadratic.
_MARKUP: Final = re.compile(
    r"!?\[([^\[\]\n]{0,300}+)\]\([^()\s]{0,2000}+\)"  # markdown link or image: keep the text
    r"|<[^<>\n]{0,300}+>"  # HTML tag
    r"|(?:https?://|www\.)\S++"  # bare URL
    r"|(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)++",  # e-mail address
)
_SEPARATORS: Final = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """Plain lowercase words separated by single spaces: markup, URLs and punctuation removed."""
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS]).casefold()
    text = _MARKUP.sub(lambda match: f" {match.group(1) or ''} ", text)
    return _SEPARATORS.sub(" ", text).strip()


def tokenize(text: str) -> list[str]:
    """Content-word stems of `text` in order (function words and boilerplate removed)."""
    stems = []
    for word in normalize(text).split():
        if len(word) < 2 or word in _STOP_WORDS:
            continue
        stem = _stem(word)
        if stem not in _STOP_STEMS:
            stems.append(stem)
    return stems


def _to_signed(value: int) -> int:
    return value - _U64 if value > _I64_MAX else value


def _hash64(data: bytes, key: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8, key=key).digest(), "little")


def shingle_hash(stem: str) -> int:
    """The stable signed 64-bit hash of one feature, as stored in `shingles`."""
    return _to_signed(_hash64(stem.encode(), _SHINGLE_KEY))


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What is stored for one submission version.

    minhash: NUM_PERM signed 64-bit values (empty when the text is too short);
    shingles: sorted signed 64-bit feature hashes, at most MAX_SHINGLES;
    shingle_count: distinct features before the cap (> len(shingles) means sampled);
    bands: (band index, band hash) pairs for submission_bands (empty when too short).
    """

    minhash: list[int]
    shingles: list[int]
    shingle_count: int
    bands: list[tuple[int, int]]


def _identity(value: int) -> int:
    return value


def _permutations() -> Any:
    """The MinHash permutations, generated once per process from the fixed seed."""
    template = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme=MINHASH_SCHEME)
    return template.permutations


_PERMUTATIONS: Final = _permutations()


def _minhash(unsigned_hashes: Iterable[int]) -> list[int]:
    sketch = MinHash(
        num_perm=NUM_PERM,
        seed=MINHASH_SEED,
        hashfunc=_identity,
        permutations=_PERMUTATIONS,
        scheme=MINHASH_SCHEME,
    )
    sketch.update_batch(unsigned_hashes)
    return [_to_signed(int(value)) for value in sketch.digest()]


def band_hashes(minhash: Sequence[int]) -> list[tuple[int, int]]:
    """LSH bands of a signature: (band, signed 64-bit BLAKE2b of its ROWS_PER_BAND values)."""
    if len(minhash) != NUM_PERM:
        return []
    rows = np.asarray(minhash, dtype=np.int64).astype("<i8")
    bands = []
    for band in range(BANDS):
        chunk = rows[band * ROWS_PER_BAND : (band + 1) * ROWS_PER_BAND].tobytes()
        bands.append((band, _to_signed(_hash64(chunk, _BAND_KEY))))
    return bands


def fingerprint(text: str) -> Fingerprint:
    """Shingles, MinHash signature and LSH bands of a submission's text (see the module notes)."""
    hashes = {shingle_hash(stem) for stem in tokenize(text)}
    count = len(hashes)
    kept = sorted(hashes)[:MAX_SHINGLES]
    if count < MIN_SHINGLES:
        return Fingerprint(minhash=[], shingles=kept, shingle_count=count, bands=[])
    minhash = _minhash(value % _U64 for value in kept)
    return Fingerprint(
        minhash=minhash, shingles=kept, shingle_count=count, bands=band_hashes(minhash)
    )


def jaccard(a_shingles: Sequence[int], b_shingles: Sequence[int]) -> float:
    """Exact Jaccard of two stored shingle lists (on their common range when one was capped)."""
    a, b = set(a_shingles), set(b_shingles)
    if len(a) < MIN_SHINGLES or len(b) < MIN_SHINGLES:
        return 0.0
    capped = [max(s) for s in (a, b) if len(s) >= MAX_SHINGLES]
    if capped:
        bound = min(capped)
        a = {value for value in a if value <= bound}
        b = {value for value in b if value <= bound}
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def similarity(a_shingles: Sequence[int], b_shingles: Sequence[int]) -> float:
    """THE score shown to organizers (0..1; flagged at DEFAULT_THRESHOLD): Dice = 2J / (1 + J)."""
    j = jaccard(a_shingles, b_shingles)
    return 2 * j / (1 + j)


K = TypeVar("K", bound=Hashable)


def rank_candidates(
    shingles: Sequence[int],
    candidates: Iterable[tuple[K, Sequence[int]]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[tuple[K, float]]:
    """The candidates (key, stored shingles) scoring at least `threshold`, best first."""
    scored = [(key, similarity(shingles, other)) for key, other in candidates]
    return sorted(
        ((key, score) for key, score in scored if score >= threshold),
        key=lambda item: -item[1],
    )
