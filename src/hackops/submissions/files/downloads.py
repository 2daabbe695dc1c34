"""Serving stored files safely: display names, Content-Disposition, signed expiring links.

Download links are tokens for our own endpoint rather than store-presigned URLs, so the same code
serves the local folder and S3, the response always carries `attachment` and `nosniff`, and the
expiry (15 minutes by default) is ours. The token is signed (HMAC-SHA256 through itsdangerous,
salted so no other token of the application verifies here) over the storage key, the display
name and the expiry time: a token grants exactly one key, and changing any of it breaks the
signature. The expiry is inside the signed payload (rather than itsdangerous' timestamp plus a
max age at verification) so the signer chooses the lifetime and tests pass `now`.
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

from hackops.submissions.files.kinds import FileRejected

DOWNLOAD_SALT = "hackops.submissions.file-download"
DEFAULT_LINK_SECONDS = 15 * 60
MAX_NAME_CHARS = 255
FALLBACK_NAME = "file"
# Longest ending treated as an extension worth keeping when a name is shortened.
_MAX_EXTENSION_CHARS = 16
# Printable ASCII allowed in the quoted `filename=` fallback: no quote, backslash or percent
# (some browsers percent-decode the fallback), no `;`, `,` or `=` (naive parsers split on them).
_FALLBACK_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !#$&'()+-.@[]^_`{}~"
)
_UNDERSCORES = re.compile(r"_{2,}")
# RFC 5987 attr-char beyond letters, digits and "-._~" (which quote() never escapes).
_ATTR_CHAR_EXTRA = "!#$&+^`|"
# Control (Cc), format (Cf: bidi overrides that disguise an extension), surrogate (Cs, cannot be
# encoded) and line/paragraph separator characters are removed from names.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def safe_display_name(name: str) -> str:
    """The name a file is shown and downloaded under: no path, no control characters, NFC,
    at most 255 characters with the extension kept, never empty.
    """
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(name.split()).rstrip(". ")
    if name in ("", ".", ".."):
        return FALLBACK_NAME
    if len(name) > MAX_NAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) < _MAX_EXTENSION_CHARS:
            suffix = "." + extension
            name = name[: MAX_NAME_CHARS - len(suffix)].rstrip(". ") + suffix
        else:
            name = name[:MAX_NAME_CHARS].rstrip(". ")
    return name or FALLBACK_NAME


def extension_of(name: str) -> str:
    """The lower-case ending with its dot (`.pdf`), or "" when the name has none."""
    stem, dot, extension = name.rpartition(".")
    return f".{extension.lower()}" if dot and stem and extension else ""


def _ascii_fallback(name: str) -> str:
    """Accents dropped, anything else outside the safe set as `_`; `file.pdf` if nothing is left."""
    decomposed = unicodedata.normalize("NFKD", name)
    replaced = "".join(
        ch if ch in _FALLBACK_SAFE else "_" for ch in decomposed if not unicodedata.combining(ch)
    )
    fallback = _UNDERSCORES.sub("_", replaced)
    extension = extension_of(fallback)
    stem = fallback[: len(fallback) - len(extension)]
    if not any(ch.isalnum() for ch in stem):
        return FALLBACK_NAME + extension
    return fallback


def content_disposition(name: str) -> str:
    """An `attachment` header with an ASCII fallback and the exact UTF-8 name (RFC 6266/5987).

    Built from `safe_display_name`, so CR, LF and NUL are gone and the length is bounded; the
    fallback keeps only characters that need no quoting, and the UTF-8 form is percent-encoded
    down to RFC 5987 attr-chars, so nothing in the name can end a parameter or the header.
    """
    display = safe_display_name(name)
    encoded = quote(display, safe=_ATTR_CHAR_EXTRA, encoding="utf-8")
    return f"attachment; filename=\"{_ascii_fallback(display)}\"; filename*=UTF-8''{encoded}"


@dataclass(frozen=True, slots=True)
class DownloadGrant:
    """What a verified link allows: this storage key, served under this name."""

    key: str
    filename: str


def _serializer(secret: str) -> URLSafeSerializer:
    if not secret:
        raise ValueError("a signing secret is required")
    return URLSafeSerializer(
        secret, salt=DOWNLOAD_SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def sign_download(
    secret: str,
    key: str,
    *,
    filename: str,
    expires_in: int = DEFAULT_LINK_SECONDS,
    now: float | None = None,
) -> str:
    """A URL-safe token granting the download of `key` for `expires_in` seconds."""
    if expires_in <= 0:
        raise ValueError("expires_in must be positive")
    expires_at = int((time.time() if now is None else now) + expires_in)
    payload = {"k": key, "f": safe_display_name(filename), "e": expires_at}
    return str(_serializer(secret).dumps(payload))


def verify_download(
    secret: str, token: str, *, now: float | None = None, expected_key: str | None = None
) -> DownloadGrant:
    """The grant a token carries; `link_invalid` when forged, altered or for another key
    (`expected_key`, when the URL also names the file), `link_expired` after its expiry.
    """
    invalid = FileRejected("link_invalid", "This download link is not valid.")
    try:
        payload = _serializer(secret).loads(token)
    except BadSignature as exc:
        raise invalid from exc
    if not isinstance(payload, dict):
        raise invalid
    key, filename, expires_at = payload.get("k"), payload.get("f"), payload.get("e")
    if not (isinstance(key, str) and isinstance(filename, str) and isinstance(expires_at, int)):
        raise invalid
    if expected_key is not None and key != expected_key:
        raise invalid
    if (time.time() if now is None else now) >= expires_at:
        raise FileRejected(
            "link_expired", "This download link has expired; open the file again for a new one."
        )
    return DownloadGrant(key=key, filename=filename)
