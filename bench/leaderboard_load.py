"""The live leaderboard at scale: recompute time, and cached reads under many readers.

    .venv/bin/python bench/leaderboard_load.py [--duration 5] [--rounds 3] [--readers 1000]

Seeds (SQL, a database of its own): one event with 5,000 submitted projects, 40 judges and
15,000 evaluations (3 per project) of 5 criteria each. Then:
- full recompute: load every evaluation and fit the judge-effect model (median of 5);
- after one score change: the time to serve the next board (the version bump makes a new key,
  the change log is applied to the live state and the model re-solved), in process (median
  and p95 of 50 changes), and how far the incremental board is from a full refit after them;
- readers: `GET …/judging/leaderboard` as an organizer, `--readers` connections at once, served
  from the cache — req/s and errors, against the raw-driver one-row read of bench/bare_app.py at
  the same concurrency in the same run (target ≥ 0.80); the bare app is measured twice, as
  the core's baseline (a transaction per request: BEGIN, SELECT, COMMIT) and in autocommit
  (one round trip, as the leaderboard's read pool), and both ratios are reported.
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
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

import loadgen  # noqa: E402
from common import (  # noqa: E402
    admin_url,
    as_role,
    drop_database,
    free_port,
    fresh_database,
    server,
    summarize,
)

DB_NAME = "hackops_bench_leaderboard"
SUBMISSIONS = 5_000
JUDGES = 40
PER_SUBMISSION = 3
TOKEN = "bench-organizer-token"
PATH = "/api/v1/organizations/bench/events/finale/judging/leaderboard"


def seed(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")  # bulk load: triggers off
        conn.execute(
            f"""
            INSERT INTO organizations (id, slug, name) VALUES (gen_random_uuid(), 'bench', 'B');
            INSERT INTO events (id, org_id, slug, name, published_at, submissions_close_at)
            SELECT gen_random_uuid(), id, 'finale', 'Finale', now() - interval '3 days',
                   now() - interval '1 day' FROM organizations;
            INSERT INTO users (id, email, name, email_verified_at)
            SELECT gen_random_uuid(), 'u' || g || '@bench.example.com', 'U' || g, now()
            FROM generate_series(1, {SUBMISSIONS + JUDGES + 1}) g;
            """
        )
        conn.execute(
            f"""
            WITH u AS (SELECT id, row_number() OVER (ORDER BY email) n FROM users),
                 e AS (SELECT * FROM events)
            INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code)
            SELECT gen_random_uuid(), e.org_id, e.id, u.id, 'registered',
                   upper(substr(md5(u.id::text), 1, 12))
            FROM u, e WHERE u.n <= {SUBMISSIONS}
            """
        )
        conn.execute(
            """
            WITH r AS (SELECT user_id, event_id, org_id, row_number() OVER (ORDER BY user_id) n
                       FROM registrations),
            t AS (
              INSERT INTO teams (id, org_id, event_id, name, captain_id, join_code, member_count,
                                 max_members)
              SELECT gen_random_uuid(), org_id, event_id, 'Team ' || n, user_id,
                     upper(substr(md5(user_id::text), 1, 10)), 1, 5 FROM r
              RETURNING id, org_id, event_id, captain_id
            ), m AS (
              INSERT INTO team_members (id, org_id, event_id, team_id, user_id, role)
              SELECT gen_random_uuid(), org_id, event_id, id, captain_id, 'captain' FROM t
            )
            INSERT INTO submissions (id, org_id, event_id, team_id, status, title, version_count,
                                     submitted_at)
            SELECT gen_random_uuid(), org_id, event_id, id, 'submitted', 'Project', 1,
                   now() - random() * interval '1 day' FROM t
            """
        )
        judges = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM users WHERE id NOT IN (SELECT user_id FROM registrations)"
                " ORDER BY email"
            )
        ]
        organizer, judges = judges[0], judges[1:]
        conn.execute(
            "INSERT INTO org_memberships (id, org_id, user_id, role)"
            " SELECT gen_random_uuid(), id, %s, 'organizer' FROM organizations",
            (organizer,),
        )
        conn.execute(
            "INSERT INTO auth_tokens (id, user_id, kind, token_hash, expires_at)"
            " VALUES (gen_random_uuid(), %s, 'session', encode(sha256(%s::bytea), 'hex'),"
            " now() + interval '1 day')",
            (organizer, TOKEN),
        )
        for n in range(5):
            conn.execute(
                "INSERT INTO judging_criteria (id, org_id, event_id, name, weight, max_score)"
                " SELECT gen_random_uuid(), org_id, id, %s, 1, 10 FROM events",
                (f"C{n}",),
            )
        conn.execute(
            """
            WITH s AS (SELECT id, team_id, org_id, event_id,
                              row_number() OVER (ORDER BY id) n, random() * 40 + 40 AS q
                       FROM submissions),
                 j AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, random() * 20 - 10 AS o
                       FROM users WHERE id = ANY(%s))
            INSERT INTO evaluations (id, org_id, event_id, judge_id, submission_id, team_id,
                                     scores, raw_score, status, submitted_at)
            SELECT gen_random_uuid(), s.org_id, s.event_id, j.id, s.id, s.team_id,
                   '{"c": 5}'::jsonb, greatest(0, least(100, s.q + j.o + random() * 8 - 4)),
                   'submitted', now()
            FROM s JOIN j ON j.k IN ((s.n * 3) %% %s, (s.n * 3 + 1) %% %s, (s.n * 3 + 2) %% %s)
            """,
            (judges, JUDGES, JUDGES, JUDGES),
        )
        conn.execute(
            "INSERT INTO judging_versions (event_id, org_id, version)"
            " SELECT id, org_id, 1 FROM events"
        )
        conn.execute("SET session_replication_role = origin")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


async def in_process(url: str) -> dict[str, float]:
    """Recompute timings through the real service functions (owner connection, tenant set)."""
    os.environ.setdefault("HACKOPS_ENV", "dev")
    from sqlalchemy import select, text, update
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from hackops.actor import SYSTEM
    from hackops.config import to_sqlalchemy_url
    from hackops.events.deps import EventAccess
    from hackops.judging.leaderboard import live
    from hackops.judging.leaderboard import service as leaderboard
    from hackops.models import Evaluation, Event, Organization

    engine = create_async_engine(to_sqlalchemy_url(url))
    full, after_change = [], []
    async with AsyncSession(engine) as session:
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        event = (await session.scalars(select(Event))).one()
        org = (await session.scalars(select(Organization))).one()
        access = EventAccess(org, event, SYSTEM, "owner", frozenset(), None)
        cache = leaderboard.Cache(None, leaderboard.LocalCache())
        for _ in range(5):
            started = time.perf_counter()
            fresh = live.EventBoard(org.id, event.id)
            await fresh.build(session)
            full.append((time.perf_counter() - started) * 1000)
        await leaderboard.read(session, access, cache)
        ids = list((await session.scalars(select(Evaluation.id).order_by(Evaluation.id))).all())
        for n in range(50):
            await session.execute(
                update(Evaluation).where(Evaluation.id == ids[n * 97]).values(raw_score=20 + n)
            )
            started = time.perf_counter()
            await leaderboard.read(session, access, cache)
            after_change.append((time.perf_counter() - started) * 1000)
        state = leaderboard.REGISTRY.boards[(org.id, event.id)]
        fresh = live.EventBoard(org.id, event.id)
        await fresh.build(session)
        drift, overlap = compare(fresh, state)
        if state.refit_task is not None:  # the background re-estimation, then its re-solve
            await state.refit_task
        settled_drift, settled_overlap = compare(fresh, state)
        await session.rollback()
    await engine.dispose()
    return {
        "full_recompute_ms": round(statistics.median(full), 1),
        "next_board_after_a_score_ms": round(statistics.median(after_change), 1),
        "next_board_after_a_score_p95_ms": round(statistics.quantiles(after_change, n=20)[-1], 1),
        "incremental_vs_full_refit_max_score_diff": round(drift, 4),
        "incremental_vs_full_refit_top100_overlap": overlap,
        "after_background_reestimation_max_score_diff": round(settled_drift, 4),
        "after_background_reestimation_top100_overlap": settled_overlap,
    }


def compare(full: Any, state: Any) -> tuple[float, int]:
    """The largest score difference between two boards, and how many of the full fit's top 100
    the other board also has in its top 100."""
    scores = {i["submission_id"]: i["score"] for i in full.rows(10_000)}
    drift = max(abs(i["score"] - scores[i["submission_id"]]) for i in state.rows(10_000))
    top = {i["submission_id"] for i in full.rows(100)}
    return drift, len(top & {i["submission_id"] for i in state.rows(100)})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--readers", type=int, default=1000)
    opts = parser.parse_args()
    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, DB_NAME)
        stack.callback(drop_database, admin, DB_NAME)
        started = time.perf_counter()
        seed(url)
        seeded_s = round(time.perf_counter() - started, 1)
        timings = asyncio.run(in_process(url))
        env = {
            "HACKOPS_ENV": "prod",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": as_role(url, "hackops_app"),
            "DATABASE_ADMIN_URL": url,
            "STORAGE_URL": f"file://{tempfile.mkdtemp(prefix='hackops-bench-files-')}",
            "LOG_LEVEL": "WARNING",
            "DATABASE_POOL_SIZE": "20",
        }
        ours = stack.enter_context(
            server("hackops", ["hackops.main:app_factory", "--factory", "--no-access-log",
                               "--log-level", "warning", "--backlog", "4096"], env, free_port())
        )  # fmt: skip
        bare_args = ["bare_app:app", "--app-dir", "bench", "--no-access-log",
                     "--log-level", "warning", "--backlog", "4096"]  # fmt: skip
        bare = stack.enter_context(
            server("bare", bare_args, {"BENCH_DATABASE_URL": url}, free_port())
        )
        bare_autocommit = stack.enter_context(
            server("bare-autocommit", bare_args,
                   {"BENCH_DATABASE_URL": url, "BENCH_AUTOCOMMIT": "1"}, free_port())
        )  # fmt: skip
        host = "127.0.0.1"
        board = loadgen.http_request(
            "GET", PATH, host, ours, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        asyncio.run(loadgen.run_requests(host, ours, lambda: board, concurrency=8, duration=1))
        runs: dict[str, list[loadgen.Result]] = {
            "leaderboard": [], "baseline": [], "baseline_autocommit": []
        }  # fmt: skip
        for _ in range(opts.rounds):
            for name, port in (("baseline", bare), ("baseline_autocommit", bare_autocommit)):
                runs[name].append(
                    asyncio.run(loadgen.run(host, port, "/organizations/bench",
                                            concurrency=opts.readers, duration=opts.duration))
                )  # fmt: skip
            runs["leaderboard"].append(
                asyncio.run(loadgen.run_requests(host, ours, lambda: board,
                                                 concurrency=opts.readers, duration=opts.duration))
            )  # fmt: skip
    results = {name: summarize(r) for name, r in runs.items()}
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seeded_in_s": seeded_s,
        "submissions": SUBMISSIONS,
        "evaluations": SUBMISSIONS * PER_SUBMISSION,
        "readers": opts.readers,
        **timings,
        "results": results,
        "leaderboard_vs_baseline": round(
            results["leaderboard"]["rps"] / max(results["baseline"]["rps"], 0.1), 3
        ),
        "leaderboard_vs_baseline_autocommit": round(
            results["leaderboard"]["rps"] / max(results["baseline_autocommit"]["rps"], 0.1), 3
        ),
    }
    print(json.dumps(report, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"leaderboard_load-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json").write_text(
        json.dumps(report, indent=2)
    )


if __name__ == "__main__":
    main()
