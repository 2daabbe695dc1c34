"""`hackops backup DIR`: one snapshot of the database, then every stored object (see the
package docstring for why that order makes the pair consistent)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from hackops import __version__
from hackops.backups import BackupError, database, objects, pgtools, progress
from hackops.backups.manifest import (
    DUMP,
    MANIFEST,
    OBJECTS,
    DatabasePart,
    Manifest,
    StoragePart,
    StoredObject,
    sha256_file,
    write_manifest,
)
from hackops.config import Settings
from hackops.storage import make_store


@dataclass
class BackupReport:
    directory: Path
    manifest: Manifest
    vanished: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.manifest.database.tables.values())


def storage_source(settings: Settings) -> str:
    if settings.storage_url is not None:
        return settings.storage_url
    return f"file://{(settings.data_dir / 'files').resolve()}"


def prepare_directory(directory: Path) -> None:
    """DIR must be new or an empty folder: a backup never mixes with other files."""
    if directory.exists() and not directory.is_dir():
        raise BackupError(f"{directory} is a file, not a folder.", code="backup_dir_not_empty")
    if directory.is_dir() and any(directory.iterdir()):
        raise BackupError(
            f"{directory} is not empty; back up into a new or empty folder.",
            code="backup_dir_not_empty",
        )
    directory.mkdir(parents=True, exist_ok=True)


def backup(
    settings: Settings,
    directory: Path,
    *,
    console: Console,
    pg_bin: Path | None = None,
    store: Any = None,
) -> BackupReport:
    prepare_directory(directory)
    try:
        return _backup(settings, directory, console, pg_bin, store)
    except BaseException:
        # The folder was empty: take out what this run wrote, so no half backup is left.
        (directory / DUMP).unlink(missing_ok=True)
        (directory / f".{MANIFEST}.partial").unlink(missing_ok=True)
        shutil.rmtree(directory / OBJECTS, ignore_errors=True)
        raise


def _backup(
    settings: Settings, directory: Path, console: Console, pg_bin: Path | None, store: Any
) -> BackupReport:
    url = settings.migration_url
    setting = "DATABASE_ADMIN_URL" if settings.database_admin_url else "DATABASE_URL"
    role = settings.database_app_role
    dump = directory / DUMP
    with (
        database.connect(url, purpose=f"backup, {setting}") as conn,
        progress.steps(console) as bars,
    ):
        major, version = database.server_version(conn)
        database.require_rls_bypass(conn, purpose="backup", setting=setting)
        pg_dump = pgtools.find(
            "pg_dump",
            at_least=major,
            prefer=major,
            why=f"the server runs PostgreSQL {version}",
            pg_bin=pg_bin,
        )
        with database.exported_snapshot(conn) as snapshot:
            tables = database.user_tables(conn)
            counts = database.row_counts(conn, tables)
            security = database.security(conn, role)
            revision = database.alembic_revision(conn)
            referenced = database.referenced_keys(conn)
            task = bars.add_task("Dumping the database", total=len(tables), unit="tables")

            def on_line(line: str) -> None:
                if "dumping contents of table" in line:
                    bars.advance(task)

            target, env = pgtools.libpq_target(url)
            pgtools.run(
                pg_dump,
                [
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--verbose",
                    f"--file={dump}",
                    f"--dbname={target}",
                ],
                env=env,
                on_line=on_line,
            )
            bars.update(task, completed=len(tables))
        dump_size = dump.stat().st_size
        task = bars.add_task("Hashing the dump", total=dump_size, unit="bytes")
        dump_sha256, _ = sha256_file(dump, lambda n: bars.advance(task, n))

        # Listed only now, after the snapshot: every object a dumped row names is there.
        store = store if store is not None else make_store(settings)
        listed = objects.list_objects(store)
        task = bars.add_task(
            "Copying stored objects",
            total=sum(size for _, size in listed),
            unit="bytes",
            visible=bool(listed),
        )
        copied: list[StoredObject] = []
        vanished: list[str] = []
        for key, _size in listed:
            item = objects.copy_out(store, key, directory, lambda n: bars.advance(task, n))
            if item is None:
                vanished.append(key)
            else:
                copied.append(item)
    missing = sorted(referenced - {item.key for item in copied})
    manifest = Manifest(
        app_version=__version__,
        created_at=datetime.now(UTC),
        alembic_revision=revision,
        database=DatabasePart(
            size=dump_size,
            sha256=dump_sha256,
            server_version=version,
            server_major=major,
            pg_dump_version=pg_dump.version,
            pg_dump_major=pg_dump.major,
            app_role=role,
            tables=counts,
            security=security,
        ),
        storage=StoragePart(
            source=storage_source(settings),
            objects=copied,
            referenced=len(referenced),
            missing_referenced=missing,
        ),
    )
    write_manifest(directory, manifest)
    return BackupReport(directory=directory, manifest=manifest, vanished=vanished)
