"""Short random codes a person reads aloud or types by hand: check-in codes, team join codes.

32 characters with no 0/O and no 1/I; each character takes the low 5 bits of one byte from the
system's random source (uniform because 256 is a multiple of 32), all of a code's bytes in one
read.
"""

from __future__ import annotations

import secrets

READABLE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def readable_code(length: int) -> str:
    return "".join(READABLE_ALPHABET[byte & 31] for byte in secrets.token_bytes(length))
