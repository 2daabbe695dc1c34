"""Structural checks of PDF, PNG, JPEG and MP4 files, and PDF text extraction.

Each check reads only what it needs from a seekable file (headers, box and segment lengths) and
never decodes pixels or video: the point is that "a PDF really is a PDF" before judges open it,
not rendering. The checks are synchronous and CPU-bound (pypdf on a large PDF takes a while), so
async callers run them in a worker thread.

Parsers of hostile input fail in many ways (pypdf raises its own errors but also ValueError,
KeyError, RecursionError ...), so the PDF code turns *any* exception into a refusal: a file that
crashes the parser is not one we want to keep.
"""

from __future__ import annotations

import io
import logging
import zlib
from typing import IO

from pypdf import PasswordType, PdfReader

from hackops.submissions.files.kinds import PNG_SIGNATURE, FilePolicy, FileRejected

Details = dict[str, int | str | bool | list[str]]

# pypdf logs every oddity of a malformed file at WARNING; the refusal already says it.
logging.getLogger("pypdf").setLevel(logging.ERROR)

_PNG_BIT_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
# Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_MAX_SEGMENTS = 10_000
_MP4_MAX_BOXES = 10_000


def _invalid_pdf() -> FileRejected:
    return FileRejected("invalid_pdf", "The file is not a readable PDF document.")


def open_pdf(fileobj: IO[bytes]) -> PdfReader:
    """A parsed PDF, decrypted when it only has an owner password; refuses anything else."""
    fileobj.seek(0)
    try:
        reader = PdfReader(fileobj, strict=False)
        if reader.is_encrypted:
            try:
                result = reader.decrypt("")
            except Exception:
                result = PasswordType.NOT_DECRYPTED
            if result == PasswordType.NOT_DECRYPTED:
                raise FileRejected(
                    "pdf_encrypted",
                    "The PDF is protected by a password; upload it without the password.",
                )
        if len(reader.pages) < 1:
            raise FileRejected("invalid_pdf", "The PDF has no pages.")
    except (FileRejected, MemoryError):  # out of memory is the bound's to report (docparse)
        raise
    except Exception as exc:
        raise _invalid_pdf() from exc
    return reader


def check_pdf(fileobj: IO[bytes], policy: FilePolicy) -> Details:
    reader = open_pdf(fileobj)
    return {"pages": len(reader.pages), "encrypted": reader.is_encrypted}


def extract_pdf_text(fileobj: IO[bytes], max_chars: int) -> str:
    """The text of the PDF's pages, in order, at most `max_chars` characters.

    A page whose text cannot be extracted is skipped rather than failing the whole document:
    the text feeds duplicate detection, where most of a document beats none of it. NUL
    characters are dropped because PostgreSQL text columns cannot hold them.
    """
    reader = open_pdf(fileobj)
    parts: list[str] = []
    total = 0
    for page in reader.pages:
        if total >= max_chars:
            break
        try:
            text = page.extract_text()
        except MemoryError:
            raise
        except Exception:  # noqa: S112 - one unreadable page must not lose the others
            continue
        text = text.replace("\x00", "").strip()
        if text:
            parts.append(text)
            total += len(text) + 2
    return "\n\n".join(parts)[:max_chars]


def _invalid_image(kind: str, reason: str) -> FileRejected:
    return FileRejected("invalid_image", f"The file is not a valid {kind} image: {reason}.")


def _check_dimensions(width: int, height: int, policy: FilePolicy, kind: str) -> Details:
    if width <= 0 or height <= 0:
        raise _invalid_image(kind, "its dimensions are zero")
    if width > policy.image_max_side or height > policy.image_max_side:
        raise FileRejected(
            "image_too_large",
            f"The image is {width} by {height} pixels; each side may be at most "
            f"{policy.image_max_side} pixels.",
        )
    return {"width": width, "height": height}


def check_png(fileobj: IO[bytes], policy: FilePolicy) -> Details:
    """The IHDR chunk must come first, be well-formed and pass its CRC."""
    fileobj.seek(0)
    header = fileobj.read(33)
    if len(header) < 33 or not header.startswith(PNG_SIGNATURE):
        raise _invalid_image("PNG", "the header is truncated")
    length = int.from_bytes(header[8:12], "big")
    chunk_type, data = header[12:16], header[16:29]
    if length != 13 or chunk_type != b"IHDR":
        raise _invalid_image("PNG", "the IHDR chunk is missing")
    if zlib.crc32(chunk_type + data) != int.from_bytes(header[29:33], "big"):
        raise _invalid_image("PNG", "the header checksum is wrong")
    width = int.from_bytes(data[0:4], "big")
    height = int.from_bytes(data[4:8], "big")
    bit_depth, colour_type, compression, filtering, interlace = data[8:13]
    if (
        bit_depth not in _PNG_BIT_DEPTHS.get(colour_type, ())
        or compression != 0
        or filtering != 0
        or interlace not in (0, 1)
    ):
        raise _invalid_image("PNG", "the header fields are invalid")
    return _check_dimensions(width, height, policy, "PNG")


def check_jpeg(fileobj: IO[bytes], policy: FilePolicy) -> Details:
    """Walk the marker segments up to the first start-of-frame, which holds the dimensions.

    The frame header can sit after large EXIF/ICC segments, so the walk seeks over segments
    instead of reading a fixed prefix.
    """
    size = _size_of(fileobj)
    fileobj.seek(2)
    for _ in range(_JPEG_MAX_SEGMENTS):
        if fileobj.read(1) != b"\xff":
            raise _invalid_image("JPEG", "a marker is malformed")
        marker = fileobj.read(1)
        while marker == b"\xff":  # fill bytes may pad any marker
            marker = fileobj.read(1)
        if not marker:
            raise _invalid_image("JPEG", "the file ends before the image header")
        code = marker[0]
        if code in _JPEG_STANDALONE:
            continue
        if code in (0xD9, 0xDA):
            raise _invalid_image("JPEG", "the image data starts before its header")
        length_bytes = fileobj.read(2)
        length = int.from_bytes(length_bytes, "big")
        if len(length_bytes) < 2 or length < 2 or fileobj.tell() + length - 2 > size:
            raise _invalid_image("JPEG", "a segment length is wrong")
        if code in _JPEG_SOF:
            frame = fileobj.read(5)
            if length < 8 or len(frame) < 5:
                raise _invalid_image("JPEG", "the frame header is truncated")
            height = int.from_bytes(frame[1:3], "big")
            width = int.from_bytes(frame[3:5], "big")
            return _check_dimensions(width, height, policy, "JPEG")
        fileobj.seek(length - 2, io.SEEK_CUR)
    raise _invalid_image("JPEG", "too many segments before the image header")


def _invalid_video(reason: str) -> FileRejected:
    return FileRejected("invalid_video", f"The file is not a valid MP4 video: {reason}.")


def check_mp4(fileobj: IO[bytes], policy: FilePolicy) -> Details:
    """The top-level boxes must tile the file exactly, start with `ftyp` and include `moov`.

    A video without `moov` (the index) cannot be played, and boxes that overrun the file mean it
    was truncated or is not an MP4 at all.
    """
    size = _size_of(fileobj)
    position = 0
    seen: list[str] = []
    brand = ""
    while position < size:
        if len(seen) >= _MP4_MAX_BOXES:
            raise _invalid_video("it has too many top-level boxes")
        fileobj.seek(position)
        header = fileobj.read(8)
        if len(header) < 8:
            raise _invalid_video("a box header is truncated")
        box_size = int.from_bytes(header[0:4], "big")
        box_type = header[4:8]
        header_size = 8
        if box_size == 1:  # a 64-bit size follows the type
            large = fileobj.read(8)
            if len(large) < 8:
                raise _invalid_video("a box header is truncated")
            box_size = int.from_bytes(large, "big")
            header_size = 16
        elif box_size == 0:  # the box extends to the end of the file
            box_size = size - position
        if box_size < header_size or position + box_size > size:
            raise _invalid_video("a box overruns the file")
        if not all(0x20 <= byte <= 0x7E for byte in box_type):
            raise _invalid_video("a box type is not readable")
        if not seen:
            if box_type != b"ftyp" or box_size < 16 or (box_size - 16) % 4 != 0:
                raise _invalid_video("the file type box is malformed")
            brand = fileobj.read(4).decode("ascii", errors="replace").strip()
        seen.append(box_type.decode("ascii"))
        position += box_size
    if "moov" not in seen:
        raise _invalid_video("it has no movie header (moov box)")
    return {"brand": brand, "boxes": len(seen)}


def _size_of(fileobj: IO[bytes]) -> int:
    fileobj.seek(0, io.SEEK_END)
    return fileobj.tell()
