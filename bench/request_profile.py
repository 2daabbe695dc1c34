"""CPU per request of bench/perf.py's rows, in-process: the app alone through its ASGI interface
(no server, no socket, no load generator), on perf.py's seeded data, one request at a time.

    .venv/bin/python bench/request_profile.py                      # every row: µs CPU/request
    .venv/bin/python bench/request_profile.py --rows submit,me --profile 30
    CALLGRIND=1 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.out \
        .venv/bin/python bench/request_profile.py --rows register --requests 100
        # then: grep ^totals /tmp/cg.out  (instructions of the 100 measured requests)

CPU time (`time.process_time`) is this process's cost whatever else runs on the machine, but it
moves by up to ±30 % from run to run here (the same code: register 2,688 and 3,709 µs); under
callgrind the instruction count repeats within 0.5 %, so that is what compares changes (the
requests run ~50 times slower; 100 are enough). The database's own work
is not in it (it runs in PostgreSQL's processes); the wall time per request is printed beside.
`--profile N` prints cProfile's top N by own time and by cumulative time, per row. The requests
are perf.py's own (`perf.rows`, the same bytes its load generator sends), parsed into ASGI.
A `hackops_request_profile` database (REQUEST_PROFILE_DB: another name, for two runs at once)
is (re)created on BENCH_DATABASE_URL's server and dropped. REQUEST_PROFILE_ENV="NAME=value ..."
sets more settings of the app; REQUEST_PROFILE_LOG=path keeps its log (default /dev/null).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import perf  # noqa: E402
import perf_seed  # noqa: E402
from common import admin_url, drop_database, fresh_database, hackops_env  # noqa: E402

DB_NAME = os.environ.get("REQUEST_PROFILE_DB", "hackops_request_profile")
#: More settings of the app measured: REQUEST_PROFILE_ENV="NAME=value NAME=value".
EXTRA_ENV = dict(pair.split("=", 1) for pair in os.environ.get("REQUEST_PROFILE_ENV", "").split())
ROWS = ("health", "me", "register", "task_create", "evaluation", "submit", "gallery", "finder")


def asgi_request(raw: bytes) -> tuple[dict[str, Any], bytes]:
    """An HTTP/1.1 request's bytes (loadgen.http_request) as an ASGI scope and body."""
    head, _, body = raw.partition(b"\r\n\r\n")
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    path, _, query = target.partition("?")
    headers = []
    for line in lines:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower().encode("latin-1"), value.strip().encode("latin-1")))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode("latin-1"),
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    return scope, body


def callgrind(state: str) -> None:
    """Instrumentation on/off around the measured requests when run under
    `CALLGRIND=1 valgrind --tool=callgrind --instr-atstart=no`: instructions per request, the
    same run after run whatever else the machine does (CPU time moves by ±30 % here)."""
    if os.environ.get("CALLGRIND"):
        subprocess.run(
            ["callgrind_control", "-i", state, str(os.getpid())], check=True, capture_output=True
        )


async def drive(app: Any, row: perf.Row, count: int) -> dict[int, int]:
    """Send `count` of the row's requests one after the other; the statuses seen."""
    statuses: dict[int, int] = {}
    for _ in range(count):
        raw = row.source()
        if raw is None:
            break
        scope, body = asgi_request(raw)
        sent = False

        async def receive(body: bytes = body) -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)  # a disconnect never comes before the answer
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] = statuses.get(message["status"], 0) + 1

        await app(scope, receive, send)
    return statuses


async def measure(
    app: Any, rows: list[perf.Row], count: int, profile: int
) -> list[tuple[str, float, float, dict[int, int], str]]:
    out = []
    async with app.router.lifespan_context(app):
        for row in rows:
            await drive(app, row, min(200, count))  # warm: route contexts, pools, caches
            profiler = cProfile.Profile(time.process_time) if profile else None
            callgrind("on")
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            statuses = await drive(app, row, count)
            if profiler is not None:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            callgrind("off")
            done = sum(statuses.values()) or 1
            text = ""
            if profiler is not None:
                buffer = io.StringIO()
                stats = pstats.Stats(profiler, stream=buffer)
                stats.sort_stats("tottime").print_stats(profile)
                if os.environ.get("CALLERS"):
                    stats.print_callers(os.environ["CALLERS"])
                stats.sort_stats("cumulative").print_stats(profile)
                text = buffer.getvalue()
                if os.environ.get("DUMP"):
                    profiler.dump_stats(f"{os.environ['DUMP']}-{row.key}.prof")
            out.append((row.key, cpu * 1e6 / done, wall * 1e6 / done, statuses, text))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N per row")
    opts = parser.parse_args()
    wanted = opts.rows.split(",")

    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, DB_NAME)
        stack.callback(drop_database, admin, DB_NAME)
        seeded = perf_seed.seed(url, perf_seed.Scale())
        os.environ.update(
            hackops_env(url, RUN_WORKER_IN_PROCESS="false", LOG_JSON="true", **EXTRA_ENV)
        )
        from hackops.config import get_settings
        from hackops.main import create_app
        from hackops.observability import configure_logging

        settings = get_settings()
        configure_logging(settings.log_level, json=True)
        app = create_app(settings)
        options = SimpleNamespace(scale=perf_seed.Scale())
        rows = [r for r in perf.rows(8000, 8001, seeded, options) if r.key in wanted]  # type: ignore[arg-type]
        # the access log is rendered as in production and written to /dev/null: logs write to
        # the sys.stderr of the moment (observability.STDERR)
        log = os.environ.get("REQUEST_PROFILE_LOG", os.devnull)
        stderr, sys.stderr = sys.stderr, open(log, "w")  # noqa: SIM115 - process-long
        try:
            results = asyncio.run(measure(app, rows, opts.requests, opts.profile))
        finally:
            sys.stderr = stderr

    print(f"\n{'row':<14}{'µs CPU/request':>16}{'µs wall/request':>17}  statuses")
    for key, cpu, wall, statuses, _ in results:
        print(f"{key:<14}{cpu:>16.0f}{wall:>17.0f}  {statuses}")
    for key, _, _, _, text in results:
        if text:
            print(f"\n=== {key} ===\n{text}")


if __name__ == "__main__":
    main()
