"""Readable codes (`hackops.codes`: check-in codes, team join codes): characters of the 32 that
read aloud without confusion, every one of them used (a byte's low 5 bits: uniform only because
the alphabet has exactly 32)."""

from __future__ import annotations

from collections import Counter

from hackops.codes import READABLE_ALPHABET as CODE_ALPHABET
from hackops.registrations.seats import CODE_LENGTH, new_checkin_code
from hackops.teams.service import JOIN_CODE_LENGTH, new_join_code


def test_codes_use_the_whole_alphabet_and_nothing_else() -> None:
    assert len(CODE_ALPHABET) == len(set(CODE_ALPHABET)) == 32
    assert not set("01IO") & set(CODE_ALPHABET)
    codes = [new_checkin_code() for _ in range(4_000)]
    assert {len(code) for code in codes} == {CODE_LENGTH}
    counts = Counter("".join(codes))
    assert set(counts) == set(CODE_ALPHABET)
    # 48,000 characters over 32: 1,500 each expected; a skewed mapping would show far off.
    # (±5 standard deviations: a false alarm about once in ten million runs).
    assert min(counts.values()) > 1_300
    assert max(counts.values()) < 1_700
    assert len(set(codes)) == len(codes)


def test_join_codes_are_readable_codes_of_their_length() -> None:
    codes = [new_join_code() for _ in range(1_000)]
    assert {len(code) for code in codes} == {JOIN_CODE_LENGTH}
    assert set("".join(codes)) == set(CODE_ALPHABET)
