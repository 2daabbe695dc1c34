"""CPU per request of the authenticated one-row read `GET /api/v1/me`, in-process (no HTTP server,
no load generator: the app alone, through its ASGI interface), with the request gate on and off.

    .venv/bin/python bench/me_profile.py [--requests 2000] [--profile]

CPU time (`time.process_time`) is what a request costs this process whatever else runs on the
machine, so it compares better than requests/s on a busy machine; `--profile` prints cProfile's
top functions by their own time for each variant. A `hackops_me_profile` database is (re)created
on BENCH_DATABASE_URL's server (as bench/perf.py) and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import pstats
import secrets
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402
from common import admin_url, drop_database, fresh_database  # noqa: E402

from hackops.config import Settings  # noqa: E402
from hackops.main import create_app  # noqa: E402
from hackops.observability import configure_logging  # noqa: E402

DB_NAME = "hackops_me_profile"
#: The bench person's API token (read and write).
TOKEN = "hko_bench-" + secrets.token_urlsafe(24)


def prepare_database(admin: str, name: str) -> str:
    """A migrated database with one person and their API token."""
    url = fresh_database(admin, name)
    with psycopg.connect(url) as conn:
        user = conn.execute(
            "INSERT INTO users (id, email, name) VALUES (gen_random_uuid(), 'bench@example.com',"
            " 'Bench') RETURNING id"
        ).fetchone()
        assert user is not None
        conn.execute(
            "INSERT INTO auth_tokens (id, user_id, kind, token_hash, scopes, expires_at)"
            " VALUES (gen_random_uuid(), %s, 'api', %s, '{read,write}', now() + interval '1 day')",
            (user[0], hashlib.sha256(TOKEN.encode()).hexdigest()),
        )
    return url


async def run(url: str, gate: bool, requests: int, profile: bool) -> tuple[float, float, str]:
    """(CPU ms per request, wall ms per request, the profile's text)."""
    settings = Settings(
        hackops_env="prod",
        secret_key=secrets.token_urlsafe(48),
        database_url=url,
        storage_url=f"file://{tempfile.mkdtemp(prefix='hackops-me-')}",
        base_url="http://127.0.0.1:8000",
        log_level="INFO",
        log_json=True,
        request_gate=gate,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    text = ""
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            for _ in range(200):  # warm: imports, pools, caches
                assert (await http.get("/api/v1/me", headers=headers)).status_code == 200
            profiler = cProfile.Profile() if profile else None
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            for _ in range(requests):
                response = await http.get("/api/v1/me", headers=headers)
                assert response.status_code == 200, response.text
            if profiler is not None:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if profiler is not None:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(40)
                text = out.getvalue()
    return cpu * 1000 / requests, wall * 1000 / requests, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    opts = parser.parse_args()
    configure_logging("WARNING", json=True)
    with ExitStack() as stack:
        admin = admin_url(stack)
        url = prepare_database(admin, DB_NAME)
        stack.callback(drop_database, admin, DB_NAME)
        results: dict[str, list[tuple[float, float]]] = {"gate": [], "no_gate": []}
        for _ in range(opts.rounds):
            for name, gate in (("no_gate", False), ("gate", True)):
                cpu, wall, text = asyncio.run(run(url, gate, opts.requests, opts.profile))
                results[name].append((cpu, wall))
                if text:
                    print(f"\n=== {name} ===\n{text}")
                    opts.profile = False if name == "gate" else opts.profile
    print(f"\nGET /api/v1/me in-process, {opts.requests} requests x {opts.rounds} rounds, medians")
    for name, runs in results.items():
        cpu = sorted(r[0] for r in runs)[len(runs) // 2]
        wall = sorted(r[1] for r in runs)[len(runs) // 2]
        print(f"{name:<8} CPU {cpu:6.3f} ms/request   wall {wall:6.3f} ms/request")


if __name__ == "__main__":
    main()
