"""Two everyday writes through the real API, closed loop, against the bare app's one-row read.

    .venv/bin/python bench/writes.py [--rounds 3] [--duration 5] [--concurrency 16]
                                     [--profile 300] [--only task|evaluation]

- **team task create**: `POST …/teams/{id}/tasks` by a member, cycling over `TEAMS` boards of
  two (half of the tasks assigned to the other member, so the assignee check runs too);
- **evaluation upsert**: `PUT …/judging/submissions/{id}/evaluation` by a judge, cycling over
  every (judge, project) pair handed out (`JUDGES` judges, `PROJECTS` projects, each to
  `PER_PROJECT` judges), all criteria scored, alternately drafts and submissions — the first
  lap inserts, the next ones update; every write goes through the triggers (conflict check,
  history, judging version, change log, the freeze).

The yardstick is `bench/bare_app.py`'s raw-driver one-row read, measured in the same run
(rounds alternate); ratios are medians. `--profile N` also runs N calls of each write in this
process (ASGI, no network) under cProfile and reports the CPU per call and the top functions.
On a shared machine the absolute figures move from run to run; read the ratios.

Reusable pieces for a harness: `seed`, `task_requests`, `evaluation_requests`, `closed_loops`,
`profile_calls` and `run` (everything, as a dict).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import itertools
import json
import logging
import os
import pstats
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import loadgen  # noqa: E402
from common import admin_url, as_role, drop_database, free_port, fresh_database, server  # noqa: E402

DB_NAME = "hackops_bench_writes"
TEAMS = 500
JUDGES = 40
PROJECTS = 400
PER_PROJECT = 3
CRITERIA = 3
MAX_SCORE = 10
EVENTS = "/api/v1/organizations/bench/events"


@dataclass(frozen=True)
class Seeded:
    """What the requests need: (team id, member token, other member id) per board; (judge token,
    submission id) per handed-out pair; the criteria ids."""

    boards: list[tuple[str, str, str]]
    pairs: list[tuple[str, str]]
    criteria: list[str]


def seed(url: str) -> Seeded:
    """Bulk rows in SQL (triggers off while loading, as the other benches do)."""
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "INSERT INTO organizations (id, slug, name)"
            " VALUES (gen_random_uuid(), 'bench', 'Bench')"
        )
        conn.execute(
            """
            INSERT INTO events (id, org_id, slug, name, visibility, published_at, starts_at,
                                submissions_close_at, judging_closes_at, team_max)
            SELECT gen_random_uuid(), o.id, e.slug, initcap(e.slug), 'public',
                   now() - interval '3 days', now() - interval '2 days', e.closes, e.judging, 5
            FROM organizations o, (VALUES
              ('tasks', now() + interval '1 day', NULL::timestamptz),
              ('judging', now() - interval '1 hour', now() + interval '1 day')
            ) AS e(slug, closes, judging)
            """
        )
        # People: 1..2*TEAMS the task teams (2k-1 captain, 2k member); then the judges; then
        # one captain per judged project.
        judges0, captains0 = 2 * TEAMS, 2 * TEAMS + JUDGES
        conn.execute(
            "CREATE TEMP TABLE people AS SELECT g AS n, gen_random_uuid() AS id,"
            " CASE WHEN g <= %s THEN 'tasks' ELSE 'judging' END AS event"
            " FROM generate_series(1, %s) g",
            (judges0, captains0 + PROJECTS),
        )
        conn.execute(
            "INSERT INTO users (id, email, name, email_verified_at)"
            " SELECT id, 'w' || n || '@bench.example.com', 'User ' || n, now() FROM people"
        )
        conn.execute(
            "INSERT INTO auth_tokens (id, user_id, kind, token_hash, expires_at)"
            " SELECT gen_random_uuid(), id, 'session',"
            " encode(sha256(('bench-token-' || n)::bytea), 'hex'), now() + interval '1 day'"
            " FROM people WHERE n <= %s",
            (captains0,),
        )
        conn.execute(
            "INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code)"
            " SELECT gen_random_uuid(), e.org_id, e.id, p.id, 'registered',"
            " upper(substr(md5(p.id::text), 1, 12))"
            " FROM people p JOIN events e ON e.slug = p.event WHERE p.n <= %s OR p.n > %s",
            (judges0, captains0),
        )
        conn.execute(
            """
            CREATE TEMP TABLE squads AS
            SELECT gen_random_uuid() AS id, k, 'tasks' AS event, 2 * k - 1 AS captain,
                   2 * k AS second FROM generate_series(1, %(t)s) k
            UNION ALL
            SELECT gen_random_uuid(), k, 'judging', %(c0)s + k, NULL
              FROM generate_series(1, %(p)s) k
            """,
            {"t": TEAMS, "c0": captains0, "p": PROJECTS},
        )
        conn.execute(
            """
            INSERT INTO teams (id, org_id, event_id, name, captain_id, join_code, member_count,
                               max_members)
            SELECT s.id, e.org_id, e.id, 'Team ' || s.event || ' ' || s.k, c.id,
                   upper(substr(md5(s.id::text), 1, 12)),
                   CASE WHEN s.second IS NULL THEN 1 ELSE 2 END, 5
            FROM squads s JOIN events e ON e.slug = s.event JOIN people c ON c.n = s.captain
            """
        )
        conn.execute(
            """
            INSERT INTO team_members (id, org_id, event_id, team_id, user_id, role)
            SELECT gen_random_uuid(), e.org_id, e.id, s.id, p.id,
                   CASE WHEN p.n = s.captain THEN 'captain' ELSE 'member' END
            FROM squads s JOIN events e ON e.slug = s.event
            JOIN people p ON p.n IN (s.captain, s.second)
            """
        )
        conn.execute(
            """
            WITH s AS (
              INSERT INTO submissions (id, org_id, event_id, team_id, status, title, tagline,
                                       description, version_count, submitted_at)
              SELECT gen_random_uuid(), e.org_id, e.id, q.id, 'submitted', 'Project ' || q.k,
                     'An entry', 'What we built.', 1, now() - interval '2 hours'
              FROM squads q JOIN events e ON e.slug = q.event WHERE q.event = 'judging'
              RETURNING id, org_id, event_id, title
            ), v AS (
              INSERT INTO submission_versions (id, org_id, event_id, submission_id, number,
                                               snapshot, submitted_at)
              SELECT gen_random_uuid(), org_id, event_id, id, 1,
                     jsonb_build_object('title', title), now() - interval '2 hours' FROM s
              RETURNING id, submission_id
            )
            UPDATE submissions x SET latest_version_id = v.id FROM v WHERE v.submission_id = x.id
            """
        )
        conn.execute(
            "INSERT INTO event_roles (id, org_id, event_id, user_id, role)"
            " SELECT gen_random_uuid(), e.org_id, e.id, p.id, 'judge'"
            " FROM people p JOIN events e ON e.slug = 'judging' WHERE p.n > %s AND p.n <= %s",
            (judges0, captains0),
        )
        conn.execute(
            "INSERT INTO judging_criteria (id, org_id, event_id, name, weight, max_score, position)"
            " SELECT gen_random_uuid(), e.org_id, e.id, 'Criterion ' || g, g, %s, g"
            " FROM events e, generate_series(1, %s) g WHERE e.slug = 'judging'",
            (MAX_SCORE, CRITERIA),
        )
        # Project k goes to judges k, k+1, ... (mod JUDGES): PER_PROJECT each, evenly spread.
        conn.execute(
            """
            INSERT INTO judge_assignments (id, org_id, event_id, judge_id, submission_id, state)
            SELECT gen_random_uuid(), s.org_id, s.event_id, j.id, s.id, 'assigned'
            FROM squads q JOIN submissions s ON s.team_id = q.id
            CROSS JOIN generate_series(0, %(n)s - 1) i
            JOIN people j ON j.n = %(j0)s + 1 + (q.k + i) %% %(judges)s
            WHERE q.event = 'judging'
            """,
            {"n": PER_PROJECT, "j0": judges0, "judges": JUDGES},
        )
        boards = [
            (str(team), f"bench-token-{2 * k - 1}", str(other))
            for team, k, other in conn.execute(
                "SELECT q.id, q.k, p.id FROM squads q JOIN people p ON p.n = q.second"
                " WHERE q.event = 'tasks' ORDER BY q.k"
            )
        ]
        pairs = [
            (f"bench-token-{n}", str(submission))
            for n, submission in conn.execute(
                "SELECT p.n, a.submission_id FROM judge_assignments a"
                " JOIN people p ON p.id = a.judge_id ORDER BY a.submission_id, p.n"
            )
        ]
        criteria = [
            str(c) for (c,) in conn.execute("SELECT id FROM judging_criteria ORDER BY position")
        ]
        conn.execute("SET session_replication_role = origin")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return Seeded(boards=boards, pairs=pairs, criteria=criteria)


# --- the requests -----------------------------------------------------------------------------


def _json_request(method: str, path: str, host: str, port: int, token: str, body: Any) -> bytes:
    return loadgen.http_request(
        method,
        path,
        host,
        port,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        body=json.dumps(body).encode(),
    )


def task_bodies(seeded: Seeded) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, token, body) of task creates, board after board, endlessly."""
    for n in itertools.count():
        team, token, other = seeded.boards[n % len(seeded.boards)]
        body: dict[str, Any] = {"title": f"Task {n}", "priority": ("low", "medium", "high")[n % 3]}
        if n % 2:
            body["assignee_id"] = other
        yield f"{EVENTS}/tasks/teams/{team}/tasks", token, body


def evaluation_bodies(seeded: Seeded) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, token, body) of evaluation upserts, pair after pair, endlessly."""
    for n in itertools.count():
        token, submission = seeded.pairs[n % len(seeded.pairs)]
        scores = {c: (n + i) % (MAX_SCORE + 1) for i, c in enumerate(seeded.criteria)}
        body = {"scores": scores, "private_comment": f"pass {n}", "submit": n % 2 == 1}
        path = f"{EVENTS}/judging/judging/submissions/{submission}/evaluation"
        yield path, token, body


def task_requests(seeded: Seeded, host: str, port: int) -> Callable[[], bytes]:
    source = task_bodies(seeded)

    def make() -> bytes:
        path, token, body = next(source)
        return _json_request("POST", path, host, port, token, body)

    return make


def evaluation_requests(seeded: Seeded, host: str, port: int) -> Callable[[], bytes]:
    source = evaluation_bodies(seeded)

    def make() -> bytes:
        path, token, body = next(source)
        return _json_request("PUT", path, host, port, token, body)

    return make


# --- closed loops -----------------------------------------------------------------------------


def summarize(results: list[loadgen.Result]) -> dict[str, float]:
    return {
        "rps": round(statistics.median(r.rps for r in results), 1),
        "p50_ms": round(statistics.median(r.p50 for r in results), 2),
        "p99_ms": round(statistics.median(r.p99 for r in results), 2),
        "errors": sum(r.errors for r in results),
        "requests": sum(r.requests for r in results),
    }


def closed_loops(
    ours: int,
    bare: int,
    seeded: Seeded,
    *,
    rounds: int = 3,
    duration: float = 5.0,
    concurrency: int = 16,
    only: str | None = None,
) -> dict[str, Any]:
    """Medians of `rounds` closed loops per case, the bare read alternating with ours."""
    host = "127.0.0.1"
    baseline = loadgen.http_request("GET", "/organizations/bench", host, bare)
    sources: dict[str, Callable[[], bytes]] = {}
    if only in (None, "task"):
        sources["task_create"] = task_requests(seeded, host, ours)
    if only in (None, "evaluation"):
        sources["evaluation_upsert"] = evaluation_requests(seeded, host, ours)

    def loop(port: int, make: Callable[[], bytes], seconds: float) -> loadgen.Result:
        return asyncio.run(
            loadgen.run_requests(host, port, make, concurrency=concurrency, duration=seconds)
        )

    loop(bare, lambda: baseline, 1)  # warm both: pools, imports, caches
    for make in sources.values():
        loop(ours, make, 1)
    runs: dict[str, list[loadgen.Result]] = {"baseline": [], **{k: [] for k in sources}}
    for _ in range(rounds):
        runs["baseline"].append(loop(bare, lambda: baseline, duration))
        for name, make in sources.items():
            runs[name].append(loop(ours, make, duration))
    summary: dict[str, Any] = {name: summarize(results) for name, results in runs.items()}
    for name in sources:
        summary[name]["vs_baseline"] = round(summary[name]["rps"] / summary["baseline"]["rps"], 3)
    return summary


# --- CPU per call -----------------------------------------------------------------------------


def profile_calls(env: dict[str, str], seeded: Seeded, calls: int, top: int = 25) -> dict[str, Any]:
    """`calls` sequential calls of each write in this process (ASGI, no sockets): CPU and wall
    ms per call (without the profiler), then `calls` more under cProfile for where the time
    goes (top functions by own time; HackOps' by cumulative time)."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT / "src"))
    import httpx2

    from hackops.config import Settings
    from hackops.main import create_app
    from hackops.observability import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, json=True)  # as the server logs, but to nowhere
    sink = open(os.devnull, "w")  # noqa: SIM115
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)
    app = create_app(settings)
    out: dict[str, Any] = {}

    async def drive() -> None:
        transport = httpx2.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx2.AsyncClient(transport=transport, base_url="http://bench") as http,
        ):
            cases = {
                "task_create": ("POST", task_bodies(seeded)),
                "evaluation_upsert": ("PUT", evaluation_bodies(seeded)),
            }
            for name, (method, bodies) in cases.items():
                shifted = itertools.islice(bodies, 7, None)  # not the pairs the loops began with

                async def call(method: str = method, bodies: Any = shifted) -> None:
                    path, token, body = next(bodies)
                    response = await http.request(
                        method, path, json=body, headers={"Authorization": f"Bearer {token}"}
                    )
                    assert response.status_code in (200, 201), response.text

                for _ in range(20):
                    await call()
                started_cpu, started = time.process_time(), time.perf_counter()
                for _ in range(calls):
                    await call()
                cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(calls):
                    await call()
                profiler.disable()
                text = io.StringIO()
                stats = pstats.Stats(profiler, stream=text)
                stats.sort_stats("tottime").print_stats(top)
                stats.sort_stats("cumulative").print_stats("hackops", top)
                out[name] = {
                    "calls": calls,
                    "cpu_ms_per_call": round(1000 * cpu / calls, 3),
                    "wall_ms_per_call": round(1000 * wall / calls, 3),
                    "profile": text.getvalue(),
                }

    try:
        asyncio.run(drive())
    finally:
        sink.close()
    return out


# --- everything -------------------------------------------------------------------------------


def run(
    *,
    rounds: int = 3,
    duration: float = 5.0,
    concurrency: int = 16,
    profile: int = 0,
    only: str | None = None,
) -> dict[str, Any]:
    """Seed a database of its own, start HackOps and the bare app, measure; the report."""
    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, DB_NAME)
        stack.callback(drop_database, admin, DB_NAME)
        seeded = seed(url)
        env = {
            "HACKOPS_ENV": "prod",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": as_role(url, "hackops_app"),
            "DATABASE_ADMIN_URL": url,
            "STORAGE_URL": f"file://{tempfile.mkdtemp(prefix='hackops-bench-files-')}",
            "LOG_LEVEL": "INFO",
            "RUN_WORKER_IN_PROCESS": "false",
        }
        ours = stack.enter_context(
            server("hackops", ["hackops.main:app_factory", "--factory", "--no-access-log",
                               "--log-level", "warning"], env, free_port())
        )  # fmt: skip
        bare = stack.enter_context(
            server("bare", ["bare_app:app", "--app-dir", "bench", "--no-access-log",
                            "--log-level", "warning"], {"BENCH_DATABASE_URL": url}, free_port())
        )  # fmt: skip
        results = closed_loops(
            ours,
            bare,
            seeded,
            rounds=rounds,
            duration=duration,
            concurrency=concurrency,
            only=only,
        )
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM tasks),"
                " (SELECT count(*) FROM tasks t WHERE EXISTS (SELECT 1 FROM tasks u"
                "   WHERE u.team_id = t.team_id AND u.position = t.position AND u.id <> t.id)),"
                " (SELECT count(*) FROM evaluations), (SELECT count(*) FROM evaluation_history),"
                " (SELECT count(*) FROM audit_log)"
            ).fetchone()
        assert row is not None
        report: dict[str, Any] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            # The machine's load (1, 5, 15 min): other work on it moves the absolute figures.
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "rounds": rounds,
            "duration_s": duration,
            "concurrency": concurrency,
            "results": results,
            "database": dict(
                zip(
                    ["tasks", "tasks_sharing_a_position", "evaluations", "history", "audit"],
                    row,
                    strict=True,
                )
            ),
        }
        if profile:
            report["profile"] = profile_calls(env, seeded, profile)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", type=int, default=0, help="calls per write under cProfile")
    parser.add_argument("--only", choices=["task", "evaluation"])
    opts = parser.parse_args()
    report = run(
        rounds=opts.rounds,
        duration=opts.duration,
        concurrency=opts.concurrency,
        profile=opts.profile,
        only=opts.only,
    )
    profiles = report.get("profile", {})
    printable = {**report, "profile": {k: {**v, "profile": "…"} for k, v in profiles.items()}}
    print(json.dumps(printable, indent=2))
    for name, data in profiles.items():
        print(f"\n--- {name}: {data['cpu_ms_per_call']} ms CPU per call ---\n{data['profile']}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"writes-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json").write_text(
        json.dumps(report, indent=2)
    )
    bad = report["database"]["tasks_sharing_a_position"] or any(
        r.get("errors") for r in report["results"].values()
    )
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
