from __future__ import annotations

import os
from pathlib import Path

import pytest

from hackops import __version__, migrate
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
