"""Uploaded files: receiving under the limit, kinds from the bytes, structure, storage."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import obstore
import pytest
from obstore.exceptions import NotFoundError
from obstore.store import LocalStore, ObjectStore
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hackops.submissions.files.service import (
    FileKind,
    FilePolicy,
    FileRejected,
    delete_file,
    detect_kind,
    ensure_room_for_file,
    extract_pdf_text,
    inspect_file_async,
    put_file,
    spool_upload,
    spool_upload_file,
    storage_key,
    stream_file,
)
from tests.submissions.filehelpers import (
    MiB,
    chunked,
    inspect,
    jpeg_bytes,
    mp4_bytes,
    pdf_bytes,
    png_bytes,
    refusal,
    spool,
)

# --- receiving: the limit is on bytes actually read ---------------------------------------------


async def test_exactly_max_bytes_is_accepted_with_hash_and_head() -> None:
    data = os.urandom(2 * MiB)
    with await spool_upload(chunked(data, 100_000), max_bytes=len(data)) as spooled:
        assert spooled.size == len(data)
        assert spooled.sha256 == hashlib.sha256(data).hexdigest()
        assert spooled.head == data[:4096]
        assert spooled.file.read() == data


async def test_one_byte_over_is_refused_without_reading_further() -> None:
    pulled: list[int] = []
    closed: list[bool] = []

    async def body() -> AsyncIterator[bytes]:
        try:
            for _ in range(100):  # 6.4 MB offered; the limit is 1 MiB
                pulled.append(1)
                yield b"a" * 65536
        finally:
            closed.append(True)

    with pytest.raises(FileRejected) as caught:
        await spool_upload(body(), max_bytes=MiB)
    assert caught.value.code == "file_too_large"
    assert "1 MiB" in caught.value.message
    assert len(pulled) == 17  # 16 chunks fill 1 MiB exactly; the 17th is the one over
    assert closed == [True]

    with pytest.raises(FileRejected):
        await spool_upload(chunked(b"b" * (MiB + 1)), max_bytes=MiB)


def _open_fds_under(folder: Path) -> list[str]:
    links = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return [link for link in links if link.startswith(str(folder))]


async def test_refused_upload_leaves_no_temporary_file(tmp_path: Path) -> None:
    folder = str(tmp_path)
    with pytest.raises(FileRejected):
        await spool_upload(chunked(b"c" * (3 * MiB)), max_bytes=2 * MiB, spool_dir=folder)
    assert _open_fds_under(tmp_path) == []
    spooled = await spool_upload(chunked(b"c" * (2 * MiB)), max_bytes=2 * MiB, spool_dir=folder)
    assert len(_open_fds_under(tmp_path)) == 1  # rolled over to disk past 1 MiB
    spooled.close()
    assert _open_fds_under(tmp_path) == []
    assert os.listdir(folder) == []


def _upload_app(max_bytes: int) -> Starlette:
    async def upload(request: Request) -> JSONResponse:
        try:
            with await spool_upload(request.stream(), max_bytes=max_bytes) as spooled:
                return JSONResponse({"size": spooled.size, "sha256": spooled.sha256})
        except FileRejected as exc:
            return JSONResponse({"code": exc.code}, status_code=413)

    return Starlette(routes=[Route("/upload", upload, methods=["PUT"])])


async def test_lying_content_length_is_caught_over_asgi() -> None:
    limit = 256 * 1024
    transport = httpx2.ASGITransport(app=_upload_app(limit))
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
        lying = await http.put(
            "/upload", content=b"z" * (limit + 1), headers={"Content-Length": "10"}
        )
        assert (lying.status_code, lying.json()) == (413, {"code": "file_too_large"})
        chunked_body = await http.put("/upload", content=chunked(b"z" * (limit + 1), 1000))
        assert chunked_body.status_code == 413
        exact = await http.put("/upload", content=b"z" * limit)
        assert exact.json() == {"size": limit, "sha256": hashlib.sha256(b"z" * limit).hexdigest()}


async def test_spool_upload_file_reads_an_upload_file() -> None:
    data = png_bytes()
    with await spool_upload_file(UploadFile(io.BytesIO(data)), max_bytes=len(data)) as spooled:
        assert spooled.sha256 == hashlib.sha256(data).hexdigest()
    with pytest.raises(FileRejected):
        await spool_upload_file(UploadFile(io.BytesIO(data)), max_bytes=len(data) - 1)


def test_file_count_limit() -> None:
    ensure_room_for_file(9, FilePolicy())
    with pytest.raises(FileRejected) as caught:
        ensure_room_for_file(10, FilePolicy())
    assert caught.value.code == "too_many_files"


# --- kinds from the bytes -----------------------------------------------------------------------


def test_detect_kind_from_magic_bytes() -> None:
    assert detect_kind(pdf_bytes(1)[:4096]) is FileKind.PDF
    assert detect_kind(png_bytes()) is FileKind.PNG
    assert detect_kind(jpeg_bytes(10, 10)[:4096]) is FileKind.JPEG
    assert detect_kind(b"PK\x03\x04\x14\x00") is FileKind.ZIP
    assert detect_kind(b"PK\x05\x06" + bytes(18)) is FileKind.ZIP
    assert detect_kind(mp4_bytes()) is FileKind.MP4
    quicktime = struct.pack(">I", 20) + b"ftypqt  \x00\x00\x00\x00qt  "
    assert detect_kind(quicktime) is None
    assert detect_kind(b"GIF89a....") is None
    assert detect_kind(b"") is None
    assert FileKind.JPEG.content_type == "image/jpeg"
    assert FileKind.JPEG.extensions == (".jpg", ".jpeg")


async def test_type_checks_against_name_and_policy() -> None:
    assert await refusal(png_bytes(), "slides.pdf") == "type_mismatch"
    assert await refusal(png_bytes(), "slides") == "type_mismatch"
    assert await refusal(b"just some text", "notes.txt") == "unsupported_type"
    assert await refusal(b"", "empty.pdf") == "empty_file"
    only_pdf = FilePolicy(allowed_kinds=frozenset({FileKind.PDF}))
    assert await refusal(png_bytes(), "shot.png", only_pdf) == "type_not_allowed"
    small = FilePolicy(max_bytes=10)
    assert await refusal(png_bytes(), "shot.png", small) == "file_too_large"
    assert (await inspect(png_bytes(), "SHOT.PNG\r\n"))["kind"] is FileKind.PNG


async def test_a_real_pdf_is_accepted_and_its_text_extracted() -> None:
    data = pdf_bytes(3)
    assert await inspect(data, "deck.pdf") == {
        "kind": FileKind.PDF,
        "type": "application/pdf",
        "pages": 3,
        "encrypted": False,
    }
    text = extract_pdf_text(io.BytesIO(data), max_chars=10_000)
    assert text == "Hello judges 1\n\nHello judges 2\n\nHello judges 3"
    assert extract_pdf_text(io.BytesIO(data), max_chars=5) == "Hello"


async def test_broken_and_locked_pdfs_are_refused() -> None:
    data = pdf_bytes(2)
    assert await refusal(data[: len(data) // 2], "deck.pdf") == "invalid_pdf"
    assert await refusal(b"%PDF-1.7\n" + os.urandom(5000), "deck.pdf") == "invalid_pdf"
    assert await refusal(pdf_bytes(1, user_password="secret"), "deck.pdf") == "pdf_encrypted"
    # Only an owner password (open for anyone): accepted and readable.
    owner_only = pdf_bytes(1, user_password="")
    assert (await inspect(owner_only, "deck.pdf"))["encrypted"] is True
    assert extract_pdf_text(io.BytesIO(owner_only), max_chars=100) == "Hello judges 1"


async def test_images_are_checked_structurally() -> None:
    assert await inspect(png_bytes(3, 2), "a.png") == {
        "kind": FileKind.PNG,
        "type": "image/png",
        "width": 3,
        "height": 2,
    }
    assert await refusal(png_bytes(3, 2, crc_ok=False), "a.png") == "invalid_image"
    assert await refusal(png_bytes(30_000, 2), "a.png") == "image_too_large"
    assert await refusal(png_bytes()[:20], "a.png") == "invalid_image"
    jpeg = await inspect(jpeg_bytes(640, 480), "photo.jpeg")
    assert (jpeg["width"], jpeg["height"]) == (640, 480)
    assert await refusal(jpeg_bytes(20_001, 10), "photo.jpg") == "image_too_large"
    assert await refusal(jpeg_bytes(640, 480)[:30_000], "photo.jpg") == "invalid_image"


async def test_mp4_needs_well_formed_boxes_and_a_movie_header() -> None:
    assert await inspect(mp4_bytes(), "demo.mp4") == {
        "kind": FileKind.MP4,
        "type": "video/mp4",
        "brand": "isom",
        "boxes": 3,
    }
    assert await refusal(mp4_bytes(with_moov=False), "demo.mp4") == "invalid_video"
    assert await refusal(mp4_bytes()[:-10], "demo.mp4") == "invalid_video"


# --- storage -----------------------------------------------------------------------------------


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    if request.param == "local":
        return LocalStore(prefix=tmp_path, mkdir=True)
    return request.getfixturevalue("s3_store")


@pytest.mark.parametrize("size", [10_000, 12 * MiB + 123])
async def test_storage_round_trip(store: ObjectStore, size: int) -> None:
    data = os.urandom(size)
    key = storage_key(*(f"00000000-0000-4000-8000-00000000000{n}" for n in (4, 5, 6)))
    with await spool(data, max_bytes=size) as spooled:
        inspection_type = "application/octet-stream"
        await put_file(store, key, spooled.file, content_type=inspection_type)
        assert spooled.file.tell() == 0
    received = hashlib.sha256()
    largest = 0
    async for chunk in await stream_file(store, key):
        received.update(chunk)
        largest = max(largest, len(chunk))
    assert received.hexdigest() == hashlib.sha256(data).hexdigest()
    assert largest <= 6 * MiB
    if not isinstance(store, LocalStore):
        result = await obstore.get_async(store, key)
        assert result.attributes.get("Content-Type") == inspection_type
    await delete_file(store, key)
    with pytest.raises((FileNotFoundError, NotFoundError)):
        await stream_file(store, key)
    await delete_file(store, key)  # already gone: fine


async def test_a_failed_upload_leaves_no_object(store: ObjectStore) -> None:
    class FailingFile(io.BytesIO):
        """A source whose disk fails after 7 MiB, past the first multipart part."""

        def read(self, size: int | None = -1, /) -> bytes:
            if self.tell() >= 7 * MiB:
                raise OSError("disk gone")
            return super().read(size)

    with pytest.raises(OSError, match="disk gone"):
        await put_file(store, "org/x/partial", FailingFile(bytes(12 * MiB)), content_type="a/b")
    with pytest.raises((FileNotFoundError, NotFoundError)):
        await stream_file(store, "org/x/partial")


MEASURE_25_MB_UPLOAD = """
import asyncio, os, sys, tracemalloc
from pathlib import Path
from obstore.store import LocalStore
from hackops.submissions.files.service import put_file, spool_upload

MiB = 1024 * 1024
folder = Path(sys.argv[1])
piece = os.urandom(64 * 1024)

async def body():
    for _ in range(25 * 16):
        yield piece

async def main():
    store = LocalStore(prefix=folder / "store", mkdir=True)
    tracemalloc.start()
    with await spool_upload(body(), max_bytes=25 * MiB, spool_dir=str(folder)) as spooled:
        await put_file(store, "big", spooled.file, content_type="application/zip")
    _, peak = tracemalloc.get_traced_memory()
    print(peak, flush=True)

asyncio.run(main())
# The figure is out: leave without the interpreter's teardown, where a native library's
# threads were seen to abort the process (SIGABRT after printing, twice in CI on 2 busy cores).
os._exit(0)
"""


def test_a_25_mb_upload_stays_small_in_python_memory(tmp_path: Path) -> None:
    """Spool + store of 25 MiB: tracemalloc's peak stays far below the file's size.

    Measured in a process of its own: tracemalloc counts every thread of the process, and the
    test process runs live servers and background work in other threads. LocalStore only: moto's
    in-process server keeps uploaded objects in Python memory.
    """
    done = subprocess.run(
        [sys.executable, "-c", MEASURE_25_MB_UPLOAD, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # the measuring process's own words when it fails (once seen: SIGABRT, with no reason kept)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    peak = int(done.stdout.strip())
    assert (tmp_path / "store" / "big").stat().st_size == 25 * MiB
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"


async def test_inspection_can_run_off_the_event_loop() -> None:
    with await spool(pdf_bytes(1)) as spooled:
        result = await inspect_file_async(spooled, declared_name="a.pdf", policy=FilePolicy())
    assert result.details["pages"] == 1
