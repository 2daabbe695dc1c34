"""HTTP baseline: HackOps against a bare FastAPI + raw-driver app, same query, same run.

    make bench            # or: .venv/bin/python bench/http_baseline.py --rounds 5 --duration 8

Measures requests/s, p50 and p99 of `/health` and of one read endpoint that does a single indexed
query (`GET /api/v1/organizations/{slug}`), for HackOps (full middleware, ORM, transaction edge,
structured access log at INFO, as in production) and for `bench/bare_app.py` (raw psycopg pool,
no middleware, no logging). Rounds alternate between the two servers; medians are reported, and
the ratio HackOps / bare is the yardstick later issues compare against.

Database: BENCH_DATABASE_URL, else DATABASE_URL's server, else PostgreSQL on 127.0.0.1:5432, else
an embedded cluster. A `hackops_bench` database is (re)created there and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import loadgen  # noqa: E402
from common import (  # noqa: E402
    BARE_ARGS,
    HACKOPS_ARGS,
    admin_url,
    drop_database,
    free_port,
    fresh_database,
    save_report,
    server,
    summarize,
)

DB_NAME = "hackops_bench"
ORG_COUNT = 5000


def prepare_database(admin: str) -> str:
    url = fresh_database(admin, DB_NAME)
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO organizations (id, slug, name)"
            " SELECT gen_random_uuid(), 'org-' || g, 'Organization ' || g"
            " FROM generate_series(1, %s) g",
            (ORG_COUNT,),
        )
        conn.execute(
            "INSERT INTO organizations (id, slug, name) VALUES (gen_random_uuid(), 'demo', 'Demo')"
        )
        conn.execute("ANALYZE organizations")
    return url


async def measure(port: int, path: str, concurrency: int, duration: float) -> loadgen.Result:
    return await loadgen.run("127.0.0.1", port, path, concurrency=concurrency, duration=duration)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=2.0)
    opts = parser.parse_args()

    with ExitStack() as stack:
        admin = admin_url(stack)
        url = prepare_database(admin)
        stack.callback(drop_database, admin, DB_NAME)
        hackops_env = {
            "HACKOPS_ENV": "prod",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": url,
            "STORAGE_URL": f"file://{tempfile.mkdtemp(prefix='hackops-bench-files-')}",
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
            "LOG_JSON": "true",
        }
        ours = stack.enter_context(server("hackops", HACKOPS_ARGS, hackops_env, free_port()))
        bare = stack.enter_context(
            server("bare", BARE_ARGS, {"BENCH_DATABASE_URL": url}, free_port())
        )
        cases = {
            "health": {"hackops": (ours, "/health"), "bare": (bare, "/health")},
            "read_one_row": {
                "hackops": (ours, "/api/v1/organizations/demo"),
                "bare": (bare, "/organizations/demo"),
            },
        }
        report: dict[str, Any] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "rounds": opts.rounds,
            "duration_s": opts.duration,
            "concurrency": opts.concurrency,
            "cpus": os.cpu_count(),
            "cases": {},
        }
        for case, sides in cases.items():
            for port, path in sides.values():  # warm both: imports, pools, caches
                asyncio.run(measure(port, path, opts.concurrency, opts.warmup))
            runs: dict[str, list[loadgen.Result]] = {"hackops": [], "bare": []}
            for _ in range(opts.rounds):
                for side, (port, path) in sides.items():
                    runs[side].append(
                        asyncio.run(measure(port, path, opts.concurrency, opts.duration))
                    )
            summary: dict[str, Any] = {side: summarize(r) for side, r in runs.items()}
            summary["ratio_rps"] = round(summary["hackops"]["rps"] / summary["bare"]["rps"], 3)
            report["cases"][case] = summary

    print_report(report)
    saved = save_report("http_baseline", report)
    print(f"\nsaved {saved.relative_to(ROOT)}")


def print_report(report: dict[str, Any]) -> None:
    print(
        f"\nHTTP baseline — {report['rounds']} rounds x {report['duration_s']} s,"
        f" {report['concurrency']} connections, {report['cpus']} CPUs, medians\n"
    )
    header = f"{'case':<14}{'server':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}"
    print(header)
    print("-" * len(header))
    for case, summary in report["cases"].items():
        for side in ("hackops", "bare"):
            s = summary[side]
            print(
                f"{case:<14}{side:<10}{s['rps']:>10.1f}{s['p50_ms']:>10.2f}{s['p99_ms']:>10.2f}"
                f"{s['errors']:>8}"
            )
        print(f"{'':<14}{'ratio':<10}{summary['ratio_rps']:>10.3f}  (HackOps / bare, req/s)")


if __name__ == "__main__":
    main()
