"""Issue 15's acceptance harness: every row of its table in one run, each against a baseline
measured in the same run, as one table (printed as Markdown, saved as JSON in bench/results/).

    make bench-perf                     # the acceptance run: 10 min on 2 cores at load average 10
                                        # (the deadline spike is the part that grows with load)
    make bench-perf QUICK=1             # a smoke run: 1 round of 2 s, 1,000 deadline teams in 20 s
                                        # (4 min at load average 12; under 2 min quiet, estimated)
    .venv/bin/python bench/perf.py [--rounds 3] [--duration 5] [--connections 16] [--window 60]
        [--deadline-teams 5000] [--workers 1] [--rows health,me,...] [--quick]

Servers: HackOps as in production (bench/common.hackops_env: the app role with RLS on, the
structured log at INFO; the job worker not in the web process, so jobs stay queued) under uvicorn
with `--workers` processes (default 1: the figures are per process), and bench/bare_app.py
(FastAPI on a raw psycopg pool as the tables' owner: no middleware, no ORM, no RLS) beside it
with as many. Only the public HTTP API and pages are called, so the harness measures whatever
the code behind them does. The data (bench/perf_seed.py) is seeded in SQL into one database.

Closed-loop rows: `--connections` keep-alive connections (the finder: 4) send the row's request
and the next as soon as the answer is in, for `--duration` s. Each round measures every row,
the baselines among them (bare /health first, each row right after the baseline it is compared
with); a ratio is the median over the rounds of ours / baseline of the same round; rps and
latencies are medians over the rounds. Any answer other than the row's status (2xx; 304 for
conditional GETs) counts as an error.

Rows (key: request → compared with, target):

- health: GET /health → bare GET /health, ≥ 0.7
- event_page: GET /orgs/people/events/event-01 (HTML, anonymous) → our /health, ≥ 0.8
- results: GET /api/v1/…/jury/events/finale/results (150 ranked, anonymous) → our /health, ≥ 0.8
- events_list: GET /api/v1/events (anonymous) → our /health, ≥ 0.8
- gallery: GET …/projects/events/showcase/gallery?q=… (5,000 projects, 10 queries in turn)
  → bare_app's /gallery, the same full-text query in one statement, ≥ 0.3
- me: GET /api/v1/me with a bearer token → bare one-row read, ≥ 0.5
- register: POST …/people/events/event-20/registrations, a new person each time → bare one-row
  read, ≥ 0.15 (stretch 0.4)
- task_create: POST …/projects/events/throughput/teams/{id}/tasks, 1,000 teams in turn → bare
  one-row read, ≥ 0.15
- evaluation: PUT …/jury/events/judging/judging/submissions/{id}/evaluation (all criteria,
  submitted), 900 assignments in turn → bare one-row read, ≥ 0.15
- submit: POST …/projects/events/throughput/teams/{id}/submission/submit, 1,000 teams in turn
  → bare one-row read, ≥ 0.15
- finder: GET …/people/events/event-01/finder/teams?q=build (100,000 people), 4 connections:
  p95 < 50 ms
- deadline: open loop, 5,000 teams submit in the last 60 s (+1,000 second submits, 500 late):
  p95 ≤ 500 ms, 0 lost
- saturation: every closed-loop row of ours: p99/p50 ≤ 2.5, 0 errors

A public row whose answer carries an ETag gets a twin `<row>_304` (If-None-Match: the ETag →
304), for information: the plain row stays a first visit without it. The deadline row is
bench/submissions_load.deadline_phase: requests sent at their planned times whatever the
answers, then checked in SQL (every accepted submit is one version, numbered without gaps, with
its pipeline steps and queued job; nothing late accepted). Lost = on-time submits refused or
not stored as answered. Its latencies are over every on-time answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Container, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import cycle
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import events_load  # noqa: E402
import loadgen  # noqa: E402
import perf_seed  # noqa: E402
import submissions_load  # noqa: E402
from common import (  # noqa: E402
    BARE_ARGS,
    HACKOPS_ARGS,
    admin_url,
    drop_database,
    free_port,
    fresh_database,
    hackops_env,
    save_report,
    server,
    summarize,
)
from perf_seed import JURY, LAUNCH, PEOPLE, PROJECTS  # noqa: E402
from perf_table import markdown, verdicts  # noqa: E402
from submissions_seed import QUERIES  # noqa: E402

DB_NAME = "hackops_bench_perf"
SETTLE_S = 5.0  # the pause after the deadline spike
HOST = "127.0.0.1"
Source = Callable[[], bytes | None]


@dataclass
class Row:
    key: str
    path: str  # as shown
    source: Source
    baseline: str | None = None  # the key of the row it is compared with
    target: float | None = None  # ratio at least
    connections: int | None = None  # None: --connections
    expected: Container[int] = loadgen.SUCCESS
    results: list[loadgen.Result] = field(default_factory=list)
    broken: str = ""  # why it was not measured
    #: An If-None-Match twin: the plain row whose current ETag it sends (asked afresh before
    #: each loop: a write measured in between may change the page, and its ETag with it).
    conditional_of: Row | None = None


def get(port: int, path: str, **headers: str) -> Source:
    request = loadgen.http_request("GET", path, HOST, port, headers=headers)
    return lambda: request


def each(requests: Iterator[bytes]) -> Source:
    return lambda: next(requests)


def rows(ours: int, bare: int, seeded: perf_seed.Seeded, opts: argparse.Namespace) -> list[Row]:
    """Every closed-loop row in the order a round measures them (each after its baseline)."""
    api = "/api/v1/organizations"
    me = {"Authorization": f"Bearer {PEOPLE}-token-1"}
    json_body = {"Content-Type": "application/json"}
    tasks = cycle(
        loadgen.http_request(
            "POST",
            f"{api}/{PROJECTS}/events/throughput/teams/{team}/tasks",
            HOST,
            ours,
            headers={"Authorization": f"Bearer {PROJECTS}-token-{captain}", **json_body},
            body=json.dumps({"title": "Write the demo script"}).encode(),
        )
        for (event, _), (team, captain, _) in seeded.teams.items()
        if event == "throughput"
    )
    evaluations = cycle(
        loadgen.http_request(
            "PUT",
            f"{api}/{JURY}/events/judging/judging/submissions/{submission}/evaluation",
            HOST,
            ours,
            headers={"Authorization": f"Bearer {token}", **json_body},
            body=json.dumps(
                {
                    "scores": {c: 1 + (n + i) % 10 for i, c in enumerate(seeded.criteria)},
                    "feedback": "Clear pitch; the demo worked.",
                    "submit": True,
                }
            ).encode(),
        )
        for n, (token, submission) in enumerate(seeded.evaluations)
    )
    scale = opts.scale
    return [
        Row("bare_health", "bare GET /health", get(bare, "/health")),
        Row("health", "GET /health", get(ours, "/health"), "bare_health", 0.7),
        Row("event_page", f"GET /orgs/{PEOPLE}/events/{LAUNCH}",
            get(ours, f"/orgs/{PEOPLE}/events/{LAUNCH}"), "health", 0.8),
        Row("results", f"GET {api}/{JURY}/events/finale/results",
            get(ours, f"{api}/{JURY}/events/finale/results"), "health", 0.8),
        Row("events_list", "GET /api/v1/events", get(ours, "/api/v1/events"), "health", 0.8),
        Row("bare_gallery", "bare: the gallery's full-text query", each(cycle(
            loadgen.http_request("GET", f"/gallery/{PROJECTS}/showcase?q={quote(q)}", HOST, bare)
            for q in QUERIES))),
        Row("gallery", f"GET {api}/{PROJECTS}/events/showcase/gallery?q=…",
            each(submissions_load.gallery_searches(HOST, ours, PROJECTS)), "bare_gallery", 0.3),
        Row("bare_row", "bare: one-row read", get(bare, f"/organizations/{PEOPLE}")),
        Row("me", "GET /api/v1/me (bearer)", get(ours, "/api/v1/me", **me), "bare_row", 0.5),
        Row("register", f"POST {api}/{PEOPLE}/events/event-20/registrations",
            events_load.registrations(HOST, ours, PEOPLE, registered=scale.registered,
                                      users=scale.users), "bare_row", 0.15),
        Row("task_create", f"POST {api}/{PROJECTS}/events/throughput/teams/{{id}}/tasks",
            each(tasks), "bare_row", 0.15),
        Row("evaluation", f"PUT {api}/{JURY}/events/judging/judging/submissions/{{id}}/evaluation",
            each(evaluations), "bare_row", 0.15),
        Row("submit", f"POST {api}/{PROJECTS}/events/throughput/teams/{{id}}/submission/submit",
            each(submissions_load.submits(HOST, ours, seeded.teams,
                                          scale.projects.throughput_teams, PROJECTS)),
            "bare_row", 0.15),
        Row("finder", f"GET {events_load.finder_path(PEOPLE)}",
            get(ours, events_load.finder_path(PEOPLE), Authorization=f"Bearer {PEOPLE}-token-1"),
            connections=4),
    ]  # fmt: skip


def probe(port: int, row: Row) -> dict[str, str]:
    """Send the row's request once: its headers, or mark the row broken."""
    request = row.source()
    if request is None:
        row.broken = "nothing to send"
        return {}
    try:
        status, headers = asyncio.run(loadgen.fetch_once(HOST, port, request))
    except OSError as exc:
        row.broken = f"{type(exc).__name__}: {exc}"
        return {}
    if status not in row.expected:
        row.broken = f"answered {status}"
    return headers


def conditional_twins(ours: int, plain: list[Row]) -> list[Row]:
    """For each public row whose answer has an ETag, its If-None-Match twin (→ 304). Asked up
    to three times, half a second apart: a cache may tag only what it serves from memory, not
    the answer that fills it, and may wait for the versions it checks against."""
    twins = []
    for row in plain:
        etag = None
        for _ in range(3):
            if etag := probe(ours, row).get("etag"):
                break
            time.sleep(0.5)
        if etag and row.key in {"event_page", "results", "events_list"}:
            path = row.path.split(" ", 1)[1]
            twins.append(
                Row(f"{row.key}_304", f"{row.path} (If-None-Match)",
                    get(ours, path, **{"If-None-Match": etag}), "health", None,
                    expected={304}, conditional_of=row)
            )  # fmt: skip
    return twins


def refresh_etag(port: int, twin: Row) -> None:
    """Point an If-None-Match twin at its page's current ETag."""
    plain = twin.conditional_of
    assert plain is not None
    for _ in range(3):
        if etag := probe(port, plain).get("etag"):
            twin.source = get(port, plain.path.split(" ", 1)[1], **{"If-None-Match": etag})
            return
        time.sleep(0.5)


def measure(
    port_of: dict[str, int], row: Row, opts: argparse.Namespace, seconds: float, *, keep: bool
) -> None:
    """One closed loop of the row for `seconds`; its result kept unless it is a warm-up."""
    if row.broken:
        return
    if row.conditional_of is not None:
        refresh_etag(port_of[row.key], row)
    result = asyncio.run(
        loadgen.run_requests(
            HOST,
            port_of[row.key],
            row.source,
            concurrency=row.connections or opts.connections,
            duration=seconds,
            expected=row.expected,
        )
    )
    if keep:
        row.results.append(result)


def rss_mib(port: int) -> float:
    """The resident memory of the server on `port`: every process listening there (with
    `--workers`, the master and its workers) and their children."""
    pids = {
        c.pid
        for c in psutil.net_connections(kind="tcp")
        if c.status == "LISTEN" and c.pid is not None and c.laddr and c.laddr.port == port
    }
    processes = {pid: psutil.Process(pid) for pid in pids}
    for process in list(processes.values()):
        processes |= {child.pid: child for child in process.children(recursive=True)}
    total = sum(p.memory_info().rss for p in processes.values() if p.is_running())
    return round(float(total) / 2**20, 1)


def git_head() -> str:
    head = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return head.stdout.strip() or "unknown"


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run (defaults below)")
    parser.add_argument("--rounds", type=int, help="rounds (3; quick: 1)")
    parser.add_argument("--duration", type=float, help="seconds per row and round (5; quick: 2)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--window", type=float, help="deadline window, s (60; quick: 20)")
    parser.add_argument("--deadline-teams", type=int, help="(5,000; quick: 1,000)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn processes per server")
    parser.add_argument("--rows", help="only these rows, comma-separated (and their baselines)")
    parser.add_argument(
        "--database", default=DB_NAME, help="name of the database (re)made and dropped at the end"
    )
    opts = parser.parse_args()
    quick = opts.quick
    opts.rounds = opts.rounds or (1 if quick else 3)
    opts.duration = opts.duration or (2.0 if quick else 5.0)
    opts.window = opts.window or (20.0 if quick else 60.0)
    opts.deadline_teams = opts.deadline_teams or (1_000 if quick else 5_000)
    opts.warmup = 0.3 if quick else 1.0
    projects = replace(perf_seed.Scale().projects, deadline_teams=opts.deadline_teams)
    opts.scale = perf_seed.Scale(projects=projects)
    return opts


def wanted(all_rows: list[Row], only: str | None) -> list[Row]:
    if not only:
        return all_rows
    keys = set(only.split(","))
    by_key = {r.key: r for r in all_rows}
    for key in list(keys):
        while key in by_key and by_key[key].baseline:
            key = by_key[key].baseline  # type: ignore[assignment]
            keys.add(key)
    return [r for r in all_rows if r.key in keys]


def main() -> None:
    opts = options()
    started = time.perf_counter()
    phases: dict[str, float] = {}
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, opts.database)
        stack.callback(drop_database, admin, opts.database)
        phases["migrate_s"] = round(time.perf_counter() - started, 1)
        seeded = perf_seed.seed(url, opts.scale)
        phases["seed_s"] = round(time.perf_counter() - started - phases["migrate_s"], 1)
        workers = ["--workers", str(opts.workers)] if opts.workers > 1 else []
        env = hackops_env(url, RUN_WORKER_IN_PROCESS="false")
        ours = stack.enter_context(
            server("hackops", [*HACKOPS_ARGS, "--backlog", "4096", *workers], env, free_port())
        )
        bare = stack.enter_context(
            server("bare", [*BARE_ARGS, "--backlog", "4096", *workers],
                   {"BENCH_DATABASE_URL": url}, free_port())
        )  # fmt: skip
        plan = wanted(rows(ours, bare, seeded, opts), opts.rows)
        plan += conditional_twins(ours, [r for r in plan if r.baseline == "health"])
        for row in plan:
            if not row.broken and not row.key.endswith("_304"):
                probe(bare if row.key.startswith("bare_") else ours, row)
        port_of = {r.key: bare if r.key.startswith("bare_") else ours for r in plan}
        order = sorted(plan, key=lambda r: r.key.endswith("_304"))  # twins after the health rows
        mark = time.perf_counter()
        for row in order:
            measure(port_of, row, opts, opts.warmup, keep=False)
        phases["warm_up_s"] = round(time.perf_counter() - mark, 1)
        deadline: dict[str, Any] | None = None
        spec = submissions_load.Deadline.scaled(opts.deadline_teams, opts.window, PROJECTS)
        if not opts.rows or "deadline" in opts.rows.split(","):
            mark = time.perf_counter()
            deadline = submissions_load.deadline_phase(
                url, f"http://{HOST}:{ours}", spec, seeded.teams
            )
            deadline["failures"] = submissions_load.deadline_failures(deadline, spec.teams)
            # Requests whose clients gave up may still be running: let the server drain.
            time.sleep(SETTLE_S)
            phases["deadline_s"] = round(time.perf_counter() - mark, 1)
        mark = time.perf_counter()
        for _ in range(opts.rounds):
            for row in order:
                measure(port_of, row, opts, opts.duration, keep=True)
        phases["rounds_s"] = round(time.perf_counter() - mark, 1)
        memory = {"hackops_rss_mib": rss_mib(ours), "bare_rss_mib": rss_mib(bare)}
    phases["total_s"] = round(time.perf_counter() - started, 1)

    measured = {r.key: r for r in plan}
    ratios = {
        r.key: round(
            statistics.median(
                o.rps / b.rps for o, b in zip(r.results, measured[r.baseline].results, strict=True)
            ),
            3,
        )
        for r in plan
        if r.baseline and r.results and measured[r.baseline].results
    }
    also: dict[str, dict[str, float]] = {}
    if measured.get("gallery") and measured.get("bare_row"):
        # The "measured today" compared the gallery with the raw one-row read.
        pairs = zip(measured["gallery"].results, measured["bare_row"].results, strict=True)
        if ratio := [o.rps / b.rps for o, b in pairs]:
            also["gallery"] = {"ratio_vs_bare_row": round(statistics.median(ratio), 3)}
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": git_head(),
        "quick": opts.quick,
        "cpus": os.cpu_count(),
        "workers_per_server": opts.workers,
        "rounds": opts.rounds,
        "duration_s": opts.duration,
        "connections": opts.connections,
        # The machine's load (1, 5, 15 min): other work on it skews every figure.
        "load_average": {"start": load_at_start, "end": [round(x, 2) for x in os.getloadavg()]},
        "phases": phases,
        "seed_s": seeded.seconds,
        "memory": memory,
        "rows": {
            r.key: {
                "path": r.path,
                "baseline": r.baseline,
                "target_ratio": r.target,
                "connections": r.connections or opts.connections,
                "ratio": ratios.get(r.key),
                **(summarize(r.results) if r.results else {"broken": r.broken or "not run"}),
                **also.get(r.key, {}),
            }
            for r in plan
        },
        "deadline": deadline,
        "gallery_query_hits": seeded.query_hits,
    }
    report["table"] = verdicts(report)
    print(markdown(report))
    path = save_report("perf", report)
    print(f"\nsaved {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
