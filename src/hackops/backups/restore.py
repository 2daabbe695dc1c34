"""`hackops restore DIR`: check every hash, restore the database in one transaction, write and
re-check every object, then compare the result with the manifest (package docstring)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from hackops.backups import BackupError, database, objects, pgtools, progress
from hackops.backups.manifest import DUMP, Manifest, read_manifest, sha256_file
from hackops.config import Settings
from hackops.storage import make_store

#: TOC entries left to us: default privileges name the old owner (who may not exist here; we
#: grant them for the restoring role instead) and an extension's comment needs its owner.
_SKIPPED_TOC = re.compile(r"^\d+; \d+ \d+ (DEFAULT ACL|COMMENT - EXTENSION) ")
_RESTORE_STEP = re.compile(r"^pg_restore: (creating|processing data|executing|dropping) ")


@dataclass
class RestoreReport:
    manifest: Manifest
    replaced_tables: int
    replaced_objects: int
    created_role: bool
    notes: list[str] = field(default_factory=list)


def restore(
    settings: Settings,
    directory: Path,
    *,
    console: Console,
    pg_bin: Path | None = None,
    force: bool = False,
    store: Any = None,
) -> RestoreReport:
    manifest = read_manifest(directory)
    role = settings.database_app_role
    if manifest.database.app_role != role:
        raise BackupError(
            f"The backup grants its tables to role {manifest.database.app_role}, but"
            f" DATABASE_APP_ROLE is {role}; set DATABASE_APP_ROLE={manifest.database.app_role}.",
            code="app_role_differs",
        )
    url = settings.migration_url
    setting = "DATABASE_ADMIN_URL" if settings.database_admin_url else "DATABASE_URL"
    with progress.steps(console) as bars:
        _verify_folder(directory, manifest, bars)
        with database.connect(url, purpose=f"restore target, {setting}") as conn:
            major, version = database.server_version(conn)
            if major < manifest.database.server_major:
                raise BackupError(
                    f"The backup comes from PostgreSQL {manifest.database.server_version}; the"
                    f" target runs {version}. Restore into PostgreSQL"
                    f" {manifest.database.server_major} or newer.",
                    code="server_too_old",
                )
            database.require_rls_bypass(conn, purpose="restore", setting=setting)
            existing_tables = database.user_tables(conn)
            store = store if store is not None else make_store(settings)
            existing_objects = objects.list_objects(store)
            _refuse_unless_empty(existing_tables, existing_objects, force=force)
            pg_restore = pgtools.find(
                "pg_restore",
                at_least=manifest.database.pg_dump_major,
                prefer=major,
                why=f"the dump was made by pg_dump {manifest.database.pg_dump_version}",
                pg_bin=pg_bin,
            )
            created_role = database.ensure_app_role(conn, role)
            database.revoke_default_privileges(conn, role)
            try:
                _restore_database(pg_restore, directory, url, bars, clean=bool(existing_tables))
            finally:  # after a failure too: the untouched target keeps what it had
                database.grant_as_migrations(conn, role)

            task = bars.add_task(
                "Writing stored objects",
                total=sum(item.size for item in manifest.storage.objects),
                unit="bytes",
                visible=bool(manifest.storage.objects),
            )
            for item in manifest.storage.objects:
                objects.copy_in(store, directory, item, lambda n: bars.advance(task, n))

            _compare(conn, manifest, role)
    report = RestoreReport(
        manifest=manifest,
        replaced_tables=len(existing_tables),
        replaced_objects=len(existing_objects),
        created_role=created_role,
    )
    if created_role:
        report.notes.append(
            f"Created role {role} (LOGIN, no password) as the migrations do; if the app signs in"
            f" with a password, set it: ALTER ROLE {role} PASSWORD '…'."
        )
    report.notes.extend(_app_connection_note(settings))
    return report


def _verify_folder(directory: Path, manifest: Manifest, bars: Any) -> None:
    """Every byte of the backup against the manifest, before anything is written."""
    dump = directory / DUMP
    if not dump.is_file():
        raise BackupError(f"The backup lacks its dump ({dump}).", code="dump_missing")
    unique = {item.sha256: item for item in manifest.storage.objects}
    total = manifest.database.size + sum(item.size for item in unique.values())
    task = bars.add_task("Checking the backup", total=total, unit="bytes")
    sha256, size = sha256_file(dump, lambda n: bars.advance(task, n))
    if sha256 != manifest.database.sha256 or size != manifest.database.size:
        raise BackupError(
            f"Hash mismatch: {dump} is not the dump the manifest recorded; the backup is damaged.",
            code="hash_mismatch",
        )
    for item in unique.values():
        objects.verify_file(directory, item, lambda n: bars.advance(task, n))


def _refuse_unless_empty(tables: list[str], stored: list[tuple[str, int]], *, force: bool) -> None:
    if force:
        return
    if tables:
        raise BackupError(
            f"The target database is not empty ({len(tables)} tables). Restore into an empty"
            " database, or pass --force to replace them with the backup's.",
            code="target_not_empty",
        )
    if stored:
        raise BackupError(
            f"The target object store is not empty ({len(stored)} objects). Restore into an"
            " empty store, or pass --force to overwrite objects with the same keys.",
            code="target_not_empty",
        )


def _restore_database(
    program: pgtools.PgProgram, directory: Path, url: str, bars: Any, *, clean: bool
) -> None:
    dump = directory / DUMP
    listing = pgtools.output(program, ["--list", str(dump)])
    entries = [line for line in listing.splitlines() if line and not line.startswith(";")]
    kept = [line for line in entries if not _SKIPPED_TOC.match(line)]
    task = bars.add_task("Restoring the database", total=len(kept), unit="steps")

    def on_line(line: str) -> None:
        if _RESTORE_STEP.match(line):
            bars.advance(task)

    target, env = pgtools.libpq_target(url)
    with tempfile.NamedTemporaryFile("w", suffix=".list", encoding="utf-8") as toc:
        toc.write("\n".join(kept) + "\n")
        toc.flush()
        args = ["--no-owner", "--single-transaction", "--exit-on-error", "--verbose"]
        if clean:
            args += ["--clean", "--if-exists"]
        args += [f"--use-list={toc.name}", f"--dbname={target}", str(dump)]
        pgtools.run(program, args, env=env, on_line=on_line)
    bars.update(task, completed=len(kept))


def _compare(conn: database.Connection, manifest: Manifest, role: str) -> None:
    """Rows per table, RLS, policies and the app role's privileges as the manifest has them."""
    counts = database.row_counts(conn, list(manifest.database.tables))
    wrong = [t for t, n in manifest.database.tables.items() if counts[t] != n]
    if wrong:
        detail = ", ".join(
            f"{t} {counts[t]} rows, expected {manifest.database.tables[t]}" for t in wrong[:3]
        )
        raise BackupError(f"The restored database differs: {detail}.", code="restore_differs")
    now = database.security(conn, role)

    wrong = [t for t, entry in manifest.database.security.items() if now.get(t) != entry]
    if wrong:
        raise BackupError(
            "The restored database's row-level security or privileges differ from the backup's"
            f" on: {', '.join(wrong[:5])}.",
            code="restore_differs",
        )
    revision = database.alembic_revision(conn)
    if revision != manifest.alembic_revision:
        raise BackupError(
            f"The restored database is at revision {revision}, the backup at"
            f" {manifest.alembic_revision}.",
            code="restore_differs",
        )


def _app_connection_note(settings: Settings) -> list[str]:
    """The app's own connection reads the restored database (as its role, under RLS)."""
    if settings.database_admin_url is None or settings.database_url is None:
        return []
    try:
        with database.connect(settings.libpq_url, purpose="the app's DATABASE_URL") as conn:
            conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except Exception as exc:  # a note, not a failure: the restore itself is complete
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [f"The app's connection (DATABASE_URL) cannot read the database yet: {message}"]
    return []
