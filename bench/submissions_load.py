"""Submissions at the deadline, submit throughput and gallery search, through the real API.

    .venv/bin/python bench/submissions_load.py [--window 60] [--rounds 3] [--duration 5]
        [--teams 500] [--phase all|deadline|loops] [--pool-size N] [--log-level INFO]

Seeds (in SQL, in a database of its own; bench/submissions_seed.py) one organization and three
published events:

- `deadline`: `--teams` teams of two (500; issue 15's spike is 5,000), each with a titled
  draft. Its submissions close `--window` seconds (plus a warm-up) after the phase starts
  (`submissions_close_at` set in SQL). Every team submits once during the window (arrivals
  spread uniformly, the last one 2 s before the deadline); a fifth of the teams submit a second
  time (the other member); a tenth try deliberately 0.5 to 5 s after the deadline. Requests are
  sent open-loop, at their planned times, on raw keep-alive connections (up to 400). While it
  runs, the app's database sessions are sampled (`pg_stat_activity`: active, idle in a
  transaction, waiting on a lock) to show where a slow submit waits.
- `throughput`: 1,000 teams with drafts, closing tomorrow; a closed loop of 16 connections
  submits for them in turn (submits/s, like events_load's registrations).
- `showcase`: 5,000 approved submissions with generated project texts, gallery open;
  anonymous `GET …/gallery?q=…` (full-text search) cycling through ten queries.

Against the bare FastAPI + raw-driver one-row read of bench/bare_app.py in the same run.
Checks after the deadline phase, in SQL: 0 responses 5xx, 0 on-time submits refused, 0 late
ones accepted, every team's versions numbered 1..n without gaps with the latest marked, each
version with its four pipeline steps and its first job queued on `processing` (no worker runs).
Prints JSON, writes it to bench/results/, exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import threading
import time
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import cycle
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import loadgen  # noqa: E402
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
from submissions_seed import QUERIES, Sizes, seed  # noqa: E402

# Its own per run: two runs at once (other benchmarks, other checkouts) never drop each other's.
DB_NAME = f"hackops_bench_submissions_{os.getpid()}"
SIZES = Sizes(deadline_teams=500, throughput_teams=1_000, gallery=5_000)
MARGIN_S = 2.0  # the last on-time submit is sent this long before the deadline
WARMUP_S = 8.0  # between setting the deadline and the window: the warm-up reads
KEEP_ALIVE_S = 4.0  # uvicorn closes an idle keep-alive connection after 5 s


@dataclass(frozen=True)
class Deadline:
    """Who submits in the deadline phase: every one of `teams` once, `twice` of them a second
    time (the other member), `late` attempts after the close; the org's `deadline` event."""

    teams: int
    twice: int
    late: int
    window: float
    org: str = "bench"

    @classmethod
    def scaled(cls, teams: int, window: float, org: str = "bench") -> Deadline:
        """A fifth of the teams submit twice, a tenth try after the close (as with 500)."""
        return cls(teams, teams // 5, teams // 10, window, org)


# --- the deadline -----------------------------------------------------------------------------


@dataclass
class Attempt:
    team: int
    token: str
    kind: str  # first | second | late
    at: float  # planned send time (epoch seconds)
    sent: float = 0.0
    latency_ms: float = 0.0
    status: int = 0
    code: str = ""
    number: int = 0
    late_flag: bool = False


def plan(close: float, spec: Deadline, rng: random.Random) -> list[Attempt]:
    """When each team submits: spread uniformly over the window, `twice` teams twice (the
    second at least 3 s after the first), `late` attempts after the deadline."""
    window, token = spec.window, f"{spec.org}-token-"
    start, last = close - window, close - MARGIN_S
    teams = list(range(1, spec.teams + 1))
    attempts = [Attempt(k, f"{token}{2 * k - 1}", "first", rng.uniform(start, last)) for k in teams]
    early = [a for a in attempts if a.at < last - min(10.0, window / 3)]
    for a in rng.sample(early, spec.twice):
        at = rng.uniform(a.at + 3, last)
        attempts.append(Attempt(a.team, f"{token}{2 * a.team}", "second", at))
    for k in rng.sample(teams, spec.late):
        attempts.append(Attempt(k, f"{token}{2 * k}", "late", close + rng.uniform(0.5, 5)))
    return sorted(attempts, key=lambda a: a.at)


class Connections:
    """Keep-alive HTTP/1.1 connections to the app, at most `limit` open, reused in turn. Raw
    asyncio streams, not an HTTP client library: the load generator shares the machine with
    the app, and at thousands of requests a client's own CPU would be what is measured."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter], float]] = []
        self.opened = 0
        self.freed = asyncio.Condition()

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        async with self.freed:
            while not self.idle and self.opened >= self.limit:
                await self.freed.wait()
            conn = None
            while self.idle and conn is None:
                conn, used = self.idle.pop()
                if time.monotonic() - used > KEEP_ALIVE_S:  # the server may have closed it
                    conn[1].close()
                    conn = None
                    self.opened -= 1
            if conn is None:
                self.opened += 1
        try:
            if conn is None:
                conn = await asyncio.open_connection(self.host, self.port)
            conn[1].write(request)
            await conn[1].drain()
            answer = await read_response(conn[0])
        except BaseException:
            if conn is not None:
                conn[1].close()
            async with self.freed:
                self.opened -= 1
                self.freed.notify()
            raise
        async with self.freed:
            self.idle.append((conn, time.monotonic()))
            self.freed.notify()
        return answer

    def close(self) -> None:
        for (_, writer), _ in self.idle:
            writer.close()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status, length, chunked = int(status_line.split()[1]), 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        elif name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length) if length else b""
    parts = []
    while size := int((await reader.readline()).strip(), 16):
        parts.append((await reader.readexactly(size + 2))[:-2])
    await reader.readline()
    return status, b"".join(parts)


async def fire(base_url: str, org: str, attempts: list[Attempt], team_ids: dict[int, str]) -> None:
    host, _, port_text = base_url.removeprefix("http://").partition(":")
    port = int(port_text)
    pool = Connections(host, port, limit=400)
    # A server at a real deadline has been up for days: its database pool is open and its
    # statements prepared. Warm this one likewise: each team's captain reads its submission
    # (the same dependencies as a submit), 40 at a time, before the window opens.
    warm = [a for a in attempts if a.kind == "first"][:200]
    for start in range(0, len(warm), 40):
        await asyncio.gather(
            *(
                pool.exchange(
                    loadgen.http_request(
                        "GET",
                        f"{events_path(org)}/deadline/teams/{team_ids[a.team]}/submission",
                        host,
                        port,
                        headers={"Authorization": f"Bearer {a.token}"},
                    )
                )
                for a in warm[start : start + 40]
            )
        )

    async def one(a: Attempt) -> None:
        await asyncio.sleep(max(0.0, a.at - time.time()))
        url = f"{events_path(org)}/deadline/teams/{team_ids[a.team]}/submission/submit"
        request = loadgen.http_request(
            "POST", url, host, port, headers={"Authorization": f"Bearer {a.token}"}
        )
        a.sent = time.time()
        started = time.perf_counter()
        try:
            a.status, raw = await asyncio.wait_for(pool.exchange(request), timeout=120)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            a.status, a.code = 599, type(exc).__name__
            return
        a.latency_ms = (time.perf_counter() - started) * 1000
        try:
            body = json.loads(raw)
        except ValueError:  # a 5xx from outside the app (a proxy, a crash) may not be JSON
            body = {}
        if a.status == 201:
            a.number, a.late_flag = body["number"], body["late"]
        elif "error" in body:
            a.code = body["error"]["code"]

    try:
        await asyncio.gather(*(one(a) for a in attempts))
    finally:
        pool.close()


def deadline_checks(
    url: str, org: str, attempts: list[Attempt], team_ids: dict[int, str]
) -> dict[str, Any]:
    accepted: dict[str, int] = {}
    for a in attempts:
        if a.status == 201:
            accepted[team_ids[a.team]] = accepted.get(team_ids[a.team], 0) + 1
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            SELECT s.team_id::text, s.version_count,
                   (SELECT count(*) FROM submission_versions v WHERE v.submission_id = s.id),
                   (SELECT coalesce(max(number), 0) FROM submission_versions v
                     WHERE v.submission_id = s.id),
                   s.latest_version_id IS NOT DISTINCT FROM (SELECT v.id FROM submission_versions v
                     WHERE v.submission_id = s.id AND v.number = s.version_count)
            FROM submissions s JOIN events e ON e.id = s.event_id
            JOIN organizations o ON o.id = e.org_id WHERE o.slug = %s AND e.slug = 'deadline'
            """,
            (org,),
        ).fetchall()
        per_version = conn.execute(
            """
            SELECT count(*),
                   count(*) FILTER (WHERE (SELECT count(DISTINCT p.step) FROM pipeline_steps p
                                           WHERE p.version_id = v.id) <> 4),
                   count(*) FILTER (WHERE (SELECT count(*) FROM procrastinate_jobs j
                                           JOIN pipeline_steps p ON p.id::text = j.args->>'step_id'
                                           WHERE p.version_id = v.id AND p.step = 'validate_files'
                                             AND j.queue_name = 'processing'
                                             AND j.status = 'todo') <> 1),
                   count(*) FILTER (WHERE v.late OR v.submitted_at >= e.submissions_close_at)
            FROM submission_versions v JOIN events e ON e.id = v.event_id
            JOIN organizations o ON o.id = e.org_id WHERE o.slug = %s AND e.slug = 'deadline'
            """,
            (org,),
        ).fetchone()
    assert per_version is not None
    versions, missing_steps, missing_jobs, after_close = per_version
    wrong_count = sum(1 for team, count, *_ in rows if count != accepted.get(team, 0))
    gaps = sum(1 for _, count, n, top, _ok in rows if not n == top == count)
    wrong_latest = sum(1 for *_, ok in rows if not ok)
    return {
        "teams_with_a_version": sum(1 for _, count, *_ in rows if count > 0),
        "versions": versions,
        "versions_not_matching_accepted_submits": wrong_count,
        "submissions_with_gaps_or_duplicates": gaps,
        "submissions_with_wrong_latest": wrong_latest,
        "versions_without_their_4_steps": missing_steps,
        "versions_without_a_queued_job": missing_jobs,
        "versions_late_or_after_close": after_close,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return round(ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))], 2)


class Sampler:
    """What the database's sessions of the app are doing, sampled every `every` s during the
    phase (`pg_stat_activity`): how many are active, idle inside a transaction (the app holds
    the connection between statements), waiting on a lock (row or transaction: the team's
    submission row) or on an internal lock (`LWLock`: WAL, the notify queue …)."""

    def __init__(self, url: str, every: float = 0.2) -> None:
        self.url, self.every = url, every
        self.database = urlsplit(url).path.lstrip("/")
        self.samples: list[dict[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.wait(self.every):
                sample: dict[str, int] = {}
                for state, wait_type, wait, n in conn.execute(
                    "SELECT coalesce(state, ''), coalesce(wait_event_type, ''),"
                    " coalesce(wait_event, ''), count(*) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()"
                    " AND application_name = 'hackops' GROUP BY 1, 2, 3",
                    (self.database,),
                ):
                    sample["connections"] = sample.get("connections", 0) + n
                    sample[state] = sample.get(state, 0) + n
                    if wait_type in ("Lock", "LWLock", "IO"):
                        key = f"waiting:{wait_type}:{wait}"
                        sample[key] = sample.get(key, 0) + n
                self.samples.append(sample)

    def summary(self) -> dict[str, Any]:
        keys = sorted({k for sample in self.samples for k in sample})
        n = max(1, len(self.samples))
        return {
            "samples": len(self.samples),
            "mean": {k: round(sum(x.get(k, 0) for x in self.samples) / n, 2) for k in keys},
            "max": {k: max(x.get(k, 0) for x in self.samples) for k in keys},
        }


def timeline(ok: list[Attempt], start: float, close: float, step: float = 10) -> list[str]:
    """Accepted submits per slice of the window: `from_s: count p50/p95 ms` (warm-up or spike?)."""
    out = []
    at = start
    while at < close:
        part = [a.latency_ms for a in ok if at <= a.sent < at + step]
        p50, p95 = percentile(part, 50), percentile(part, 95)
        out.append(f"{at - start:>3.0f}s: {len(part)} p50 {p50} p95 {p95}")
        at += step
    return out


def deadline_phase(
    url: str, base_url: str, spec: Deadline, teams: dict[Any, Any]
) -> dict[str, Any]:
    """The deadline event closes `spec.window` s (plus a warm-up) from now; every planned
    attempt is sent at its time; then the outcomes and the database's state (`deadline_checks`).
    """
    window = spec.window
    team_ids = {k: teams[("deadline", k)][0] for k in range(1, spec.teams + 1)}
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "UPDATE events SET submissions_close_at = now() + make_interval(secs => %s)"
            " WHERE slug = 'deadline' AND org_id = (SELECT id FROM organizations WHERE slug = %s)"
            " RETURNING extract(epoch FROM submissions_close_at)",
            (window + WARMUP_S, spec.org),
        ).fetchone()
    assert row is not None
    close = float(row[0])
    attempts = plan(close, spec, random.Random(7))
    with Sampler(url) as sampler:
        asyncio.run(fire(base_url, spec.org, attempts, team_ids))
    on_time = [a for a in attempts if a.kind != "late"]
    late = [a for a in attempts if a.kind == "late"]
    ok = [a for a in on_time if a.status == 201]
    sent = sorted(a.sent for a in on_time)
    busiest = max(bisect_left(sent, t + 1) - i for i, t in enumerate(sent))  # the busiest second
    answered = [a.latency_ms for a in on_time if a.status != 599]
    report: dict[str, Any] = {
        "window_s": window,
        "planned": {"first": spec.teams, "second": spec.twice, "late": spec.late},
        "responses_5xx": sum(1 for a in attempts if a.status >= 500),
        # 599: no answer (the client's pool or read timed out, or the server dropped it).
        "no_answer": sum(1 for a in attempts if a.status == 599),
        "on_time_sent": len(on_time),
        "on_time_accepted": len(ok),
        "on_time_refused": len(on_time) - len(ok),
        "on_time_sent_latest_s_before_close": round(close - max(a.sent for a in on_time), 2),
        "on_time_flagged_late": sum(1 for a in ok if a.late_flag),
        "late_sent": len(late),
        "late_accepted": sum(1 for a in late if a.status == 201),
        "late_refused_submissions_closed": sum(
            1 for a in late if (a.status, a.code) == (409, "submissions_closed")
        ),
        "other_outcomes": sorted(
            {f"{a.kind}:{a.status}:{a.code}" for a in attempts}
            - {"first:201:", "second:201:", "late:409:submissions_closed"}
        ),
        "busiest_second_submits": busiest,
        # How late the load generator itself sent (it shares the machine): beyond a few ms,
        # the figures measure the machine, not the app.
        "send_lag_p95_ms": percentile([(a.sent - a.at) * 1000 for a in attempts], 95),
        "submit_p50_ms": percentile([a.latency_ms for a in ok], 50),
        "submit_p95_ms": percentile([a.latency_ms for a in ok], 95),
        "submit_p99_ms": percentile([a.latency_ms for a in ok], 99),
        "submit_max_ms": percentile([a.latency_ms for a in ok], 100),
        # Every on-time answer, accepted or not (a refusal after waiting counts too).
        "on_time_p50_ms": percentile(answered, 50),
        "on_time_p95_ms": percentile(answered, 95),
        "on_time_p99_ms": percentile(answered, 99),
        "submits_per_s_over_window": round(len(ok) / window, 1),
        "timeline": timeline(ok, close - window, close),
    }
    report["database"] = deadline_checks(url, spec.org, attempts, team_ids)
    report["database_sessions"] = sampler.summary()
    return report


def deadline_failures(deadline: dict[str, Any], teams: int) -> dict[str, int]:
    """What went wrong in a deadline phase's report (all 0 when nothing did)."""
    database = deadline["database"]
    return {
        "responses_5xx": deadline["responses_5xx"],
        "on_time_refused": deadline["on_time_refused"],
        "late_accepted": deadline["late_accepted"],
        **{k: v for k, v in database.items() if k.startswith("versions_")},
        "submissions_with_gaps_or_duplicates": database["submissions_with_gaps_or_duplicates"],
        "submissions_with_wrong_latest": database["submissions_with_wrong_latest"],
        "teams_without_a_version": teams - database["teams_with_a_version"],
    }


# --- closed loops -----------------------------------------------------------------------------


def events_path(org: str) -> str:
    return f"/api/v1/organizations/{org}/events"


def submits(
    host: str, port: int, teams: dict[Any, Any], count: int, org: str = "bench"
) -> Iterator[bytes]:
    """Submits of the throughput event's teams in turn, each by its captain, forever."""
    return cycle(
        loadgen.http_request(
            "POST",
            f"{events_path(org)}/throughput/teams/{teams[('throughput', k)][0]}/submission/submit",
            host,
            port,
            headers={"Authorization": f"Bearer {org}-token-{teams[('throughput', k)][1]}"},
        )
        for k in range(1, count + 1)
    )


def gallery_searches(host: str, port: int, org: str = "bench") -> Iterator[bytes]:
    """Anonymous full-text searches of the showcase's gallery, cycling through QUERIES."""
    return cycle(
        loadgen.http_request("GET", f"{events_path(org)}/showcase/gallery?q={quote(q)}", host, port)
        for q in QUERIES
    )


def closed_loops(
    ours: int, bare: int, teams: dict[Any, Any], rounds: int, duration: float
) -> dict[str, dict[str, float]]:
    host = "127.0.0.1"
    submit_source = submits(host, ours, teams, SIZES.throughput_teams)
    searches = gallery_searches(host, ours)

    def run(port: int, source: Any, concurrency: int, seconds: float) -> loadgen.Result:
        return asyncio.run(
            loadgen.run_requests(
                host, port, lambda: next(source), concurrency=concurrency, duration=seconds
            )
        )

    baseline = cycle([loadgen.http_request("GET", "/organizations/bench", host, bare)])
    run(ours, searches, 4, 1)
    run(bare, baseline, 16, 1)
    runs: dict[str, list[loadgen.Result]] = {
        "baseline": [],
        "gallery_search": [],
        "gallery_search_4": [],
        "submit": [],
    }
    for _ in range(rounds):
        runs["baseline"].append(run(bare, baseline, 16, duration))
        runs["gallery_search"].append(run(ours, searches, 16, duration))
        runs["gallery_search_4"].append(run(ours, searches, 4, duration))
        runs["submit"].append(run(ours, submit_source, 16, duration))
    return {name: summarize(results) for name, results in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument(
        "--teams", type=int, default=SIZES.deadline_teams, help="teams submitting at the deadline"
    )
    parser.add_argument(
        "--phase", choices=("all", "deadline", "loops"), default="all", help="what to run"
    )
    parser.add_argument("--pool-size", type=int, help="the app's DATABASE_POOL_SIZE")
    parser.add_argument("--log-level", default="INFO", help="the app's LOG_LEVEL")
    opts = parser.parse_args()
    sizes = replace(SIZES, deadline_teams=opts.teams)

    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, DB_NAME)
        stack.callback(drop_database, admin, DB_NAME)
        started = time.perf_counter()
        seeded = seed(url, sizes)
        seeded_s = time.perf_counter() - started
        # The pipeline's jobs stay queued: the checks count them.
        env = hackops_env(url, RUN_WORKER_IN_PROCESS="false", LOG_LEVEL=opts.log_level)
        if opts.pool_size is not None:
            env["DATABASE_POOL_SIZE"] = str(opts.pool_size)
        ours = stack.enter_context(
            server("hackops", [*HACKOPS_ARGS, "--backlog", "4096"], env, free_port())
        )
        bare = stack.enter_context(
            server("bare", BARE_ARGS, {"BENCH_DATABASE_URL": url}, free_port())
        )
        spec = Deadline.scaled(opts.teams, opts.window)
        deadline: dict[str, Any] = {}
        results: dict[str, dict[str, float]] = {}
        if opts.phase in ("all", "deadline"):
            deadline = deadline_phase(url, f"http://127.0.0.1:{ours}", spec, seeded["teams"])
        if opts.phase in ("all", "loops"):
            results = closed_loops(ours, bare, seeded["teams"], opts.rounds, opts.duration)

    checks: dict[str, int] = {}
    if deadline:
        checks.update(deadline_failures(deadline, spec.teams))
    if results:
        checks["closed_loop_errors"] = int(sum(r["errors"] for r in results.values()))
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seeded_in_s": round(seeded_s, 1),
        # The machine's load (1, 5, 15 min) at the end: other work on it skews the latencies.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "rounds": opts.rounds,
        "duration_s": opts.duration,
        "deadline": deadline,
        "gallery": {"submissions": SIZES.gallery, "query_hits": seeded["query_hits"]},
        "results": results,
        "checks": checks,
        "ok": not any(checks.values()),
    }
    if results:
        base = results["baseline"]["rps"]
        report["submit_vs_baseline"] = round(results["submit"]["rps"] / base, 3)
        report["gallery_search_vs_baseline"] = round(results["gallery_search"]["rps"] / base, 3)
    print(json.dumps(report, indent=2))
    save_report("submissions_load", report)
    if not report["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
