"""The embedded PostgreSQL: a command attaches to a running cluster and leaves it running; a
cluster left behind by a crash (stale postmaster.pid, no server) starts again by itself."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import httpx2
import psutil
import pytest

from hackops import migrate
from tests.conftest import _free_port
from tests.health.cluster import inherited_env
from tests.helpers import run_cli

pytestmark = pytest.mark.slow


def embedded_env(data_dir: Path) -> dict[str, str]:
    return {"HACKOPS_ENV": "dev", "DATA_DIR": str(data_dir), "LOG_JSON": "false", **inherited_env()}


def postmaster_pid(pgdata: Path) -> int | None:
    """The running server's pid (None: no postmaster.pid, or nobody runs under that pid)."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if psutil.pid_exists(pid) else None


async def serve(data_dir: Path, port: int, log: Path) -> asyncio.subprocess.Process:
    """`hackops serve` as `make run` starts it (without the demo), on the embedded database."""
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "hackops", "serve", "--port", str(port), "--no-worker"),
            env={"PATH": os.environ.get("PATH", ""), **embedded_env(data_dir)},
            stdout=out,
            stderr=out,
        )
    async with httpx2.AsyncClient(timeout=5) as http:
        for _ in range(600):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    return process
            except httpx2.TransportError:
                pass
            if process.returncode is not None:
                break
            await asyncio.sleep(0.2)
    raise AssertionError(
        "serve did not start:\n" + (await asyncio.to_thread(log.read_text))[-3000:]
    )


async def ready(port: int) -> int:
    async with httpx2.AsyncClient(timeout=10) as http:
        return (await http.get(f"http://127.0.0.1:{port}/health/ready")).status_code


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 60)


async def test_db_commands_attach_to_the_running_cluster_and_leave_it_running(
    tmp_path: Path,
) -> None:
    data_dir, pgdata, port = tmp_path / "data", tmp_path / "data" / "pgdata", _free_port()
    server = await serve(data_dir, port, tmp_path / "serve.log")
    try:
        running = postmaster_pid(pgdata)
        assert running is not None
        for command in (("db", "current"), ("db", "upgrade")):
            result = await asyncio.to_thread(run_cli, *command, env=embedded_env(data_dir))
            assert result.returncode == 0, result.stderr
            assert postmaster_pid(pgdata) == running, f"`hackops {' '.join(command)}` stopped it"
        (head,) = migrate.head_revisions()
        current = await asyncio.to_thread(run_cli, "db", "current", env=embedded_env(data_dir))
        assert head in current.stdout
        assert await ready(port) == 200
    finally:
        await stop(server)
    assert postmaster_pid(pgdata) is None, "the process that started the cluster stops it"


async def test_a_crashed_cluster_starts_again_without_pg_ctl(tmp_path: Path) -> None:
    data_dir, pgdata, port = tmp_path / "data", tmp_path / "data" / "pgdata", _free_port()
    server = await serve(data_dir, port, tmp_path / "serve.log")
    try:
        pid = postmaster_pid(pgdata)
        assert pid is not None
        # The machine "crashes": the server and the app die at once, nothing is cleaned up.
        postmaster = psutil.Process(pid)
        doomed = [*postmaster.children(recursive=True), postmaster]
        for process in doomed:
            with contextlib.suppress(psutil.NoSuchProcess):  # a child may end on its own first
                process.kill()
        server.kill()
        await server.wait()
        psutil.wait_procs(doomed, timeout=10)
        assert (pgdata / "postmaster.pid").exists()
        # After a reboot the stale pid may belong to another process: here, this test's own.
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        lines[0] = str(os.getpid())
        (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")

        server = await serve(data_dir, port, tmp_path / "serve-again.log")
        assert await ready(port) == 200
        assert postmaster_pid(pgdata) not in (None, os.getpid())
    finally:
        await stop(server)
