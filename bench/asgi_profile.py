"""CPU cost of one request through the ASGI stack, without a server, a socket or a database.

    .venv/bin/python bench/asgi_profile.py                  # µs of CPU per request, HackOps vs bare
    .venv/bin/python bench/asgi_profile.py --profile 25     # plus cProfile's top 25 (HackOps)
    .venv/bin/python bench/asgi_profile.py --path /api/v1/organizations/nothing-here

Drives the application object with a raw ASGI `receive`/`send` pair in a loop, as uvicorn would
(`hackops.main.create_app` with production settings and the JSON access log at INFO written to
/dev/null; `bench/bare_app.py`'s FastAPI for comparison). CPU time (`time.process_time`) does
not depend on what else the machine is running, so the figures can be compared across runs on a
busy machine where requests/s cannot; `bench/http_baseline.py` measures through real servers.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def scope_for(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", b"loadgen"),
            (b"accept", b"*/*"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def drive(app: Any, path: str, count: int) -> int:
    """Run `count` requests; the last status."""
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    for _ in range(count):
        await app(scope_for(path), receive, send)
    return status


def hackops_app() -> Any:
    os.environ.update(
        {
            "HACKOPS_ENV": "prod",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
            "BASE_URL": "https://hackops.example",
            "STORAGE_URL": f"file://{tempfile.mkdtemp(prefix='hackops-profile-')}",
            "LOG_LEVEL": "INFO",
            "LOG_JSON": "true",
        }
    )
    from hackops.config import get_settings
    from hackops.main import create_app
    from hackops.observability import configure_logging

    settings = get_settings()
    # The access log is written as in production (JSON lines on stderr), to nowhere.
    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115 - process-long
    try:
        configure_logging(settings.log_level, json=settings.log_json)
    finally:
        sys.stderr = stderr
    return create_app(settings)


def bare() -> Any:
    os.environ.setdefault("BENCH_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    import bare_app

    return bare_app.app


def cpu_per_request(app: Any, path: str, count: int) -> tuple[float, int]:
    asyncio.run(drive(app, path, 200))  # warm: lazy route contexts, caches
    started = time.process_time()
    status = asyncio.run(drive(app, path, count))
    return (time.process_time() - started) / count * 1e6, status


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--path", default="/health")
    parser.add_argument("--bare-path", default="/health")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N")
    opts = parser.parse_args()

    ours, theirs = hackops_app(), bare()
    rows: dict[str, list[float]] = {"hackops": [], "bare": []}
    statuses = {}
    for _ in range(opts.rounds):
        for name, app, path in (("hackops", ours, opts.path), ("bare", theirs, opts.bare_path)):
            micros, statuses[name] = cpu_per_request(app, path, opts.requests)
            rows[name].append(micros)
    best = {name: min(values) for name, values in rows.items()}
    print(f"{'app':<10}{'path':<40}{'status':>7}{'µs CPU/request (best of rounds)':>34}")
    for name, path in (("hackops", opts.path), ("bare", opts.bare_path)):
        print(f"{name:<10}{path:<40}{statuses[name]:>7}{best[name]:>34.1f}")
    ratio = best["bare"] / best["hackops"]
    print(f"CPU ratio bare/hackops (req/s before the server's own share): {ratio:.3f}")

    if opts.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(drive(ours, opts.path, opts.requests))
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(opts.profile)
        stats.sort_stats("cumulative").print_stats(opts.profile)
        print(out.getvalue())


if __name__ == "__main__":
    main()
