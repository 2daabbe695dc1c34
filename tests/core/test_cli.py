from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from hackops import __version__, migrate
from hackops.config import Settings
from tests.helpers import run_cli


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"hackops {__version__}"


def _postgres_running_on(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().splitlines()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_embedded_database_is_created_reused_and_stopped(tmp_path: Path) -> None:
    env = {"HACKOPS_ENV": "dev", "DATA_DIR": str(tmp_path / "data"), "LOG_JSON": "false"}
    first = run_cli("demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "Embedded PostgreSQL ready" in first.stderr
    pgdata = tmp_path / "data" / "pgdata"
    assert (pgdata / "PG_VERSION").exists()
    assert not _postgres_running_on(pgdata), "the process that started the cluster stops it"

    second = run_cli("db", "current", env=env)
    assert second.returncode == 0, second.stderr
    (head,) = migrate.head_revisions()
    assert f"{head} (head)" in second.stdout
    assert not _postgres_running_on(pgdata)


def test_admin_create_makes_a_verified_platform_admin(settings: Settings) -> None:
    env = {
        "HACKOPS_ENV": "test",
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "DATABASE_URL": str(settings.database_url),
        "DATABASE_ADMIN_URL": str(settings.database_admin_url),
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "LOG_JSON": "false",
    }
    args = (
        "admin",
        "create",
        "--email",
        " Root@Example.com",
        "--password",
        "a long admin passphrase",
    )
    first = run_cli(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert "Platform administrator created: " in first.stderr
    again = run_cli(*args, env=env)
    assert "Platform administrator promoted" in again.stderr
    weak = run_cli("admin", "create", "--email", "w@example.com", "--password", "password", env=env)
    assert weak.returncode == 1
    assert "password_too_short" in weak.stderr or "password_too_common" in weak.stderr
    with psycopg.connect(str(settings.database_admin_url)) as conn:
        row = conn.execute(
            "SELECT is_platform_admin, email_verified_at IS NOT NULL FROM users WHERE email = %s",
            ("root@example.com",),
        ).fetchone()
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM audit_log WHERE action = 'user.platform_admin_granted'")
        conn.execute("DELETE FROM users WHERE email = 'root@example.com'")
        conn.commit()
    assert row == (True, True)
