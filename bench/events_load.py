"""Events at scale: team-finder latency and registrations per second, through the real API.

    .venv/bin/python bench/events_load.py [--duration 8] [--rounds 3]

Seeds (in SQL, in a database of its own): 100,000 users, 1 organization, 20 published events,
60,000 registrations (30 % looking for a team, with skills), 10,000 teams with skills wanted.
Then, against HackOps (app role, RLS on, structured access log at INFO as in production):

- team finder: `GET …/finder/teams` for a registered participant (skills ranked by overlap, then
  text relevance), 4 connections — p50 / p95 latency (target: p95 < 50 ms);
- registration: `POST …/registrations` by distinct signed-in users, 16 connections — req/s;
- the yardstick: the bare FastAPI + raw-driver one-row read of bench/bare_app.py, same run.
Reports medians over the rounds and the registration/baseline ratio (target: ≥ 0.40).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import loadgen  # noqa: E402
from common import (  # noqa: E402
    BARE_ARGS,
    HACKOPS_ARGS,
    add_organization,
    admin_url,
    drop_database,
    free_port,
    fresh_database,
    hackops_env,
    save_report,
    server,
    summarize,
)

DB_NAME = "hackops_bench_events"
USERS = 100_000
EVENTS = 20
REGISTERED = 60_000
TEAMS = 10_000
SKILLS = [
    "python", "rust", "go", "typescript", "react", "vue", "svelte", "django", "fastapi", "flask",
    "postgres", "redis", "kafka", "docker", "kubernetes", "terraform", "aws", "gcp", "azure",
    "ml", "pytorch", "tensorflow", "nlp", "cv", "data", "design", "figma", "ux", "pitching",
    "hardware", "arduino", "robotics", "iot", "security", "crypto", "blockchain", "game-dev",
    "unity", "mobile", "swift",
]  # fmt: skip


def seed(url: str) -> None:
    """Bulk data through SQL, then VACUUM ANALYZE."""
    with psycopg.connect(url) as conn:
        seed_into(conn)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def seed_into(
    conn: psycopg.Connection[Any],
    *,
    org: str = "bench",
    users: int = USERS,
    registered: int = REGISTERED,
    teams: int = TEAMS,
) -> None:
    """The organization `org`: `users` people (u<n>@<org>.example.com), 20 published events
    (event-01 … event-20), `registered` registrations over event-01 … event-19, `teams` teams;
    sign-in tokens '<org>-token-<n>' for person 1 and every unregistered person. Triggers off
    while loading, counters set afterwards; nothing committed."""
    skills = "ARRAY[" + ",".join(f"'{s}'" for s in SKILLS) + "]::varchar[]"
    pick = f"(SELECT array_agg(s) FROM (SELECT ({skills})[1 + floor(random() * {len(SKILLS)})::int] s FROM generate_series(1, %s)) x)"  # noqa: E501
    args = {"org": org, "domain": f"@{org}.example.com"}
    mine = "(SELECT id FROM organizations WHERE slug = %(org)s)"
    numbered = (
        "SELECT id, row_number() OVER (ORDER BY email) AS n FROM users"
        " WHERE email LIKE '%%' || %(domain)s"
    )
    conn.execute("SET session_replication_role = replica")
    add_organization(conn, org)
    conn.execute(
        f"""
        INSERT INTO events (id, org_id, slug, name, tagline, visibility, published_at,
                            team_min, team_max)
        SELECT gen_random_uuid(), o.id, 'event-' || lpad(g::text, 2, '0'), 'Event ' || g,
               'A hackathon about ' || ({skills})[1 + g %% {len(SKILLS)}], 'public', now(), 1, 5
        FROM organizations o, generate_series(1, {EVENTS}) g WHERE o.slug = %(org)s
        """,
        args,
    )
    conn.execute(
        f"""
        INSERT INTO users (id, email, name, email_verified_at, skills)
        SELECT gen_random_uuid(), 'u' || g || %(domain)s, 'User ' || g, now(), {pick % 3}
        FROM generate_series(1, {users}) g
        """,
        args,
    )
    conn.execute(
        f"""
        WITH numbered AS ({numbered}), events_n AS (
          SELECT id, org_id, row_number() OVER (ORDER BY slug) AS n FROM events
          WHERE org_id = {mine}
        )
        INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code,
                                   looking_for_team, skills, finder_note)
        SELECT gen_random_uuid(), e.org_id, e.id, u.id, 'registered',
               upper(substr(md5(u.id::text), 1, 10)), random() < 0.3, {pick % 3},
               'Happy to help with anything'
        FROM numbered u JOIN events_n e ON e.n = 1 + (u.n - 1) %% {EVENTS - 1}
        WHERE u.n <= {registered}
        """,
        args,
    )
    conn.execute(
        f"""
        WITH captains AS (
          SELECT r.user_id, r.event_id, r.org_id, row_number() OVER (ORDER BY r.user_id) AS n
          FROM registrations r WHERE r.org_id = {mine}
        ), created AS (
          INSERT INTO teams (id, org_id, event_id, name, description, captain_id, recruiting,
                             skills_wanted, join_code, member_count, max_members)
          SELECT gen_random_uuid(), c.org_id, c.event_id, 'Team ' || c.n,
                 'We build things with ' || ({skills})[1 + c.n %% {len(SKILLS)}], c.user_id,
                 random() < 0.7, {pick % 3}, upper(substr(md5(c.user_id::text || 't'), 1, 10)),
                 1, 5
          FROM captains c WHERE c.n <= {teams}
          RETURNING id, org_id, event_id, captain_id
        )
        INSERT INTO team_members (id, org_id, event_id, team_id, user_id, role)
        SELECT gen_random_uuid(), org_id, event_id, id, captain_id, 'captain' FROM created
        """,
        args,
    )
    conn.execute(
        "UPDATE events e SET registered_count = (SELECT count(*) FROM registrations r"
        " WHERE r.event_id = e.id AND r.status IN ('registered', 'checked_in'))"
        f" WHERE e.org_id = {mine}",
        args,
    )
    # Sign-in tokens: a participant of event-01 for the finder, and one per unregistered
    # user for the registration run ('<org>-token-<n>', stored as SHA-256 like any token).
    conn.execute(
        f"""
        WITH numbered AS ({numbered})
        INSERT INTO auth_tokens (id, user_id, kind, token_hash, expires_at)
        SELECT gen_random_uuid(), id, 'session',
               encode(sha256((%(org)s || '-token-' || n)::bytea), 'hex'), now() + interval '1 day'
        FROM numbered WHERE n = 1 OR n > {registered}
        """,
        args,
    )
    conn.execute("SET session_replication_role = origin")


def finder_request(host: str, port: int, org: str = "bench") -> bytes:
    """The team finder of event-01, asked by person 1 (registered there)."""
    return loadgen.http_request(
        "GET", finder_path(org), host, port, headers={"Authorization": f"Bearer {org}-token-1"}
    )


def finder_path(org: str) -> str:
    return f"/api/v1/organizations/{org}/events/event-01/finder/teams?q=build"


def registrations(
    host: str, port: int, org: str = "bench", *, registered: int = REGISTERED, users: int = USERS
) -> Callable[[], bytes | None]:
    """Registrations for event-20, each by the next unregistered person (None: all done)."""
    tokens = count(registered + 1)
    path = f"/api/v1/organizations/{org}/events/event-20/registrations"
    body = json.dumps({"answers": {}}).encode()

    def next_registration() -> bytes | None:
        n = next(tokens)
        if n > users:
            return None
        headers = {"Authorization": f"Bearer {org}-token-{n}", "Content-Type": "application/json"}
        return loadgen.http_request("POST", path, host, port, headers=headers, body=body)

    return next_registration


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    opts = parser.parse_args()

    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, DB_NAME)
        stack.callback(drop_database, admin, DB_NAME)
        started = datetime.now(UTC)
        seed(url)
        seeded_s = (datetime.now(UTC) - started).total_seconds()
        ours = stack.enter_context(server("hackops", HACKOPS_ARGS, hackops_env(url), free_port()))
        bare = stack.enter_context(
            server("bare", BARE_ARGS, {"BENCH_DATABASE_URL": url}, free_port())
        )
        host = "127.0.0.1"
        finder = finder_request(host, ours)
        next_registration = registrations(host, ours)
        runs: dict[str, list[loadgen.Result]] = {"finder": [], "register": [], "baseline": []}
        asyncio.run(loadgen.run_requests(host, ours, lambda: finder, concurrency=4, duration=1))
        asyncio.run(loadgen.run(host, bare, "/organizations/bench", concurrency=16, duration=1))
        for _ in range(opts.rounds):
            runs["baseline"].append(
                asyncio.run(loadgen.run(host, bare, "/organizations/bench", concurrency=16,
                                        duration=opts.duration))
            )  # fmt: skip
            runs["finder"].append(
                asyncio.run(loadgen.run_requests(host, ours, lambda: finder, concurrency=4,
                                                 duration=opts.duration))
            )  # fmt: skip
            runs["register"].append(
                asyncio.run(loadgen.run_requests(host, ours, next_registration, concurrency=16,
                                                 duration=opts.duration))
            )  # fmt: skip

    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seeded_in_s": round(seeded_s, 1),
        "rounds": opts.rounds,
        "duration_s": opts.duration,
        "results": {name: summarize(results) for name, results in runs.items()},
    }
    results = report["results"]
    report["registration_vs_baseline"] = round(
        results["register"]["rps"] / results["baseline"]["rps"], 3
    )
    print(json.dumps(report, indent=2))
    save_report("events_load", report)


if __name__ == "__main__":
    main()
