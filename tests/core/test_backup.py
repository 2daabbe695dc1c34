"""Backups that restore, through the `hackops` command a person runs.

The drill: a database of its own on the run's server, the demo data (`hackops demo`) plus a
generated event (registrations, teams, submissions with files in a real local store, link
snapshots, evaluations, published results); back up; drop the database and the store folder;
restore; every table's row count and content hash, every sequence, every object's SHA-256, the
policies and the app role's privileges are what they were, and RLS still holds for the app role.
Then the refusals: a damaged backup, a target that is not empty, a folder that is not empty, an
unreachable database, no pg_dump new enough.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from hackops import migrate
from hackops.backups.manifest import MANIFEST
from hackops.db import Database, db_now
from hackops.demo_judging import _event as judged_event
from hackops.embedded import ensure_database
from hackops.models import LinkCheck, Submission, SubmissionFile, SubmissionVersion
from hackops.storage import make_store
from hackops.submissions.files.service import put_file, storage_key
from hackops.tenancy import set_tenant
from tests.conftest import APP_ROLE, _migrated_database, _with_database, as_role, make_settings
from tests.factories import create_organization, create_user
from tests.helpers import run_cli
from tests.submissions.filehelpers import png_bytes

SECRET = "test-" + "s" * 40


def cli_env(owner_url: str, store: Path, **extra: str) -> dict[str, str]:
    return {
        "HACKOPS_ENV": "dev",  # `hackops demo` seeds its judged and published events in dev
        "SECRET_KEY": SECRET,
        "DATABASE_URL": as_role(owner_url, APP_ROLE),
        "DATABASE_ADMIN_URL": owner_url,
        "STORAGE_URL": f"file://{store}",
        "DATA_DIR": str(store.parent / "data"),
        "LOG_JSON": "false",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "PASSWORD_HASH_TIME_COST": "1",
        **extra,
    }


def one_line_error(result: Any, code: str) -> str:
    """The command failed with exit 1 and one line naming `code`, no traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert "╭" not in result.stderr, result.stderr  # Rich's traceback frame
    lines = [line for line in result.stderr.splitlines() if f"({code})" in line]
    assert len(lines) == 1, result.stderr
    return lines[0]


# --- what must be equal after a restore ------------------------------------------------------


def table_fingerprints(owner_url: str) -> dict[str, tuple[int, str]]:
    """Per table: row count and md5 of every row's text ordered by the primary key (computed
    in SQL as the owner, who bypasses RLS); per sequence: its last value."""
    query = """
        SELECT format('%I.%I', n.nspname, c.relname),
               coalesce((SELECT string_agg(format('t.%I', a.attname), ', ' ORDER BY k.ord)
                         FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, ord),
                              pg_attribute a
                         WHERE i.indrelid = c.oid AND i.indisprimary
                           AND a.attrelid = c.oid AND a.attnum = k.attnum), 't::text')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 1
    """
    result: dict[str, tuple[int, str]] = {}
    with psycopg.connect(owner_url) as conn:
        for table, order in conn.execute(query).fetchall():
            count, digest = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {order}), ''))"
                f" FROM {table} t"
            ).fetchone() or (0, "")
            result[table] = (count, digest)
        for name, last, called in conn.execute(
            "SELECT sequencename, last_value, last_value IS NOT NULL FROM pg_sequences"
            " WHERE schemaname = 'public'"
        ):
            result[f"sequence {name}"] = (int(called), str(last))
    return result


def security_catalog(owner_url: str) -> set[tuple[Any, ...]]:
    """RLS flags, policies (not their re-printed expression text) and the app role's grants."""
    with psycopg.connect(owner_url) as conn:
        flags = conn.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
            " WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
        ).fetchall()
        policies = conn.execute(
            "SELECT tablename, policyname, permissive, roles::text, cmd, qual IS NULL,"
            " with_check IS NULL FROM pg_policies WHERE schemaname = 'public'"
        ).fetchall()
        grants = conn.execute(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants"
            " WHERE grantee = %s",
            (APP_ROLE,),
        ).fetchall()
    return (
        {("rls", *row) for row in flags}
        | {("policy", *row) for row in policies}
        | {("grant", *row) for row in grants}
    )


def stored_objects(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# --- the data ----------------------------------------------------------------------------------


async def generate_event(owner_url: str, store_dir: Path) -> None:
    """Another organization's finished event (demo_judging: registrations, teams, submissions,
    evaluations, published results) whose submissions carry real files and a link snapshot."""
    settings = make_settings(owner_url, store_dir)
    database = Database.from_settings(settings)
    store = make_store(settings)
    try:
        async with database.transaction() as session:
            org = await create_organization(session, name="Drill Club")
            await set_tenant(session, org.id)
            organizer = await create_user(session, name="Drill Organizer")
            now = await db_now(session)
            event = await judged_event(
                session,
                org.id,
                organizer.id,
                slug="drill-2026",
                name="Backup Drill 2026",
                closed=now - timedelta(days=10),
                judging_closes=now - timedelta(days=5),
                status="approved",
            )
            submissions = (
                await session.scalars(select(Submission).where(Submission.event_id == event.id))
            ).all()
            for n, submission in enumerate(submissions):
                files = [(f"screen-{n}.png", png_bytes(4 + n, 3), "png", "image/png")]
                if n == 0:  # one large object: the store takes it in parts
                    files.append(("data.zip", os.urandom(17 * 1024 * 1024), "zip", "x/zip"))
                entries = []
                for name, data, kind, content_type in files:
                    key = storage_key(org.id, event.id, submission.team_id)
                    await put_file(store, key, io.BytesIO(data), content_type=content_type)
                    row = SubmissionFile(
                        org_id=org.id,
                        event_id=event.id,
                        team_id=submission.team_id,
                        submission_id=submission.id,
                        storage_key=key,
                        name=name,
                        content_type=content_type,
                        kind=kind,
                        size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(),
                    )
                    session.add(row)
                    entries.append({"name": name, "sha256": row.sha256, "storage_key": key})
                version = await session.get(SubmissionVersion, submission.latest_version_id)
                assert version is not None
                version.files = entries
                page = f"<html><title>Project {n}</title></html>".encode()
                page_sha256 = hashlib.sha256(page).hexdigest()
                key = (  # as pipeline_steps.snapshot_key makes it
                    f"org/{org.id}/event/{event.id}/team/{submission.team_id}"
                    f"/links/{version.id}/{page_sha256}.html"
                )
                await put_file(store, key, io.BytesIO(page), content_type="text/html")
                session.add(
                    LinkCheck(
                        org_id=org.id,
                        submission_id=submission.id,
                        version_id=version.id,
                        url=f"https://project-{n}.example/",
                        status="ok",
                        http_status=200,
                        snapshot_key=key,
                        content_sha256=page_sha256,
                    )
                )
            await session.flush()
    finally:
        await database.dispose()


@pytest.fixture
def drill_db(server_admin_url: str) -> Iterator[str]:
    yield from _migrated_database(server_admin_url, "hackops_backup")


# --- the drill ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_backup_wipe_restore_gives_back_every_row_and_object(
    drill_db: str, server_admin_url: str, tmp_path: Path
) -> None:
    store = tmp_path / "files"
    env = cli_env(drill_db, store)
    demo = run_cli("demo", env=env)
    assert demo.returncode == 0, demo.stderr
    asyncio.run(generate_event(drill_db, store))
    before = table_fingerprints(drill_db)
    catalog = security_catalog(drill_db)
    objects = stored_objects(store)
    for table in ("evaluations", "event_results", "submission_files", "link_checks", "teams"):
        assert before[f"public.{table}"][0] > 0, table
    assert len(objects) == 2 * 6 + 1  # a link snapshot and a screenshot each, one large file

    backup_dir = tmp_path / "backup"
    made = run_cli("backup", str(backup_dir), env=env)
    assert made.returncode == 0, made.stderr
    assert "Dumping the database" in made.stderr
    assert "Copying stored objects" in made.stderr
    manifest = json.loads((backup_dir / MANIFEST).read_text())
    assert manifest["alembic_revision"] in migrate.head_revisions()
    assert manifest["database"]["pg_dump_major"] == manifest["database"]["server_major"] == 15
    assert manifest["storage"]["missing_referenced"] == []
    assert manifest["storage"]["referenced"] == len(objects)  # every object is referenced
    assert {o["key"]: o["sha256"] for o in manifest["storage"]["objects"]} == objects
    assert manifest["database"]["tables"] == {t: n for t, (n, _) in before.items() if "." in t}

    # Wipe: the database dropped and made again empty, the store folder gone.
    name = drill_db.rsplit("/", 1)[1]
    with psycopg.connect(server_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    ensure_database(server_admin_url, name)
    shutil.rmtree(store)

    restored = run_cli("restore", str(backup_dir), env=env)
    assert restored.returncode == 0, restored.stderr
    assert "Restored " in restored.stderr
    assert "Writing stored objects" in restored.stderr
    assert table_fingerprints(drill_db) == before
    assert security_catalog(drill_db) == catalog
    assert stored_objects(store) == objects

    # RLS holds for the app role: without a tenant it sees no files, with one it sees its own.
    with psycopg.connect(as_role(drill_db, APP_ROLE)) as conn:
        assert conn.execute("SELECT count(*) FROM submission_files").fetchone() == (0,)
        conn.execute(
            "SELECT set_config('hackops.org_id', (SELECT id::text FROM organizations"
            " WHERE name = 'Drill Club'), false)"
        )
        assert conn.execute("SELECT count(*) FROM submission_files").fetchone() == (7,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE audit_log SET action = 'rewritten'")

    # A second restore into what is now full is refused and changes nothing.
    again = run_cli("restore", str(backup_dir), env=env)
    assert "not empty (" in one_line_error(again, "target_not_empty")
    assert table_fingerprints(drill_db) == before

    # A damaged object is found before anything is written.
    damaged = tmp_path / "damaged"
    shutil.copytree(backup_dir, damaged)
    victim = next(p for p in (damaged / "objects").rglob("*") if p.is_file())
    victim.write_bytes(victim.read_bytes() + b"!")
    empty_name = f"{name}_empty"
    ensure_database(server_admin_url, empty_name)
    try:
        empty_url = _with_database(drill_db, empty_name)
        refused = run_cli("restore", str(damaged), env=cli_env(empty_url, tmp_path / "other"))
        assert "Hash mismatch" in one_line_error(refused, "hash_mismatch")
        with psycopg.connect(empty_url) as conn:
            assert conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone() == (0,)
    finally:
        with psycopg.connect(server_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{empty_name}" WITH (FORCE)')


# --- refusals, each one line -----------------------------------------------------------------


def test_backup_refuses_a_folder_that_is_not_empty(database_url: str, tmp_path: Path) -> None:
    target = tmp_path / "backup"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = run_cli("backup", str(target), env=cli_env(database_url, tmp_path / "files"))
    assert "is not empty" in one_line_error(result, "backup_dir_not_empty")
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_backup_names_an_unreachable_database(tmp_path: Path) -> None:
    env = cli_env("postgresql://postgres@127.0.0.1:9/hackops", tmp_path / "files")
    result = run_cli("backup", str(tmp_path / "backup"), env=env)
    assert "unreachable" in one_line_error(result, "database_unreachable")
    assert not any((tmp_path / "backup").iterdir())


def test_backup_refuses_a_pg_dump_older_than_the_server(database_url: str, tmp_path: Path) -> None:
    old = tmp_path / "bin"
    old.mkdir()
    fake = old / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 14.9'\n")
    fake.chmod(0o755)
    env = cli_env(database_url, tmp_path / "files")
    result = run_cli("backup", str(tmp_path / "b1"), "--pg-bin", str(old), env=env)
    line = one_line_error(result, "pg_dump_missing")
    assert "PostgreSQL 15 or newer" in line
    assert "14.9" in line
    nothing = run_cli("backup", str(tmp_path / "b2"), "--pg-bin", str(tmp_path), env=env)
    assert "found: none" in one_line_error(nothing, "pg_dump_missing")


def test_restore_refuses_a_missing_or_corrupt_manifest(database_url: str, tmp_path: Path) -> None:
    env = cli_env(database_url, tmp_path / "files")
    folder = tmp_path / "backup"
    folder.mkdir()
    missing = run_cli("restore", str(folder), env=env)
    assert "not a finished HackOps backup" in one_line_error(missing, "manifest_missing")
    (folder / MANIFEST).write_text('{"format": "hackops-backup/1", "database": ')
    assert "not JSON" in one_line_error(
        run_cli("restore", str(folder), env=env), "manifest_invalid"
    )
    (folder / MANIFEST).write_text(json.dumps({"format": "hackops-backup/1", "app_version": 1}))
    assert "corrupt" in one_line_error(run_cli("restore", str(folder), env=env), "manifest_invalid")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_embedded_cluster_backs_up_with_its_own_pg_dump_and_restores_into_a_new_one(
    tmp_path: Path,
) -> None:
    """No DATABASE_URL: the embedded PostgreSQL 18 is dumped by the wheel's own pg_dump 18 (the
    system's 15 is too old for it), and restored into a fresh embedded cluster, whose app role
    the restore creates."""
    source = {"HACKOPS_ENV": "dev", "DATA_DIR": str(tmp_path / "a"), "LOG_JSON": "false"}
    assert run_cli("demo", env=source).returncode == 0
    made = run_cli("backup", str(tmp_path / "backup"), env=source)
    assert made.returncode == 0, made.stderr
    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text())
    assert manifest["database"]["server_major"] == 18
    assert manifest["database"]["pg_dump_major"] == 18
    assert manifest["database"]["tables"]["public.events"] == 4  # the demo's events

    target = {**source, "DATA_DIR": str(tmp_path / "b")}
    restored = run_cli("restore", str(tmp_path / "backup"), env=target)
    assert restored.returncode == 0, restored.stderr
    assert "Created role hackops_app" in restored.stderr
    current = run_cli("db", "current", env=target)
    assert manifest["alembic_revision"] in current.stdout


def test_backup_refuses_a_role_row_level_security_applies_to(
    database_url: str, tmp_path: Path
) -> None:
    """Only the app's connection (no DATABASE_ADMIN_URL): a dump through the policies would
    silently miss rows, so the backup names the setting to fix instead."""
    env = cli_env(database_url, tmp_path / "files", DATABASE_ADMIN_URL="")
    result = run_cli("backup", str(tmp_path / "backup"), env=env)
    line = one_line_error(result, "role_cannot_bypass_rls")
    assert "role hackops_app" in line
    assert "DATABASE_ADMIN_URL" in line
