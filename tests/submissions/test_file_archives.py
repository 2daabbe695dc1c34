"""ZIP archives: counted, named safely, measured by their real uncompressed size."""

from __future__ import annotations

import io
import os
import stat
import struct
import tracemalloc
import zipfile
from collections.abc import Iterable

import pytest

from hackops.submissions.files.service import (
    FileKind,
    FilePolicy,
    FileRejected,
    extract_zip_text,
    inspect_file,
)
from tests.submissions.filehelpers import MiB, inspect, refusal, spool


def zip_bytes(entries: Iterable[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_bomb(uncompressed: int) -> bytes:
    """One entry of `uncompressed` zero bytes, written in chunks (never in memory at once)."""
    buffer = io.BytesIO()
    zeros = bytes(MiB)
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w") as entry,
    ):
        for _ in range(uncompressed // MiB):
            entry.write(zeros)
    return buffer.getvalue()


async def test_a_normal_zip_is_accepted_and_its_readme_extracted() -> None:
    data = zip_bytes(
        [
            ("project/src/main.py", b"print('hi')\n" * 100),
            ("project/docs/notes.txt", b"Design notes."),
            ("project/README.md", "# Sol\u00e9 \x00tracker\n".encode()),
            ("__MACOSX/project/._README.md", b"\x00\x05junk"),
            ("project/empty/", b""),
        ]
    )
    assert await inspect(data, "code.zip") == {
        "kind": FileKind.ZIP,
        "type": "application/zip",
        "entries": 5,
        "uncompressed_size": 1200 + 13 + 17 + 6,
        "text_entries": ["project/README.md", "project/docs/notes.txt"],
    }
    assert extract_zip_text(io.BytesIO(data), max_chars=1000) == "# Solé tracker\n\nDesign notes."


async def test_a_zip_bomb_is_refused_at_the_limit_without_materializing() -> None:
    bomb = zip_bomb(200 * MiB)
    assert len(bomb) < 400 * 1024
    with await spool(bomb) as spooled:
        tracemalloc.start()
        try:
            with pytest.raises(FileRejected) as caught:
                inspect_file(spooled, declared_name="bomb.zip", policy=FilePolicy())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert caught.value.code == "zip_too_large"
    assert "100 MiB" in caught.value.message
    assert peak < 4 * MiB


async def test_forged_small_sizes_do_not_hide_a_bomb() -> None:
    bomb = bytearray(zip_bomb(120 * MiB))
    # Declare 1 KiB uncompressed in the local and the central header: zipfile then stops
    # after 1 KiB and the checksum of what it read does not match.
    for signature, size_offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = bomb.find(signature) + size_offset
        bomb[at : at + 4] = struct.pack("<I", 1024)
    assert await refusal(bytes(bomb), "bomb.zip") == "invalid_zip"


async def test_unsafe_entries_are_refused() -> None:
    for name in ("../x", "a/../../x", "/etc/passwd", "C:/Windows/x", "..\\evil", "a\rb.txt"):
        assert await refusal(zip_bytes([(name, b"x")]), "a.zip") == "zip_unsafe_path", name
    link = zipfile.ZipInfo("link")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    assert await refusal(zip_bytes([(link, b"/etc/passwd")]), "a.zip") == "zip_symlink"
    encrypted = bytearray(zip_bytes([("secret.txt", b"x")]))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        encrypted[encrypted.find(signature) + flag_offset] |= 0x01
    assert await refusal(bytes(encrypted), "a.zip") == "zip_encrypted"
    assert await refusal(b"PK\x03\x04" + os.urandom(3000), "a.zip") == "invalid_zip"


async def test_entry_count_is_limited_even_when_the_end_record_lies() -> None:
    policy = FilePolicy(zip_max_entries=5)
    five = zip_bytes([(f"f{i}.txt", b"x") for i in range(5)])
    assert (await inspect(five, "a.zip", policy))["entries"] == 5
    six = bytearray(zip_bytes([(f"f{i}.txt", b"x") for i in range(6)]))
    assert await refusal(bytes(six), "a.zip", policy) == "zip_too_many_entries"
    end = six.rfind(b"PK\x05\x06")
    six[end + 8 : end + 12] = struct.pack("<HH", 1, 1)  # claims one entry
    assert await refusal(bytes(six), "a.zip", policy) == "zip_too_many_entries"


async def test_a_huge_directory_is_refused_before_zipfile_parses_it() -> None:
    """20,000 entries: zipfile alone would build ~10 MiB of ZipInfo objects first."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(20_000):
            archive.writestr(f"f{number}", b"")
    with await spool(buffer.getvalue()) as spooled:
        tracemalloc.start()
        try:
            with pytest.raises(FileRejected) as caught:
                inspect_file(spooled, declared_name="many.zip", policy=FilePolicy())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert caught.value.code == "zip_too_many_entries"
    assert "1000" in caught.value.message
    assert peak < 1 * MiB
