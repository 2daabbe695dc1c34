"""Memory of one web process: RSS of `hackops serve --workers 1` (production settings) after
start-up and warm-up, idle, and again after a load run over a few paths.

    .venv/bin/python bench/process_memory.py                 # 20 s of load, 16 connections
    .venv/bin/python bench/process_memory.py --duration 60

`--workers 1` serves in the uvicorn process itself, so the process started is the one measured
(VmRSS and VmHWM from /proc/<pid>/status; Linux only). `serve` in production starts one such
process per usable core: multiply by the count it prints. Database as bench/http_baseline.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import loadgen  # noqa: E402
from common import admin_url, drop_database, free_port, hackops_env  # noqa: E402
from http_baseline import DB_NAME, prepare_database  # noqa: E402

SERVE = (sys.executable, "-m", "hackops", "serve", "--workers", "1", "--no-migrate")
PATHS = ("/health", "/api/v1/organizations/demo", "/api/v1/events", "/", "/orgs/demo/public")


def memory_mib(pid: int) -> dict[str, float]:
    """Resident set now (VmRSS) and at its highest (VmHWM), in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            fields[name] = int(value.split()[0]) / 1024
    return fields


def wait_listening(process: subprocess.Popen[bytes], port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        if process.poll() is not None:
            raise RuntimeError(f"hackops serve exited with {process.returncode}")
        time.sleep(0.2)
    raise RuntimeError("hackops serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--concurrency", type=int, default=16)
    opts = parser.parse_args()

    with ExitStack() as stack:
        admin = admin_url(stack)
        url = prepare_database(admin)
        stack.callback(drop_database, admin, DB_NAME)
        port = free_port()
        env = {
            **os.environ,
            **hackops_env(url),
            "BASE_URL": f"http://127.0.0.1:{port}",
            "LOG_JSON": "true",
        }
        process = subprocess.Popen(
            [*SERVE, "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        stack.callback(process.wait, 15)
        stack.callback(process.terminate)
        wait_listening(process, port)
        for path in PATHS:  # warm-up: imports, pools, templates, caches
            asyncio.run(loadgen.run("127.0.0.1", port, path, concurrency=4, duration=1.0))
        time.sleep(2)
        idle = memory_mib(process.pid)
        served = errors = 0
        for path in PATHS:
            result = asyncio.run(
                loadgen.run(
                    "127.0.0.1",
                    port,
                    path,
                    concurrency=opts.concurrency,
                    duration=opts.duration / len(PATHS),
                )
            )
            served += result.requests
            errors += result.errors
        time.sleep(2)
        loaded = memory_mib(process.pid)

    print(f"one web process (hackops serve --workers 1, HACKOPS_ENV=prod), pid {process.pid}")
    print(f"  after warm-up, idle:      RSS {idle['VmRSS']:.0f} MiB")
    print(
        f"  after {served} requests ({errors} errors):  RSS {loaded['VmRSS']:.0f} MiB,"
        f" peak {loaded['VmHWM']:.0f} MiB ({', '.join(PATHS)};"
        f" {opts.concurrency} connections, {opts.duration:.0f} s)"
    )


if __name__ == "__main__":
    main()
