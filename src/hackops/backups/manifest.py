"""The backup folder's layout and its manifest (what a restore checks everything against)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hackops.backups import BackupError

FORMAT: Final = "hackops-backup/1"
MANIFEST = "manifest.json"
DUMP: Final = "database.dump"
OBJECTS = "objects"
READ_BYTES = 1024 * 1024

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoredObject(_Strict):
    key: Annotated[str, Field(min_length=1)]
    size: Annotated[int, Field(ge=0)]
    sha256: Sha256


class TableSecurity(_Strict):
    """Row-level security and the app role's privileges on one table or sequence."""

    rls: bool
    forced: bool
    policies: list[str]
    app_privileges: list[str]


class DatabasePart(_Strict):
    file: Literal["database.dump"] = DUMP
    size: Annotated[int, Field(ge=0)]
    sha256: Sha256
    server_version: str
    server_major: int
    pg_dump_version: str
    pg_dump_major: int
    app_role: str
    tables: dict[str, int]
    security: dict[str, TableSecurity]


class StoragePart(_Strict):
    source: str
    objects: list[StoredObject]
    referenced: int
    missing_referenced: list[str]


class Manifest(_Strict):
    format: Literal["hackops-backup/1"] = FORMAT
    app_version: str
    created_at: datetime
    alembic_revision: str | None
    database: DatabasePart
    storage: StoragePart


def object_path(directory: Path, sha256: str) -> Path:
    return directory / OBJECTS / sha256[:2] / sha256


def sha256_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> tuple[str, int]:
    """The file's SHA-256 (hex) and size, reading 1 MiB at a time."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(READ_BYTES):
            digest.update(chunk)
            size += len(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    return digest.hexdigest(), size


def write_manifest(directory: Path, manifest: Manifest) -> None:
    """Write the manifest last and atomically: its presence marks a finished backup."""
    partial = directory / f".{MANIFEST}.partial"
    partial.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    partial.replace(directory / MANIFEST)


def read_manifest(directory: Path) -> Manifest:
    path = directory / MANIFEST
    if not directory.is_dir():
        raise BackupError(f"{directory} is not a folder.", code="backup_dir_missing")
    if not path.is_file():
        raise BackupError(
            f"{directory} has no {MANIFEST}: it is not a finished HackOps backup.",
            code="manifest_missing",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(
            f"{path} is corrupt (not JSON: {exc}).", code="manifest_invalid"
        ) from None
    if isinstance(data, dict) and data.get("format") not in (None, FORMAT):
        raise BackupError(
            f"{path} has format {data.get('format')!r}; this HackOps reads {FORMAT!r}.",
            code="manifest_invalid",
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise BackupError(
            f"{path} is corrupt: {where}: {first['msg']}.", code="manifest_invalid"
        ) from None
