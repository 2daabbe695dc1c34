"""CPU per request of a cache hit against `/health`, in-process (no network, no load generator):
the whole ASGI stack of `create_app`, N sequential requests per path after a warm-up, CPU time
(`time.process_time`) per request, then cProfile's top functions of the hit path.

    .venv/bin/python bench/public_pages_profile.py --requests 3000

Uses the seeded database of `bench/public_pages.py` (made and dropped here).
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
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import admin_url, drop_database  # noqa: E402
from public_pages import DB_NAME, PATHS, prepare_database  # noqa: E402


async def call(app: Any, path: str) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"user-agent", b"bench")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def run(url: str, requests: int) -> None:
    os.environ.update(
        HACKOPS_ENV="prod",
        SECRET_KEY=secrets.token_urlsafe(48),
        BASE_URL="http://127.0.0.1",
        DATABASE_URL=url,
        STORAGE_URL=f"file://{tempfile.mkdtemp(prefix='hackops-bench-files-')}",
        LOG_LEVEL="WARNING",
    )
    from hackops.main import app_factory

    app = app_factory()
    async with app.router.lifespan_context(app):
        await asyncio.sleep(1.5)  # the versions' first poll
        print(f"{'path':<14}{'status':>7}{'CPU µs/request':>16}")
        for case, path in PATHS.items():
            for _ in range(50):
                await call(app, path)
            started = time.process_time()
            for _ in range(requests):
                status = await call(app, path)
            cpu = (time.process_time() - started) / requests * 1e6
            print(f"{case:<14}{status:>7}{cpu:>16.0f}")
        for case in ("event_page", "health"):
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(requests):
                await call(app, PATHS[case])
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(12)
            print(f"\n--- {case}: top functions by own time ({requests} requests)")
            print("\n".join(out.getvalue().splitlines()[:32]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    opts = parser.parse_args()
    with ExitStack() as stack:
        admin = admin_url(stack)
        url = prepare_database(admin)
        stack.callback(drop_database, admin, DB_NAME)
        asyncio.run(run(url, opts.requests))


if __name__ == "__main__":
    main()
