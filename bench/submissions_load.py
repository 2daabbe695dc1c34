"""Submissions at the deadline, submit throughput and gallery search, through the real API.

    .venv/bin/python bench/submissions_load.py [--window 60] [--rounds 3] [--duration 5]

Seeds (in SQL, in a database of its own) one organization and three published events:

- `deadline`: 500 teams of two, each with a titled draft. Its submissions close `--window`
  seconds (plus a short warm-up) after the phase starts (`submissions_close_at` set in SQL).
  Every team submits once during the window (arrivals spread uniformly, the last one 2 s before
  the deadline); 100 teams submit a second time (the other member); 50 attempts come
  deliberately 0.5 to 5 s after the deadline. Requests are sent open-loop, at their planned
  times, each on its own connection if need be.
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
import secrets
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import cycle
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import loadgen  # noqa: E402
from common import admin_url, as_role, drop_database, free_port, fresh_database, server  # noqa: E402

DB_NAME = "hackops_bench_submissions"
DEADLINE_TEAMS = 500
TWICE = 100
LATE = 50
THROUGHPUT_TEAMS = 1_000
GALLERY = 5_000
MARGIN_S = 2.0  # the last on-time submit is sent this long before the deadline
WARMUP_S = 3.0
EVENT = "/api/v1/organizations/bench/events"
QUERIES = [
    "solar", "food waste", "accessibility", "mental health", "air quality", "open data",
    "volunteers", "recycling map", "sign language", "flood warning",
]  # fmt: skip

DOMAINS = {
    "climate": ["solar", "carbon", "emissions", "heat", "flood", "warning", "energy", "grid"],
    "food": ["food", "waste", "surplus", "restaurants", "pantry", "recipes", "farmers", "market"],
    "health": ["mental", "health", "clinic", "therapy", "symptoms", "sleep", "steps", "nurses"],
    "access": ["accessibility", "sign", "language", "captions", "screen", "reader", "blind"],
    "civic": ["open", "data", "council", "budget", "volunteers", "neighbours", "petitions"],
    "city": ["air", "quality", "sensors", "bikes", "parking", "recycling", "map", "noise"],
    "learning": ["students", "tutors", "quizzes", "flashcards", "maths", "reading", "school"],
}
GENERIC = [
    "app", "platform", "tool", "dashboard", "service", "assistant", "tracker", "network", "bot",
    "community", "people", "local", "real-time", "simple", "private", "offline", "mobile",
    "friendly", "fast", "shared",
]  # fmt: skip
STACK = [
    "python", "rust", "go", "typescript", "react", "vue", "svelte", "django", "fastapi",
    "postgres", "redis", "docker", "pytorch", "flutter", "swift", "kotlin", "arduino",
]  # fmt: skip
SENTENCES = [
    "We built a {g} {g2} that helps {d} and {d2} work together.",
    "Our {g} uses {t} to turn {d} {d2} into something {g2} people can act on.",
    "The team noticed that {d} is hard to track, so we made it {g} and {g2}.",
    "It connects {d} with {d2} through a {g} {g2} anyone can use.",
    "During the weekend we tested it with {d} groups and fixed the {g} parts first.",
    "Next we want to add {d2} and make the {g2} {g} work offline.",
]


def project(rng: random.Random, n: int) -> tuple[str, str, str, list[str]]:
    """A title, tagline, description (4 to 9 sentences) and technologies for project `n`."""
    words = DOMAINS[rng.choice(list(DOMAINS))]

    def fill(template: str) -> str:
        return template.format(
            d=rng.choice(words),
            d2=rng.choice(words),
            g=rng.choice(GENERIC),
            g2=rng.choice(GENERIC),
            t=rng.choice(STACK),
        )

    title = f"{rng.choice(words).title()} {rng.choice(GENERIC).title()} {n}"
    tagline = fill("A {g} {g2} for {d} and {d2}")
    description = " ".join(fill(rng.choice(SENTENCES)) for _ in range(rng.randint(4, 9)))
    return title, tagline, description, sorted(set(rng.sample(STACK, rng.randint(1, 4))))


def seed(url: str) -> dict[str, Any]:
    """Bulk rows in SQL (triggers off while loading; counters set explicitly)."""
    rng = random.Random(11)
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "INSERT INTO organizations (id, slug, name)"
            " VALUES (gen_random_uuid(), 'bench', 'Bench')"
        )
        conn.execute(
            """
            INSERT INTO events (id, org_id, slug, name, visibility, published_at, starts_at,
                                submissions_close_at, team_max, gallery_opened_at)
            SELECT gen_random_uuid(), o.id, e.slug, initcap(e.slug), 'public',
                   now() - interval '3 days', now() - interval '2 days', e.closes, 5, e.gallery
            FROM organizations o, (VALUES
              ('deadline', now() + interval '1 day', NULL::timestamptz),
              ('throughput', now() + interval '1 day', NULL),
              ('showcase', now() - interval '1 day', now())) AS e(slug, closes, gallery)
            """
        )
        # People n = 1..: deadline teams k have members 2k-1 (captain) and 2k; throughput
        # teams are people 1001..2000; the showcase's 2001..7000.
        people = 2 * DEADLINE_TEAMS + THROUGHPUT_TEAMS + GALLERY
        conn.execute(
            "CREATE TEMP TABLE people AS SELECT g AS n, gen_random_uuid() AS id,"
            " CASE WHEN g <= %s THEN 'deadline' WHEN g <= %s THEN 'throughput'"
            " ELSE 'showcase' END AS event FROM generate_series(1, %s) g",
            (2 * DEADLINE_TEAMS, 2 * DEADLINE_TEAMS + THROUGHPUT_TEAMS, people),
        )
        conn.execute(
            "INSERT INTO users (id, email, name, email_verified_at)"
            " SELECT id, 'u' || n || '@bench.example.com', 'User ' || n, now() FROM people"
        )
        conn.execute(
            "INSERT INTO auth_tokens (id, user_id, kind, token_hash, expires_at)"
            " SELECT gen_random_uuid(), id, 'session',"
            " encode(sha256(('bench-token-' || n)::bytea), 'hex'), now() + interval '1 day'"
            " FROM people WHERE event <> 'showcase'"
        )
        conn.execute(
            "INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code)"
            " SELECT gen_random_uuid(), e.org_id, e.id, p.id, 'registered',"
            " upper(substr(md5(p.id::text), 1, 12)) FROM people p JOIN events e ON e.slug = p.event"
        )
        conn.execute(
            """
            CREATE TEMP TABLE squads AS
            SELECT n AS k, 'deadline' AS event, n * 2 - 1 AS captain, n * 2 AS second
              FROM generate_series(1, %(d)s) n
            UNION ALL
            SELECT n, 'throughput', %(t0)s + n, NULL FROM generate_series(1, %(t)s) n
            UNION ALL
            SELECT n, 'showcase', %(g0)s + n, NULL FROM generate_series(1, %(g)s) n
            """,
            {
                "d": DEADLINE_TEAMS,
                "t0": 2 * DEADLINE_TEAMS,
                "t": THROUGHPUT_TEAMS,
                "g0": 2 * DEADLINE_TEAMS + THROUGHPUT_TEAMS,
                "g": GALLERY,
            },
        )
        conn.execute("ALTER TABLE squads ADD COLUMN id uuid DEFAULT gen_random_uuid()")
        conn.execute(
            """
            INSERT INTO teams (id, org_id, event_id, name, captain_id, join_code, member_count,
                               max_members)
            SELECT s.id, e.org_id, e.id, 'Team ' || s.k, c.id,
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
            INSERT INTO submissions (id, org_id, event_id, team_id, title, tagline, description)
            SELECT gen_random_uuid(), e.org_id, e.id, s.id, 'Project ' || s.k,
                   'Our entry', 'A draft written before the rush.'
            FROM squads s JOIN events e ON e.slug = s.event WHERE s.event <> 'showcase'
            """
        )
        conn.execute(
            "CREATE TEMP TABLE texts (k int, title text, tagline text, description text,"
            " technologies varchar(64)[])"
        )
        with conn.cursor() as cur, cur.copy("COPY texts FROM STDIN") as copy:
            for k in range(1, GALLERY + 1):
                title, tagline, description, stack = project(rng, k)
                copy.write_row((k, title, tagline, description, stack))
        conn.execute(
            """
            INSERT INTO submissions (id, org_id, event_id, team_id, status, title, tagline,
                                     description, description_html, technologies, version_count,
                                     submitted_at, decided_at)
            SELECT gen_random_uuid(), e.org_id, e.id, s.id, 'approved', x.title, x.tagline,
                   x.description, '<p>' || x.description || '</p>', x.technologies, 1,
                   now() - interval '2 days' + s.k * interval '1 second', now() - interval '1 day'
            FROM squads s JOIN events e ON e.slug = s.event JOIN texts x ON x.k = s.k
            WHERE s.event = 'showcase'
            """
        )
        conn.execute(
            """
            WITH v AS (
              INSERT INTO submission_versions (id, org_id, event_id, submission_id, number,
                                               snapshot, submitted_at)
              SELECT gen_random_uuid(), s.org_id, s.event_id, s.id, 1,
                     jsonb_build_object('title', s.title, 'tagline', s.tagline), s.submitted_at
              FROM submissions s JOIN events e ON e.id = s.event_id WHERE e.slug = 'showcase'
              RETURNING id, submission_id
            )
            UPDATE submissions s SET latest_version_id = v.id FROM v WHERE v.submission_id = s.id
            """
        )
        conn.execute(
            "UPDATE events e SET registered_count = (SELECT count(*) FROM registrations r"
            " WHERE r.event_id = e.id)"
        )
        teams = {
            (event, k): (str(team_id), captain, second)
            for event, k, team_id, captain, second in conn.execute(
                "SELECT event, k, id, captain, second FROM squads"
            )
        }
        hits = {
            q: conn.execute(
                "SELECT count(*) FROM submissions s JOIN events e ON e.id = s.event_id"
                " WHERE e.slug = 'showcase' AND s.search @@ websearch_to_tsquery('english', %s)",
                (q,),
            ).fetchone()[0]  # type: ignore[index]
            for q in QUERIES
        }
        conn.execute("SET session_replication_role = origin")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return {"teams": teams, "query_hits": hits}


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


def plan(close: float, window: float, rng: random.Random) -> list[Attempt]:
    """When each team submits: spread uniformly over the window, 100 teams twice (the second
    at least 3 s after the first), 50 attempts after the deadline."""
    start, last = close - window, close - MARGIN_S
    teams = list(range(1, DEADLINE_TEAMS + 1))
    attempts = [
        Attempt(k, f"bench-token-{2 * k - 1}", "first", rng.uniform(start, last)) for k in teams
    ]
    early = [a for a in attempts if a.at < last - min(10.0, window / 3)]
    for a in rng.sample(early, TWICE):
        at = rng.uniform(a.at + 3, last)
        attempts.append(Attempt(a.team, f"bench-token-{2 * a.team}", "second", at))
    for k in rng.sample(teams, LATE):
        attempts.append(Attempt(k, f"bench-token-{2 * k}", "late", close + rng.uniform(0.5, 5)))
    return sorted(attempts, key=lambda a: a.at)


async def fire(base_url: str, attempts: list[Attempt], team_ids: dict[int, str]) -> None:
    limits = httpx2.Limits(max_connections=400, max_keepalive_connections=400)
    async with httpx2.AsyncClient(base_url=base_url, limits=limits, timeout=120) as http:
        await asyncio.gather(*(http.get("/health") for _ in range(50)))

        async def one(a: Attempt) -> None:
            await asyncio.sleep(max(0.0, a.at - time.time()))
            url = f"{EVENT}/deadline/teams/{team_ids[a.team]}/submission/submit"
            a.sent = time.time()
            started = time.perf_counter()
            try:
                response = await http.post(url, headers={"Authorization": f"Bearer {a.token}"})
            except httpx2.HTTPError as exc:
                a.status, a.code = 599, type(exc).__name__
                return
            a.latency_ms = (time.perf_counter() - started) * 1000
            a.status = response.status_code
            try:
                body = response.json()
            except ValueError:  # a 5xx from outside the app (a proxy, a crash) may not be JSON
                body = {}
            if response.status_code == 201:
                a.number, a.late_flag = body["number"], body["late"]
            elif "error" in body:
                a.code = body["error"]["code"]

        await asyncio.gather(*(one(a) for a in attempts))


def deadline_checks(url: str, attempts: list[Attempt], team_ids: dict[int, str]) -> dict[str, Any]:
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
            FROM submissions s JOIN events e ON e.id = s.event_id WHERE e.slug = 'deadline'
            """
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
            WHERE e.slug = 'deadline'
            """
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


def deadline_phase(url: str, base_url: str, window: float, teams: dict[Any, Any]) -> dict[str, Any]:
    team_ids = {k: teams[("deadline", k)][0] for k in range(1, DEADLINE_TEAMS + 1)}
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "UPDATE events SET submissions_close_at = now() + make_interval(secs => %s)"
            " WHERE slug = 'deadline' RETURNING extract(epoch FROM submissions_close_at)",
            (window + WARMUP_S,),
        ).fetchone()
    assert row is not None
    close = float(row[0])
    attempts = plan(close, window, random.Random(7))
    asyncio.run(fire(base_url, attempts, team_ids))
    on_time = [a for a in attempts if a.kind != "late"]
    late = [a for a in attempts if a.kind == "late"]
    ok = [a for a in on_time if a.status == 201]
    busiest = max(
        sum(1 for b in on_time if a.sent <= b.sent < a.sent + 1) for a in on_time
    )  # sends in the busiest second
    report: dict[str, Any] = {
        "window_s": window,
        "planned": {"first": DEADLINE_TEAMS, "second": TWICE, "late": LATE},
        "responses_5xx": sum(1 for a in attempts if a.status >= 500),
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
        "submit_p50_ms": percentile([a.latency_ms for a in ok], 50),
        "submit_p95_ms": percentile([a.latency_ms for a in ok], 95),
        "submit_max_ms": percentile([a.latency_ms for a in ok], 100),
        "submits_per_s_over_window": round(len(ok) / window, 1),
    }
    report["database"] = deadline_checks(url, attempts, team_ids)
    return report


# --- closed loops -----------------------------------------------------------------------------


def summarize(results: list[loadgen.Result]) -> dict[str, float]:
    return {
        "rps": round(statistics.median(r.rps for r in results), 1),
        "p50_ms": round(statistics.median(r.p50 for r in results), 2),
        "p95_ms": round(statistics.median(r.percentile(95) for r in results), 2),
        "p99_ms": round(statistics.median(r.p99 for r in results), 2),
        "errors": sum(r.errors for r in results),
        "requests": sum(r.requests for r in results),
    }


def closed_loops(
    ours: int, bare: int, teams: dict[Any, Any], rounds: int, duration: float
) -> dict[str, dict[str, float]]:
    host = "127.0.0.1"
    submits = cycle(
        loadgen.http_request(
            "POST",
            f"{EVENT}/throughput/teams/{teams[('throughput', k)][0]}/submission/submit",
            host,
            ours,
            headers={"Authorization": f"Bearer bench-token-{teams[('throughput', k)][1]}"},
        )
        for k in range(1, THROUGHPUT_TEAMS + 1)
    )
    searches = cycle(
        loadgen.http_request("GET", f"{EVENT}/showcase/gallery?q={quote(q)}", host, ours)
        for q in QUERIES
    )

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
        runs["submit"].append(run(ours, submits, 16, duration))
    return {name: summarize(results) for name, results in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    opts = parser.parse_args()

    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, DB_NAME)
        stack.callback(drop_database, admin, DB_NAME)
        started = time.perf_counter()
        seeded = seed(url)
        seeded_s = time.perf_counter() - started
        env = {
            "HACKOPS_ENV": "prod",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": as_role(url, "hackops_app"),
            "DATABASE_ADMIN_URL": url,
            "STORAGE_URL": f"file://{tempfile.mkdtemp(prefix='hackops-bench-files-')}",
            "LOG_LEVEL": "INFO",
            "RUN_WORKER_IN_PROCESS": "false",  # the pipeline's jobs stay queued: we count them
        }
        ours = stack.enter_context(
            server("hackops", ["hackops.main:app_factory", "--factory", "--no-access-log",
                               "--log-level", "warning", "--backlog", "4096"], env, free_port())
        )  # fmt: skip
        bare = stack.enter_context(
            server("bare", ["bare_app:app", "--app-dir", "bench", "--no-access-log",
                            "--log-level", "warning"], {"BENCH_DATABASE_URL": url}, free_port())
        )  # fmt: skip
        deadline = deadline_phase(url, f"http://127.0.0.1:{ours}", opts.window, seeded["teams"])
        results = closed_loops(ours, bare, seeded["teams"], opts.rounds, opts.duration)

    checks = {
        "responses_5xx": deadline["responses_5xx"],
        "on_time_refused": deadline["on_time_refused"],
        "late_accepted": deadline["late_accepted"],
        **{k: v for k, v in deadline["database"].items() if k.startswith("versions_")},
        "submissions_with_gaps_or_duplicates":
            deadline["database"]["submissions_with_gaps_or_duplicates"],
        "submissions_with_wrong_latest": deadline["database"]["submissions_with_wrong_latest"],
        "teams_without_a_version":
            DEADLINE_TEAMS - deadline["database"]["teams_with_a_version"],
        "closed_loop_errors": sum(r["errors"] for r in results.values()),
    }  # fmt: skip
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seeded_in_s": round(seeded_s, 1),
        # The machine's load (1, 5, 15 min) at the end: other work on it skews the latencies.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "rounds": opts.rounds,
        "duration_s": opts.duration,
        "deadline": deadline,
        "gallery": {"submissions": GALLERY, "query_hits": seeded["query_hits"]},
        "results": results,
        "submit_vs_baseline": round(results["submit"]["rps"] / results["baseline"]["rps"], 3),
        "gallery_search_vs_baseline": round(
            results["gallery_search"]["rps"] / results["baseline"]["rps"], 3
        ),
        "checks": checks,
        "ok": not any(checks.values()),
    }
    print(json.dumps(report, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"submissions_load-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json").write_text(
        json.dumps(report, indent=2)
    )
    if not report["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
