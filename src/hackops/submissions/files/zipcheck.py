"""ZIP archives: inspected without extracting anything to disk, and their README-like text.

Three guards, in the order they can be applied cheaply:

1. The central directory is walked record by record (our own few lines) and the walk stops at
   `zip_max_entries + 1`: `zipfile.ZipFile` would otherwise build a `ZipInfo` for every record of
   a 25 MiB directory (~500,000 of them, hundreds of MB) before we could count them.
2. Every entry name and flag is checked: no absolute, drive-letter, backslash or `..` paths, no
   control characters, no symlinks, no encrypted entries.
3. Every entry is decompressed in bounded chunks in memory and the *actual* bytes are counted;
   the archive is refused as soon as the running total passes `zip_max_uncompressed`. Declared
   sizes are never trusted, so a bomb (including overlapping-entry bombs) costs at most the limit
   in CPU and a chunk of memory, and nothing is written anywhere.

zipfile raises many exception types on hostile archives (BadZipFile, EOFError, zlib.error,
NotImplementedError for exotic methods ...), so any exception while reading becomes
`invalid_zip`.
"""

from __future__ import annotations

import io
import re
import stat
import struct
import unicodedata
import zipfile
from typing import IO

from hackops.submissions.files.checks import Details
from hackops.submissions.files.kinds import FilePolicy, FileRejected, human_size

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_LOCATOR_SIZE = 20
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_EOCD_SIGNATURE = b"PK\x06\x06"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_CENTRAL_HEADER_SIZE = 46
_MAX_COMMENT = 0xFFFF

_READ_CHUNK = 256 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_TEXT_SUFFIXES = (".md", ".markdown", ".txt", ".rst")


def _invalid_zip() -> FileRejected:
    return FileRejected("invalid_zip", "The file is not a readable ZIP archive.")


def _too_many_entries(policy: FilePolicy) -> FileRejected:
    return FileRejected(
        "zip_too_many_entries",
        f"The archive has more than {policy.zip_max_entries} entries.",
    )


def count_entries(fileobj: IO[bytes], limit: int) -> int:
    """Records in the central directory, stopping (and returning limit + 1) past `limit`.

    Finds the directory the way zipfile does (end record at the very end, else the last
    signature within the comment range; zip64 locator just before it) so both agree on it.
    """
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    tail_size = min(size, _EOCD.size + _MAX_COMMENT)
    fileobj.seek(size - tail_size)
    tail = fileobj.read(tail_size)
    if tail[-_EOCD.size : -_EOCD.size + 4] == _EOCD_SIGNATURE and tail[-2:] == b"\x00\x00":
        index = len(tail) - _EOCD.size
    else:
        index = tail.rfind(_EOCD_SIGNATURE)
        if index < 0 or len(tail) - index < _EOCD.size:
            raise _invalid_zip()
    eocd_position = size - tail_size + index
    fields = _EOCD.unpack(tail[index : index + _EOCD.size])
    declared, directory_size = fields[4], fields[5]
    directory_end = eocd_position
    locator_position = eocd_position - _ZIP64_LOCATOR_SIZE
    if locator_position >= 0:
        fileobj.seek(locator_position)
        if fileobj.read(4) == _ZIP64_LOCATOR_SIGNATURE:
            record_position = locator_position - _ZIP64_EOCD.size
            if record_position < 0:
                raise _invalid_zip()
            fileobj.seek(record_position)
            record = fileobj.read(_ZIP64_EOCD.size)
            if len(record) < _ZIP64_EOCD.size or not record.startswith(_ZIP64_EOCD_SIGNATURE):
                raise _invalid_zip()
            zip64 = _ZIP64_EOCD.unpack(record)
            declared, directory_size = zip64[7], zip64[8]
            directory_end = record_position
    if declared > limit:
        return limit + 1
    position = directory_end - directory_size
    if position < 0:
        raise _invalid_zip()
    count = 0
    while position < directory_end:
        fileobj.seek(position)
        header = fileobj.read(_CENTRAL_HEADER_SIZE)
        if len(header) < _CENTRAL_HEADER_SIZE or not header.startswith(_CENTRAL_SIGNATURE):
            raise _invalid_zip()
        name_size, extra_size, comment_size = struct.unpack("<3H", header[28:34])
        position += _CENTRAL_HEADER_SIZE + name_size + extra_size + comment_size
        count += 1
        if count > limit:
            return count
    if position != directory_end:
        raise _invalid_zip()
    return count


def unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    """Why an entry must not be in an archive we keep, or None when it is fine."""
    # orig_filename still holds a NUL that zipfile cuts off `filename` at.
    name = info.orig_filename
    if not name:
        return "an entry has an empty name"
    if name.startswith("/") or "\\" in name or _DRIVE.match(name):
        return f"the entry {name!r} has an absolute or Windows path"
    if ".." in name.split("/"):
        return f"the entry {name!r} points outside the archive (..)"
    if any(unicodedata.category(char) == "Cc" for char in name):
        return f"the entry {name!r} has control characters in its name"
    return None


def _check_entry(info: zipfile.ZipInfo) -> None:
    reason = unsafe_reason(info)
    if reason is not None:
        raise FileRejected("zip_unsafe_path", f"The archive is refused: {reason}.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise FileRejected(
            "zip_symlink", f"The archive is refused: the entry {info.filename!r} is a symlink."
        )
    if info.flag_bits & 0x1:
        raise FileRejected(
            "zip_encrypted",
            f"The archive is refused: the entry {info.filename!r} is password-protected.",
        )


def _is_text_entry(info: zipfile.ZipInfo) -> bool:
    """README*, *.md, *.txt ... outside hidden folders and macOS resource forks."""
    if info.is_dir():
        return False
    parts = info.filename.split("/")
    if any(part.startswith(".") or part == "__MACOSX" for part in parts):
        return False
    base = parts[-1].lower()
    return base.startswith("readme") or base.endswith(_TEXT_SUFFIXES)


def _text_order(info: zipfile.ZipInfo) -> tuple[bool, int, str]:
    """Top-level READMEs first: they describe the project best."""
    base = info.filename.rsplit("/", 1)[-1].lower()
    return (not base.startswith("readme"), info.filename.count("/"), info.filename)


def _open_checked(fileobj: IO[bytes], policy: FilePolicy) -> zipfile.ZipFile:
    """The archive, once its entry count passes; the caller closes it."""
    if count_entries(fileobj, policy.zip_max_entries) > policy.zip_max_entries:
        raise _too_many_entries(policy)
    fileobj.seek(0)
    archive = zipfile.ZipFile(fileobj)
    if len(archive.infolist()) > policy.zip_max_entries:
        archive.close()
        raise _too_many_entries(policy)
    return archive


def check_zip(fileobj: IO[bytes], policy: FilePolicy) -> Details:
    """Counts, names, flags, then the real uncompressed total; refuses at the first problem."""
    try:
        with _open_checked(fileobj, policy) as archive:
            infos = archive.infolist()
            for info in infos:
                _check_entry(info)
            total = 0
            for info in infos:
                if info.is_dir():
                    continue
                with archive.open(info) as entry:
                    while chunk := entry.read(_READ_CHUNK):
                        total += len(chunk)
                        if total > policy.zip_max_uncompressed:
                            raise FileRejected(
                                "zip_too_large",
                                "The archive unpacks to more than "
                                f"{human_size(policy.zip_max_uncompressed)}.",
                            )
            text_entries = sorted(filter(_is_text_entry, infos), key=_text_order)
    except FileRejected:
        raise
    except Exception as exc:
        raise _invalid_zip() from exc
    return {
        "entries": len(infos),
        "uncompressed_size": total,
        "text_entries": [info.filename for info in text_entries[: policy.zip_text_max_entries]],
    }


def extract_zip_text(
    fileobj: IO[bytes], max_chars: int, *, policy: FilePolicy | None = None
) -> str:
    """The README-like text entries of an archive, READMEs first, at most `max_chars`.

    Each entry contributes at most `policy.zip_text_max_entry_bytes` (read through the
    decompressor, so a bomb entry costs no more), decoded as UTF-8 with replacement. Unsafe
    entries are skipped rather than refused: the archive was already accepted at upload, and
    this runs again on the stored copy in the pipeline.
    """
    policy = policy or FilePolicy()
    parts: list[str] = []
    total = 0
    try:
        with _open_checked(fileobj, policy) as archive:
            candidates = [
                info
                for info in archive.infolist()
                if _is_text_entry(info)
                and unsafe_reason(info) is None
                and not info.flag_bits & 0x1
                and not stat.S_ISLNK(info.external_attr >> 16)
            ]
            candidates.sort(key=_text_order)
            for info in candidates[: policy.zip_text_max_entries]:
                if total >= max_chars:
                    break
                with archive.open(info) as entry:
                    raw = entry.read(policy.zip_text_max_entry_bytes)
                text = raw.decode("utf-8", errors="replace").replace("\x00", "").strip()
                if text:
                    parts.append(text)
                    total += len(text) + 2
    except FileRejected:
        raise
    except Exception as exc:
        raise _invalid_zip() from exc
    return "\n\n".join(parts)[:max_chars]
