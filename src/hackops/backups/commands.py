"""The CLI side of `hackops backup` / `hackops restore`: run, then print what was done.

A BackupError ends the command with its one line and exit code 1, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import typer
from obstore.exceptions import BaseError as ObstoreError
from rich.console import Console

from hackops import migrate
from hackops.backups import BackupError
from hackops.backups.backup import backup
from hackops.backups.progress import size
from hackops.backups.restore import restore
from hackops.config import Settings

#: Failures with no message of ours (a dropped connection, a full disk, a store that refuses):
#: still one line, naming the kind of failure.
UNEXPECTED = (psycopg.Error, OSError, ObstoreError)


def _fail(console: Console, exc: Exception, what: str) -> typer.Exit:
    if not isinstance(exc, BackupError):
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = lines[0] if lines else ""
        exc = BackupError(
            f"The {what} failed: {type(exc).__name__}: {detail}", code=f"{what}_failed"
        )
    console.print(f"[bold red]{exc.message}[/] ({exc.code})", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def run_backup(
    settings: Settings, directory: Path, *, console: Console, pg_bin: Path | None
) -> None:
    try:
        report = backup(settings, directory, console=console, pg_bin=pg_bin)
    except (BackupError, *UNEXPECTED) as exc:
        raise _fail(console, exc, "backup") from None
    manifest = report.manifest
    stored = manifest.storage.objects
    console.print(
        f"Backed up {len(manifest.database.tables)} tables ({report.rows} rows,"
        f" dump {size(manifest.database.size)}, pg_dump {manifest.database.pg_dump_version})"
        f" and {len(stored)} objects ({size(sum(o.size for o in stored))})"
        f" at revision {manifest.alembic_revision} into {directory}",
        highlight=False,
        soft_wrap=True,
    )
    if report.vanished:
        console.print(
            f"{len(report.vanished)} objects were deleted while listing and are not in the backup"
            " (no row referred to them).",
            highlight=False,
        )
    missing = manifest.storage.missing_referenced
    if missing:
        console.print(
            f"[bold yellow]Warning: {len(missing)} objects the database refers to are not in the"
            f" store (first: {missing[0]}); listed in manifest.json as missing_referenced.[/]",
            highlight=False,
            soft_wrap=True,
        )


def run_restore(
    settings: Settings, directory: Path, *, console: Console, pg_bin: Path | None, force: bool
) -> None:
    try:
        report = restore(settings, directory, console=console, pg_bin=pg_bin, force=force)
    except (BackupError, *UNEXPECTED) as exc:
        raise _fail(console, exc, "restore") from None
    manifest = report.manifest
    stored = manifest.storage.objects
    rows = sum(manifest.database.tables.values())
    console.print(
        f"Restored {len(manifest.database.tables)} tables ({rows} rows) and {len(stored)} objects"
        f" ({size(sum(o.size for o in stored))}) from the backup of"
        f" {manifest.created_at:%Y-%m-%d %H:%M} UTC (HackOps {manifest.app_version}, revision"
        f" {manifest.alembic_revision}); every hash, row count, policy and privilege checked.",
        highlight=False,
        soft_wrap=True,
    )
    if report.replaced_tables or report.replaced_objects:
        console.print(
            f"--force: replaced a database of {report.replaced_tables} tables and a store of"
            f" {report.replaced_objects} objects.",
            highlight=False,
        )
    heads = migrate.head_revisions()
    if manifest.alembic_revision not in heads:
        console.print(
            f"This HackOps is at revision {', '.join(sorted(heads))}: run `hackops db upgrade`"
            " (or start the app, which migrates) before serving.",
            highlight=False,
            soft_wrap=True,
        )
    for note in report.notes:
        console.print(f"[yellow]{note}[/]", highlight=False, soft_wrap=True)
