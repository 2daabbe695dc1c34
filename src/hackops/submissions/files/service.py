"""Uploaded files, from the request body to object storage and back: the one import for callers.

Lifecycle of an upload:

1. `spool_upload` (or `spool_upload_file` for a multipart `UploadFile`) copies the body into a
   `SpooledTemporaryFile` (1 MiB in memory, the rest on disk), hashing as it goes. It counts the
   bytes it actually receives and stops at `max_bytes + 1`, before writing that chunk, so a
   client lying about Content-Length is caught and never more than the limit is kept.
2. `inspect_file` decides the kind from the bytes, checks it against the event's `FilePolicy`
   and the declared name, and runs the structural check of that kind (`filechecks`,
   `zipcheck`); PDFs are parsed in a bounded child process (`docparse`). It is CPU-bound:
   async code calls `inspect_file_async` (the documents' own threads).
3. `put_file` streams the spool to the store under a key from `storage_key`, which is built
   from ids and a random UUID, never from the file name.
4. Downloads go through `sign_download`/`verify_download` and `stream_file` (see `downloads`).

Every refusal is a `FileRejected(code, message)`; the API maps it to a 4xx error.
"""

from __future__ import annotations

import functools
import hashlib
import io
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any, Protocol

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import LocalStore, ObjectStore

from hackops.storage import storage_errors
from hackops.submissions.files.checks import Details, check_jpeg, check_mp4, check_png
from hackops.submissions.files.docparse import check_pdf, extract_pdf_text, in_document_pool
from hackops.submissions.files.downloads import (
    DEFAULT_LINK_SECONDS,
    DownloadGrant,
    content_disposition,
    extension_of,
    safe_display_name,
    sign_download,
    verify_download,
)
from hackops.submissions.files.kinds import (
    HEAD_BYTES,
    FileKind,
    FilePolicy,
    FileRejected,
    MiB,
    detect_kind,
    ensure_room_for_file,
    file_too_large,
)
from hackops.submissions.files.zipcheck import check_zip, extract_zip_text

__all__ = [
    "DEFAULT_LINK_SECONDS",
    "AsyncReadable",
    "DownloadGrant",
    "FileKind",
    "FilePolicy",
    "FileRejected",
    "Inspection",
    "Spooled",
    "content_disposition",
    "delete_file",
    "detect_kind",
    "ensure_room_for_file",
    "extract_pdf_text",
    "extract_zip_text",
    "inspect_file",
    "inspect_file_async",
    "put_file",
    "safe_display_name",
    "sign_download",
    "spool_upload",
    "spool_upload_file",
    "storage_key",
    "stream_file",
    "verify_download",
]

SPOOL_MEMORY_BYTES = 1 * MiB
UPLOAD_READ_BYTES = 64 * 1024
# S3's minimum multipart part size; also the most the upload holds in memory at once.
STORE_PART_BYTES = 5 * MiB
STORE_READ_BYTES = 256 * 1024
DOWNLOAD_CHUNK_BYTES = 256 * 1024
#: What an upload refused by an unreachable store tells the person.
NOT_SAVED = (
    "File storage is unavailable right now, so the file was not saved; try again in a few minutes."
)

_CHECKS: dict[FileKind, Callable[[IO[bytes], FilePolicy], Details]] = {
    FileKind.PDF: check_pdf,
    FileKind.PNG: check_png,
    FileKind.JPEG: check_jpeg,
    FileKind.ZIP: check_zip,
    FileKind.MP4: check_mp4,
}


class AsyncReadable(Protocol):
    """Anything with `await read(n)`, such as Starlette's `UploadFile`."""

    async def read(self, size: int = -1, /) -> bytes: ...


@dataclass(slots=True)
class Spooled:
    """A received upload: its temporary file (positioned at 0), size, SHA-256 and first bytes.

    Use it as a context manager; leaving it closes the file, which deletes it from disk.
    """

    file: IO[bytes]
    size: int
    sha256: str
    head: bytes

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> Spooled:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


async def spool_upload(
    chunks: AsyncIterable[bytes], *, max_bytes: int, spool_dir: str | None = None
) -> Spooled:
    """Receive a body into a temporary file, refusing it as soon as it passes `max_bytes`.

    Writes are synchronous: a chunk goes to the page cache in microseconds, less than a thread
    hop would cost. On any error (too large, client gone) the temporary file is removed.
    """
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - owned by Spooled
        max_size=SPOOL_MEMORY_BYTES, mode="w+b", dir=spool_dir
    )
    digest = hashlib.sha256()
    head = bytearray()
    size = 0
    try:
        async for chunk in chunks:
            if not chunk:
                continue
            size += len(chunk)
            if size > max_bytes:
                raise file_too_large(max_bytes)
            digest.update(chunk)
            spool.write(chunk)
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
    except BaseException:
        spool.close()
        # An abandoned async generator would otherwise stay suspended until garbage collection.
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
        raise
    spool.seek(0)
    return Spooled(file=spool, size=size, sha256=digest.hexdigest(), head=bytes(head))


async def spool_upload_file(
    upload: AsyncReadable, *, max_bytes: int, spool_dir: str | None = None
) -> Spooled:
    """`spool_upload` for a multipart `UploadFile`.

    Starlette has already parsed the whole part to its own temporary file by then, so the
    limit here protects what we keep, not the disk; the raw-body upload endpoint is the one that
    stops a too-large transfer early.
    """

    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await upload.read(UPLOAD_READ_BYTES):
            yield chunk

    return await spool_upload(chunks(), max_bytes=max_bytes, spool_dir=spool_dir)


@dataclass(frozen=True, slots=True)
class Inspection:
    """An accepted file: its kind from the bytes and what the structural check found.

    `details` holds per kind: pdf `pages`, `encrypted`; png/jpeg `width`, `height`;
    zip `entries`, `uncompressed_size`, `text_entries`; mp4 `brand`, `boxes`.
    """

    kind: FileKind
    content_type: str
    size: int
    sha256: str
    details: Details

    def recorded(self) -> dict[str, Any]:
        """What `intake.attachments.attach_file` records of it (besides key and name)."""
        return {
            "kind": self.kind.value,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "details": dict(self.details),
        }


def inspect_file(spooled: Spooled, *, declared_name: str, policy: FilePolicy) -> Inspection:
    """Accept the file or raise `FileRejected`: size, kind, name ending, structure."""
    if spooled.size == 0:
        raise FileRejected("empty_file", "The file is empty.")
    if spooled.size > policy.max_bytes:
        raise file_too_large(policy.max_bytes)
    kind = detect_kind(spooled.head)
    if kind is None:
        raise FileRejected(
            "unsupported_type",
            f"The file's type is not supported; accepted types: {policy.allowed_labels()}.",
        )
    if kind not in policy.allowed_kinds:
        raise FileRejected(
            "type_not_allowed",
            f"{kind.label} files are not accepted for this event; "
            f"accepted types: {policy.allowed_labels()}.",
        )
    extension = extension_of(safe_display_name(declared_name))
    if extension not in kind.extensions:
        shown = f"ends with {extension!r}" if extension else "has no extension"
        raise FileRejected(
            "type_mismatch",
            f"The file's content is {kind.label} but its name {shown}; "
            f"name it *{kind.extensions[0]}.",
        )
    try:
        details = _CHECKS[kind](spooled.file, policy)
    finally:
        spooled.file.seek(0)
    return Inspection(
        kind=kind,
        content_type=kind.content_type,
        size=spooled.size,
        sha256=spooled.sha256,
        details=details,
    )


async def inspect_file_async(
    spooled: Spooled, *, declared_name: str, policy: FilePolicy
) -> Inspection:
    """`inspect_file` on the documents' own threads (a PDF parse, in a bounded child process,
    or a 100 MiB zip scan would stall the loop; argon2's threads are not held up by it)."""
    return await in_document_pool(
        functools.partial(inspect_file, spooled, declared_name=declared_name, policy=policy)
    )


def storage_key(
    org_id: uuid.UUID | str, event_id: uuid.UUID | str, team_id: uuid.UUID | str
) -> str:
    """`org/<id>/event/<id>/team/<id>/<random hex>`; ids are parsed as UUIDs so none adds a path."""
    org, event, team = (uuid.UUID(str(value)) for value in (org_id, event_id, team_id))
    return f"org/{org}/event/{event}/team/{team}/{uuid.uuid4().hex}"


async def put_file(store: ObjectStore, key: str, fileobj: IO[bytes], *, content_type: str) -> None:
    """Store the file from its start, holding about one 5 MiB part in memory.

    Small files go in one request. Larger ones go through obstore's buffered writer, whose
    `write` waits while a part is uploading (multipart on S3, one part in flight), so memory is
    bounded by the part size. The alternatives measured worse on a 25 MiB file: handing obstore
    the file object reads several parts ahead (+20 MiB resident); an async iterator has no back
    pressure (tracemalloc peak sometimes 9.5 MiB instead of 5.3). Leaving the writer on an
    exception aborts the upload: no partial object is ever visible.
    LocalStore cannot keep attributes, so the content type is only set on stores that can; the
    database keeps it either way.
    """
    fileobj.seek(0, io.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    attributes = None if isinstance(store, LocalStore) else {"Content-Type": content_type}
    with storage_errors(NOT_SAVED):
        if size <= STORE_PART_BYTES:
            await obstore.put_async(
                store, key, fileobj.read(), attributes=attributes, use_multipart=False
            )
        else:
            async with obstore.open_writer_async(
                store, key, attributes=attributes, buffer_size=STORE_PART_BYTES, max_concurrency=1
            ) as writer:
                while chunk := fileobj.read(STORE_READ_BYTES):
                    await writer.write(chunk)
    fileobj.seek(0)


async def stream_file(
    store: ObjectStore, key: str, *, chunk_size: int = DOWNLOAD_CHUNK_BYTES
) -> AsyncIterator[bytes]:
    """The stored bytes as chunks; await it before starting the response.

    The object is opened here, so a missing object raises (FileNotFoundError or obstore's
    NotFoundError) while a 404 can still be sent, not half-way through a streamed body; an
    unreachable store raises `StorageUnavailable` (503) likewise.
    """
    with storage_errors():
        result = await obstore.get_async(store, key)
    return result.stream(min_chunk_size=chunk_size)


async def delete_file(store: ObjectStore, key: str) -> None:
    """Remove a stored file; already gone counts as done, so cleanup jobs can be retried."""
    try:
        with storage_errors():
            await obstore.delete_async(store, key)
    except (FileNotFoundError, NotFoundError):
        return
