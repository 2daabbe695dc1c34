"""Copying stored objects out of and into the object store (obstore's sync API), hashing as
the bytes pass: every object is named by its SHA-256 in the backup folder."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import obstore
from obstore.exceptions import NotFoundError

from hackops.backups import BackupError
from hackops.backups.manifest import OBJECTS, StoredObject, object_path, sha256_file
from hackops.storage import HEALTH_PROBE_KEY

READ_BYTES = 1024 * 1024
#: Keys that are not data: the readiness probe writes and deletes one every check.
SKIPPED_PREFIXES = (HEALTH_PROBE_KEY.split("/")[0] + "/",)


def list_objects(store: Any) -> list[tuple[str, int]]:
    """(key, size) of every stored object, sorted by key; the readiness probe left out."""
    try:
        return sorted(
            (str(meta["path"]), int(meta["size"]))
            for batch in obstore.list(store)
            for meta in batch
            if not str(meta["path"]).startswith(SKIPPED_PREFIXES)
        )
    except Exception as exc:
        raise BackupError(
            f"The object store cannot be listed: {type(exc).__name__}: {exc}",
            code="storage_unreachable",
        ) from None


def copy_out(
    store: Any, key: str, directory: Path, on_bytes: Callable[[int], None]
) -> StoredObject | None:
    """Copy one object into `directory/objects/`, named by its hash; None if it vanished
    after the listing (an orphan: the backup's docstring says why that is harmless)."""
    try:
        result = obstore.get(store, key)
    except (FileNotFoundError, NotFoundError):
        return None
    digest = hashlib.sha256()
    size = 0
    spool_dir = directory / OBJECTS
    spool_dir.mkdir(parents=True, exist_ok=True)
    fd, spool = tempfile.mkstemp(dir=spool_dir, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in result.stream(min_chunk_size=READ_BYTES):
                data = bytes(chunk)
                handle.write(data)
                digest.update(data)
                size += len(data)
                on_bytes(len(data))
        sha256 = digest.hexdigest()
        target = object_path(directory, sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # the same bytes under another key: stored once
            os.unlink(spool)
        else:
            os.replace(spool, target)
    except BaseException:
        Path(spool).unlink(missing_ok=True)
        raise
    return StoredObject(key=key, size=size, sha256=sha256)


def verify_file(directory: Path, item: StoredObject, on_bytes: Callable[[int], None]) -> None:
    """The object's file in the backup exists and has the manifest's hash and size."""
    path = object_path(directory, item.sha256)
    if not path.is_file():
        raise BackupError(
            f"The backup lacks the file of object {item.key} ({path}).", code="object_missing"
        )
    sha256, size = sha256_file(path, on_bytes)
    if sha256 != item.sha256 or size != item.size:
        raise BackupError(
            f"Hash mismatch: object {item.key} ({path}) is not what the manifest recorded;"
            " the backup is damaged.",
            code="hash_mismatch",
        )


def copy_in(
    store: Any, directory: Path, item: StoredObject, on_bytes: Callable[[int], None]
) -> None:
    """Write one object to the store, then read it back and check its hash again."""
    path = object_path(directory, item.sha256)
    with path.open("rb") as handle:
        payload = _hashed_chunks(handle, item, on_bytes)
        obstore.put(store, item.key, payload, use_multipart=item.size > 16 * READ_BYTES)
    digest = hashlib.sha256()
    for chunk in obstore.get(store, item.key).stream(min_chunk_size=READ_BYTES):
        digest.update(bytes(chunk))
    if digest.hexdigest() != item.sha256:
        raise BackupError(
            f"Hash mismatch: object {item.key} reads back from the store with other bytes than"
            " were written.",
            code="hash_mismatch",
        )


def _hashed_chunks(handle: Any, item: StoredObject, on_bytes: Callable[[int], None]) -> Any:
    """The file's bytes as chunks; raises (aborting the put) if they no longer match."""
    digest = hashlib.sha256()
    while chunk := handle.read(READ_BYTES):
        digest.update(chunk)
        on_bytes(len(chunk))
        yield chunk
    if digest.hexdigest() != item.sha256:
        raise BackupError(
            f"Hash mismatch: object {item.key} changed in the backup folder while restoring.",
            code="hash_mismatch",
        )
