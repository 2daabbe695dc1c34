"""Public pages from the versioned cache (issue 15): req/s of the public pages against our own
`/health`, same run, with the cache on and off.

    .venv/bin/python bench/public_pages.py --rounds 3 --duration 5

Two HackOps servers on one seeded database (one web process each): PUBLIC_CACHE on and off.
Rounds alternate the servers and the paths; medians. Paths, anonymous GETs (16 connections):
`/health`, the public event page (HTML), the published results (JSON), the public events list
(JSON), the landing page, an organization's public page. The ratio column is each path's req/s
over the same server's `/health` req/s (the issue's target: ≥ 0.8 with the cache on).

Seed: 200 published public events over 20 organizations (tracks, awards, a schedule), one of
them with published results (20 ranked projects).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
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
from common import admin_url, drop_database, free_port, fresh_database, server  # noqa: E402

DB_NAME = "hackops_bench_public"
ORGS = 20
EVENTS_PER_ORG = 10


def prepare_database(admin: str) -> str:
    url = fresh_database(admin, DB_NAME)
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")  # seeding: no triggers
        conn.execute(
            "INSERT INTO organizations (id, slug, name)"
            " SELECT gen_random_uuid(), 'org-' || g, 'Organization ' || g"
            " FROM generate_series(1, %s) g",
            (ORGS,),
        )
        conn.execute(
            """
            INSERT INTO events (id, org_id, slug, name, tagline, description, description_html,
                                visibility, published_at, registration_opens_at,
                                registration_closes_at, starts_at, submissions_close_at,
                                capacity)
            SELECT gen_random_uuid(), o.id, 'event-' || g, 'Event ' || g || ' of ' || o.name,
                   'A weekend of building', 'About it', '<p>About it</p>', 'public',
                   now() - interval '10 days', now() - interval '5 days',
                   now() + interval '20 days', now() + interval '25 days',
                   now() + interval '27 days', 500
              FROM organizations o, generate_series(1, %s) g
            """,
            (EVENTS_PER_ORG,),
        )
        event = conn.execute(
            "SELECT e.id, e.org_id FROM events e JOIN organizations o ON o.id = e.org_id"
            " WHERE o.slug = 'org-1' AND e.slug = 'event-1'"
        ).fetchone()
        assert event is not None
        event_id, org_id = event
        for n in range(3):
            conn.execute(
                "INSERT INTO event_tracks (id, org_id, event_id, name, description)"
                " VALUES (gen_random_uuid(), %s, %s, %s, 'A track')",
                (org_id, event_id, f"Track {n}"),
            )
            conn.execute(
                "INSERT INTO schedule_items (id, org_id, event_id, title, starts_at)"
                " VALUES (gen_random_uuid(), %s, %s, %s, now() + %s * interval '1 day')",
                (org_id, event_id, f"Talk {n}", 25 + n),
            )
        ranking = [
            {
                "rank": i + 1,
                "submission_id": str(secrets.token_hex(4)),
                "title": f"Project {i}",
                "team_name": f"Team {i}",
                "score": 90.0 - i,
                "raw_mean": 80.0 - i,
                "evaluations": 3,
            }
            for i in range(20)
        ]
        conn.execute(
            "INSERT INTO event_results (event_id, org_id, method, ranking, winners)"
            " VALUES (%s, %s, 'judge_effect', %s, '[]')",
            (event_id, org_id, json.dumps(ranking)),
        )
        conn.execute(
            "UPDATE events SET results_published_at = now() - interval '1 day' WHERE id = %s",
            (event_id,),
        )
        conn.execute("ANALYZE")
    return url


PATHS = {
    "health": "/health",
    "event_page": "/orgs/org-1/events/event-1",
    "results_json": "/api/v1/organizations/org-1/events/event-1/results",
    "events_list": "/api/v1/events",
    "landing": "/",
    "org_public": "/orgs/org-1/public",
}


def summarize(results: list[loadgen.Result]) -> dict[str, float]:
    return {
        "rps": round(statistics.median(r.rps for r in results), 1),
        "p50_ms": round(statistics.median(r.p50 for r in results), 2),
        "p99_ms": round(statistics.median(r.p99 for r in results), 2),
        "errors": sum(r.errors for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=1.0)
    opts = parser.parse_args()

    with ExitStack() as stack:
        admin = admin_url(stack)
        url = prepare_database(admin)
        stack.callback(drop_database, admin, DB_NAME)
        env = {
            "HACKOPS_ENV": "prod",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "BASE_URL": "http://127.0.0.1",
            "DATABASE_URL": url,
            "STORAGE_URL": f"file://{tempfile.mkdtemp(prefix='hackops-bench-files-')}",
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
            "LOG_JSON": "true",
        }
        args = [
            "hackops.main:app_factory",
            "--factory",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        ports = {
            side: stack.enter_context(
                server(side, args, {**env, "PUBLIC_CACHE": flag}, free_port(), 240)
            )
            for side, flag in (("cache_on", "true"), ("cache_off", "false"))
        }
        runs: dict[str, dict[str, list[loadgen.Result]]] = {
            side: {case: [] for case in PATHS} for side in ports
        }
        for port in ports.values():
            for path in PATHS.values():
                asyncio.run(
                    loadgen.run("127.0.0.1", port, path, concurrency=4, duration=opts.warmup)
                )
        for _ in range(opts.rounds):
            for case, path in PATHS.items():
                for side, port in ports.items():
                    runs[side][case].append(
                        asyncio.run(
                            loadgen.run(
                                "127.0.0.1",
                                port,
                                path,
                                concurrency=opts.concurrency,
                                duration=opts.duration,
                            )
                        )
                    )
        report: dict[str, Any] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "rounds": opts.rounds,
            "duration_s": opts.duration,
            "concurrency": opts.concurrency,
            "cpus": os.cpu_count(),
            "servers": {},
        }
        for side, cases in runs.items():
            summary = {case: summarize(results) for case, results in cases.items()}
            health = summary["health"]["rps"] or 1.0
            for values in summary.values():
                values["vs_health"] = round(values["rps"] / health, 3)
            report["servers"][side] = summary

    print_report(report)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    saved = out / f"public_pages-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    saved.write_text(json.dumps(report, indent=2))
    print(f"\nsaved {saved.relative_to(ROOT)}")


def print_report(report: dict[str, Any]) -> None:
    print(
        f"\nPublic pages — {report['rounds']} rounds x {report['duration_s']} s,"
        f" {report['concurrency']} connections, {report['cpus']} CPUs, medians\n"
    )
    header = (
        f"{'path':<14}{'server':<11}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'/health':>9}"
    )
    print(header)
    print("-" * len(header))
    for case in PATHS:
        for side, summary in report["servers"].items():
            s = summary[case]
            print(
                f"{case:<14}{side:<11}{s['rps']:>9.1f}{s['p50_ms']:>9.2f}{s['p99_ms']:>9.2f}"
                f"{s['errors']:>8}{s['vs_health']:>9.3f}"
            )


if __name__ == "__main__":
    main()
