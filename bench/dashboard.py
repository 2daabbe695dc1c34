"""The event dashboard at the size the issue names, rendered over HTTP.

    make bench-dashboard                      # = .venv/bin/python bench/dashboard.py
    .venv/bin/python bench/dashboard.py --requests 100

Seeds (in a database of its own, through the real triggers: `tests/analytics/seed.py`) an event
of 5,000 registrations, 1,200 teams, 900 projects (each with a version and its processing steps)
and 40 judges with 2,160 submitted evaluations, plus an organizer signed in by a session
cookie. Then, against HackOps (one uvicorn process, app role, RLS on, INFO logs as in
production), one connection, requests one after another:

- `GET …/admin/dashboard`: the page with every chart drawn (target: p95 < 300 ms);
- `GET /health`: the baseline, the same number of requests just before.

Besides wall times it reports the CPU time a dashboard request costs (the server process and the
database's backends, from psutil): on a shared machine the wall time includes waiting for a
core.

The first dashboard request also fits the judge-effect model (then kept per judging version);
it is reported apart ("first_ms"). Prints median, p95 and max of each, and writes them to
bench/results/dashboard-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import http.client
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from common import admin_url, as_role, drop_database, free_port, fresh_database, server  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from tests.analytics.seed import BENCH, seed_event  # noqa: E402

from hackops.config import to_sqlalchemy_url  # noqa: E402

DB_NAME = "hackops_bench_dashboard"
TOKEN = "bench-dashboard-" + secrets.token_hex(8)
ORG, EVENT = "bench", "spring-hack"


async def seed(url: str) -> dict[str, int]:
    """The organization, its event filled to BENCH, an organizer with a session token."""
    engine = create_async_engine(to_sqlalchemy_url(url))
    org_id, event_id, user_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("SELECT set_config('hackops.org_id', :org, true)"), {"org": str(org_id)}
            )
            await conn.execute(
                text("INSERT INTO organizations (id, slug, name) VALUES (:id, :slug, 'Bench')"),
                {"id": org_id, "slug": ORG},
            )
            await conn.execute(
                text(
                    "INSERT INTO events (id, org_id, slug, name, visibility, published_at,"
                    " timezone) VALUES (:id, :org, :slug, 'Spring Hack', 'public',"
                    " now() - interval '40 days', 'Europe/Berlin')"
                ),
                {"id": event_id, "org": org_id, "slug": EVENT},
            )
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, name, email_verified_at)"
                    " VALUES (:id, 'olive@bench.example.com', 'Olive Organizer', now())"
                ),
                {"id": user_id},
            )
            await conn.execute(
                text(
                    "INSERT INTO org_memberships (id, org_id, user_id, role)"
                    " VALUES (gen_random_uuid(), :org, :user, 'organizer')"
                ),
                {"org": org_id, "user": user_id},
            )
            await conn.execute(
                text(
                    "INSERT INTO auth_tokens (id, user_id, kind, token_hash, expires_at,"
                    " last_used_at) VALUES (gen_random_uuid(), :user, 'session', :hash,"
                    " now() + interval '1 day', now() + interval '1 day')"
                ),
                {"user": user_id, "hash": hashlib.sha256(TOKEN.encode()).hexdigest()},
            )
            await seed_event(conn, org_id, event_id, BENCH)
            counts = (
                await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM registrations WHERE event_id = :e),"
                        " (SELECT count(*) FROM teams WHERE event_id = :e),"
                        " (SELECT count(*) FROM submissions WHERE event_id = :e),"
                        " (SELECT count(*) FROM event_roles WHERE event_id = :e),"
                        " (SELECT count(*) FROM evaluations WHERE event_id = :e)"
                    ),
                    {"e": event_id},
                )
            ).one()
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()
    names = ("registrations", "teams", "submissions", "judges", "evaluations")
    return dict(zip(names, (int(c) for c in counts), strict=True))


def timed_get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status} {body[:300]!r}")
    return elapsed


def cpu_seconds(port: int) -> tuple[float, float]:
    """CPU time used so far by the server process on `port` and by the PostgreSQL backends of
    the bench database: on a shared machine the wall time of a request includes waiting for a
    core, its CPU time does not."""
    app = 0.0
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == "LISTEN" and conn.pid:
            times = psutil.Process(conn.pid).cpu_times()
            app = times.user + times.system
    database = 0.0
    for process in psutil.process_iter(["name", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            if DB_NAME in " ".join(process.info["cmdline"] or []):
                times = process.cpu_times()
                database += times.user + times.system
    return app, database


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(max(values), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=60, help="timed requests of each")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    opts = parser.parse_args()
    path = f"/orgs/{ORG}/events/{EVENT}/admin/dashboard"

    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, DB_NAME)
        if not opts.keep:
            stack.callback(drop_database, admin, DB_NAME)
        started = time.perf_counter()
        sizes = asyncio.run(seed(url))
        seeded_s = time.perf_counter() - started
        env = {
            "HACKOPS_ENV": "prod",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "BASE_URL": "http://127.0.0.1",
            "DATABASE_URL": as_role(url, "hackops_app"),
            "DATABASE_ADMIN_URL": url,
            "STORAGE_URL": f"file://{tempfile.mkdtemp(prefix='hackops-bench-files-')}",
            "LOG_LEVEL": "INFO",
        }
        port = stack.enter_context(
            server("hackops", ["hackops.main:app_factory", "--factory", "--no-access-log",
                               "--log-level", "warning"], env, free_port(), start_timeout=300)
        )  # fmt: skip
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        cookie = {"Cookie": f"hackops_session={TOKEN}"}
        first = timed_get(conn, path, cookie)
        for _ in range(5):  # warm-up
            timed_get(conn, path, cookie)
            timed_get(conn, "/health", {})
        health = [timed_get(conn, "/health", {}) for _ in range(opts.requests)]
        app_before, db_before = cpu_seconds(port)
        page = [timed_get(conn, path, cookie) for _ in range(opts.requests)]
        app_after, db_after = cpu_seconds(port)
        conn.close()
        load = os.getloadavg()

    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "event": sizes,
        "seeded_in_s": round(seeded_s, 1),
        "first_ms": round(first, 1),
        "dashboard": summary(page),
        "dashboard_cpu_ms_per_request": {
            "app": round((app_after - app_before) * 1000 / opts.requests, 1),
            "database": round((db_after - db_before) * 1000 / opts.requests, 1),
        },
        "health": summary(health),
        "load_average_1_5_15": [round(x, 1) for x in load],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"dashboard-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json").write_text(
        json.dumps(report, indent=2)
    )


if __name__ == "__main__":
    main()
