"""Builders of small real files and shortcuts to receive and inspect them."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import AsyncIterator

import pytest
from pypdf import PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject

from hackops.submissions.files.service import (
    FilePolicy,
    FileRejected,
    Spooled,
    inspect_file,
    spool_upload,
)

MiB = 1024 * 1024


async def chunked(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def spool(data: bytes, *, max_bytes: int = 25 * MiB) -> Spooled:
    return await spool_upload(chunked(data), max_bytes=max_bytes)


def png_bytes(width: int = 3, height: int = 2, *, crc_ok: bool = True) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) ^ (0 if crc_ok or kind != b"IHDR" else 1)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * 3 * width for _ in range(min(height, 4)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg_bytes(width: int, height: int, *, exif_size: int = 60_000) -> bytes:
    """SOI, a large APP1 (so the frame header is far past the first 4 KiB), SOF0, SOS, EOI."""
    app1 = b"\xff\xe1" + struct.pack(">H", exif_size + 2) + b"E" * exif_size
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00" * 3
    sos = b"\xff\xda" + struct.pack(">H", 12) + b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return b"\xff\xd8" + app1 + sof0 + sos + b"\x12\x34" * 50 + b"\xff\xd9"


def mp4_bytes(*, with_moov: bool = True) -> bytes:
    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    ftyp = box(b"ftyp", b"isom" + b"\x00\x00\x02\x00" + b"isomiso2avc1mp41")
    moov = box(b"moov", box(b"mvhd", b"\x00" * 100)) if with_moov else b""
    return ftyp + moov + box(b"mdat", b"\x00" * 1000)


def pdf_bytes(
    pages: int = 2, *, text: str = "Hello judges", user_password: str | None = None
) -> bytes:
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    for number in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        content = ContentStream(None, None)
        content.set_data(f"BT /F1 24 Tf 72 720 Td ({text} {number + 1}) Tj ET".encode())
        page.replace_contents(content)
    if user_password is not None:
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


async def inspect(data: bytes, name: str, policy: FilePolicy | None = None) -> dict[str, object]:
    with await spool(data) as spooled:
        result = inspect_file(spooled, declared_name=name, policy=policy or FilePolicy())
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.size == len(data)
    return {"kind": result.kind, "type": result.content_type, **result.details}


async def refusal(data: bytes, name: str, policy: FilePolicy | None = None) -> str:
    with await spool(data) as spooled, pytest.raises(FileRejected) as caught:
        inspect_file(spooled, declared_name=name, policy=policy or FilePolicy())
    assert caught.value.message
    return caught.value.code
