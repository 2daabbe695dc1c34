"""Registrations per second and the app's CPU per registration, against the raw-driver yardstick.

    .venv/bin/python bench/registration_load.py [--duration 5] [--rounds 3]
        [--capacity N] [--compare NAME=SRC ...] [--profile DIR]

A lighter sibling of events_load.py's registration phase (issue 15): seeds one organization,
one published event (no capacity unless `--capacity`) and distinct users with sign-in tokens,
then, in rounds: the bare FastAPI + raw-driver one-row read (bench/bare_app.py), and
`POST …/registrations` by distinct signed-in users on 16 connections against HackOps (app role,
RLS on). Also reported: the server process's CPU seconds per registration (user + system,
from /proc, over the round: a figure a busy machine disturbs less than req/s).

`--compare NAME=SRC`: another HackOps server from another checkout's `src` (e.g. the code
before a change: `git archive <commit> src | tar -x -C /tmp/before`, then
`--compare before=/tmp/before/src`), run in the same rounds against the same database, so they
are compared in one run (repeatable). `--profile DIR`: each HackOps
server runs under cProfile and writes DIR/<name>.prof when it stops.
"""

from __future__ import annotations

import argparse
import asyncio
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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from itertools import count
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import loadgen  # noqa: E402
from common import admin_url, as_role, drop_database, free_port, fresh_database, server  # noqa: E402

DB_NAME = "hackops_bench_registration"
PATH = "/api/v1/organizations/bench/events/open/registrations"
TICKS = os.sysconf("SC_CLK_TCK")


def seed(url: str, users: int, capacity: int | None) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO organizations (id, slug, name) VALUES (gen_random_uuid(), 'bench', 'Bench')")  # fmt: skip  # noqa: E501
        conn.execute(
            "INSERT INTO events (id, org_id, slug, name, visibility, published_at, capacity)"
            " SELECT gen_random_uuid(), id, 'open', 'Open', 'public', now(), %s"
            " FROM organizations WHERE slug = 'bench'",
            (capacity,),
        )
        conn.execute(
            "INSERT INTO users (id, email, name, email_verified_at)"
            " SELECT gen_random_uuid(), 'r' || g || '@bench.example.com', 'User ' || g, now()"
            " FROM generate_series(1, %s) g",
            (users,),
        )
        conn.execute(
            """
            WITH numbered AS (SELECT id, row_number() OVER (ORDER BY email) AS n FROM users)
            INSERT INTO auth_tokens (id, user_id, kind, token_hash, expires_at)
            SELECT gen_random_uuid(), id, 'session',
                   encode(sha256(('bench-token-' || n)::bytea), 'hex'), now() + interval '1 day'
            FROM numbered
            """
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return sum(int(v) for v in fields[11:15]) / TICKS


@contextmanager
def hackops(
    name: str, env: dict[str, str], src: Path | None, profile: Path | None
) -> Iterator[tuple[int, int]]:
    """A HackOps server (port, pid), from this checkout or from `src`, optionally profiled."""
    port = free_port()
    run = [sys.executable]
    if profile is not None:
        run += ["-m", "cProfile", "-o", str(profile / f"{name}.prof")]
    run += ["-m", "uvicorn", "hackops.main:app_factory", "--factory", "--no-access-log",
            "--log-level", "warning", "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    extra = {"PYTHONPATH": str(src)} if src is not None else {}
    process = subprocess.Popen(
        run, env={**os.environ, **env, **extra}, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}")
            time.sleep(0.2)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--users", type=int, default=40_000)
    parser.add_argument("--capacity", type=int, default=None)
    parser.add_argument("--compare", action="append", default=[], metavar="NAME=SRC")
    parser.add_argument("--profile", type=Path, default=None)
    opts = parser.parse_args()
    if opts.profile is not None:
        opts.profile.mkdir(parents=True, exist_ok=True)

    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, DB_NAME)
        stack.callback(drop_database, admin, DB_NAME)
        seed(url, opts.users, opts.capacity)
        env = {
            "HACKOPS_ENV": "prod",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": as_role(url, "hackops_app"),
            "DATABASE_ADMIN_URL": url,
            "STORAGE_URL": f"file://{tempfile.mkdtemp(prefix='hackops-bench-files-')}",
            "LOG_LEVEL": "INFO",
        }
        servers = {"register": stack.enter_context(hackops("register", env, None, opts.profile))}
        for spec in opts.compare:
            name, _, src = spec.partition("=")
            servers[name] = stack.enter_context(
                hackops(name, env, Path(src).resolve(), opts.profile)
            )
        bare = stack.enter_context(
            server("bare", ["bare_app:app", "--app-dir", "bench", "--no-access-log",
                            "--log-level", "warning"], {"BENCH_DATABASE_URL": url}, free_port())
        )  # fmt: skip
        host = "127.0.0.1"
        tokens = count(1)

        def registration(port: int) -> Any:
            def make() -> bytes | None:
                n = next(tokens)
                if n > opts.users:
                    return None
                return loadgen.http_request(
                    "POST", PATH, host, port,
                    headers={"Authorization": f"Bearer bench-token-{n}",
                             "Content-Type": "application/json"},
                    body=b'{"answers": {}}',
                )  # fmt: skip

            return make

        runs: dict[str, list[loadgen.Result]] = {"baseline": [], **{k: [] for k in servers}}
        cpu: dict[str, list[float]] = {k: [] for k in servers}
        asyncio.run(loadgen.run(host, bare, "/organizations/bench", concurrency=16, duration=1))
        for port, _ in servers.values():  # warm up: connections, caches, prepared statements
            asyncio.run(loadgen.run_requests(host, port, registration(port), concurrency=4,
                                             duration=1))  # fmt: skip
        for round_no in range(opts.rounds):
            runs["baseline"].append(
                asyncio.run(loadgen.run(host, bare, "/organizations/bench",
                                        concurrency=opts.concurrency, duration=opts.duration))
            )  # fmt: skip
            order = list(servers.items())
            shift = round_no % len(order)  # the event's table grows: rotate who goes first
            order = order[shift:] + order[:shift]
            for name, (port, pid) in order:
                before = cpu_seconds(pid)
                result = asyncio.run(
                    loadgen.run_requests(host, port, registration(port),
                                         concurrency=opts.concurrency, duration=opts.duration)
                )  # fmt: skip
                runs[name].append(result)
                cpu[name].append((cpu_seconds(pid) - before) / max(result.requests, 1))

    results: dict[str, Any] = {}
    for name, rounds in runs.items():
        results[name] = {
            "rps": round(statistics.median(r.rps for r in rounds), 1),
            "p50_ms": round(statistics.median(r.p50 for r in rounds), 2),
            "p95_ms": round(statistics.median(r.percentile(95) for r in rounds), 2),
            "errors": sum(r.errors for r in rounds),
            "requests": sum(r.requests for r in rounds),
        }
        if name in cpu:
            results[name]["cpu_ms_per_request"] = round(statistics.median(cpu[name]) * 1000, 2)
            results[name]["vs_baseline"] = round(
                results[name]["rps"] / results["baseline"]["rps"], 3
            )
    print(json.dumps({"rounds": opts.rounds, "duration_s": opts.duration,
                      "capacity": opts.capacity, "results": results}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
