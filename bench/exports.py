"""Exports of a small and a large event: is the server's memory flat whatever the event's size?

    .venv/bin/python bench/exports.py [--rounds 2]      (make bench-exports)

Seeds (in SQL, in a database of its own) two events of one organization, each with four
registration questions, three criteria, published results and an organizer's session token:
- small: 50 registrations, 12 teams, 9 submissions, 4 judges;
- large: 5,000 registrations, 1,200 teams (3 members each), 900 submissions (2 files each),
  40 judges, 3 assignments and 3 submitted evaluations per submission (2,700).
Then, against a real uvicorn process as in production (the app role, RLS on), downloads every
export (registrations, teams, submissions, judges, evaluations, results; each as CSV, XLSX, JSON) of
the small event, then of the large one, `--rounds` times, while a thread samples the server
process's resident memory (psutil) every 5 ms. For each download it reports the rows, the bytes,
the seconds and the peak RSS growth over the RSS just before the request; then, per event, the
largest growth. Flat memory: the large event's largest growth stays close to the small one's
(the rows pass one batch of 500 at a time, the file is written to a spool, then streamed).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from common import admin_url, as_role, drop_database, free_port, fresh_database, server  # noqa: E402

DB_NAME = "hackops_bench_exports"
TOKEN = "bench-exports-organizer-token"
DATASETS = ("registrations", "teams", "submissions", "judges", "evaluations", "results")
FORMATS = ("csv", "xlsx", "json")
SIZES = {
    "small": {"people": 50, "teams": 12, "submissions": 9, "judges": 4},
    "large": {"people": 5000, "teams": 1200, "submissions": 900, "judges": 40},
}
QUESTIONS = [
    {"id": "shirt", "kind": "choice", "label": "T-shirt size", "options": ["S", "M", "L"]},
    {"id": "diet", "kind": "multi_choice", "label": "Dietary needs", "options": ["vegan", "halal"]},
    {"id": "photo_ok", "kind": "checkbox", "label": "Photos allowed"},
    {"id": "note", "kind": "text", "label": "Anything else"},
]


def seed_event(
    conn: psycopg.Connection[Any],
    slug: str,
    size: dict[str, int],
    *,
    org_slug: str = "bench",
    published: bool = True,
) -> None:
    """One published event of the organization `org_slug`, with `size` of everything; its
    results published (frozen rows in `event_results`) or, unless `published`, judging open.
    People are <slug>-p<n>@<org_slug>.example.com, judges <slug>-judge<n>@…"""
    people, teams, submissions, judges = (
        size["people"], size["teams"], size["submissions"], size["judges"]
    )  # fmt: skip
    args = {
        "slug": slug, "people": people, "teams": teams, "subs": submissions, "judges": judges,
        "org": org_slug, "name": f"Bench {slug}", "questions": json.dumps(QUESTIONS),
    }  # fmt: skip
    conn.execute(
        "INSERT INTO events (id, org_id, slug, name, visibility, published_at, timezone,"
        " questions, starts_at, submissions_close_at)"
        " SELECT gen_random_uuid(), id, %(slug)s, %(name)s, 'public', now() - interval '3 days',"
        " 'Europe/Berlin', %(questions)s::jsonb, now() - interval '2 days',"
        " now() - interval '1 day' FROM organizations WHERE slug = %(org)s",
        args,
    )
    org = "(SELECT id FROM organizations WHERE slug = %(org)s)"
    event = f"(SELECT id FROM events WHERE slug = %(slug)s AND org_id = {org})"
    conn.execute(
        "INSERT INTO users (id, email, name, email_verified_at)"
        " SELECT gen_random_uuid(), %(slug)s || '-p' || g || '@' || %(org)s || '.example.com',"
        " 'Person ' || g || ' Łukasz 李', now() FROM generate_series(1, %(people)s) g",
        args,
    )
    conn.execute(
        f"INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code, answers)"
        f" SELECT gen_random_uuid(), {org}, {event}, u.id, 'registered',"
        f" upper(substr(md5(u.id::text), 1, 10)),"
        f" jsonb_build_object('shirt', 'M', 'diet', jsonb_build_array('vegan'),"
        f" 'photo_ok', true, 'note', '=1+2 please')"
        f" FROM users u WHERE u.email LIKE %(slug)s || '-p%%@' || %(org)s || '.example.com'",
        args,
    )
    # Team g: people 3g-2 (captain), 3g-1, 3g.
    conn.execute(
        f"INSERT INTO teams (id, org_id, event_id, name, captain_id, join_code, max_members)"
        f" SELECT gen_random_uuid(), {org}, {event}, 'Team ' || g, u.id,"
        f" upper(substr(md5(%(slug)s || g), 1, 8)), 5"
        f" FROM generate_series(1, %(teams)s) g"
        f" JOIN users u"
        f"   ON u.email = %(slug)s || '-p' || (3 * g - 2) || '@' || %(org)s || '.example.com'",
        args,
    )
    conn.execute(
        f"INSERT INTO team_members (id, org_id, event_id, team_id, user_id, role)"
        f" SELECT gen_random_uuid(), {org}, {event}, t.id, u.id,"
        f" CASE WHEN k = 0 THEN 'captain' ELSE 'member' END"
        f" FROM teams t CROSS JOIN generate_series(0, 2) k"
        f" JOIN users u ON u.email = %(slug)s || '-p'"
        f"   || (3 * substr(t.name, 6)::int - 2 + k) || '@' || %(org)s || '.example.com'"
        f" WHERE t.event_id = {event}",
        args,
    )
    conn.execute(
        f"INSERT INTO submissions (id, org_id, event_id, team_id, status, title, tagline,"
        f" repository_url, submitted_at, version_count)"
        f" SELECT gen_random_uuid(), {org}, {event}, t.id, 'submitted', 'Project of ' || t.name,"
        f" '+an idea', 'https://example.org/' || t.id, now() - interval '1 day', 1"
        f" FROM teams t WHERE t.event_id = {event} AND substr(t.name, 6)::int <= %(subs)s",
        args,
    )
    conn.execute(
        "INSERT INTO submission_files (id, org_id, event_id, team_id, submission_id,"
        " storage_key, name, content_type, kind, size, sha256)"
        " SELECT gen_random_uuid(), s.org_id, s.event_id, s.team_id, s.id, 'k/' || s.id || k,"
        " 'slides-' || k || '.pdf', 'application/pdf', 'pdf', 1234, md5(s.id::text || k)"
        " || md5(s.id::text || k)"
        f" FROM submissions s CROSS JOIN generate_series(1, 2) k WHERE s.event_id = {event}",
        args,
    )
    conn.execute(
        "INSERT INTO users (id, email, name, email_verified_at)"
        " SELECT gen_random_uuid(), %(slug)s || '-judge' || g || '@' || %(org)s || '.example.com',"
        " 'Judge ' || g, now() FROM generate_series(1, %(judges)s) g",
        args,
    )
    conn.execute(
        f"INSERT INTO event_roles (id, org_id, event_id, user_id, role)"
        f" SELECT gen_random_uuid(), {org}, {event}, u.id, 'judge'"
        f" FROM users u WHERE u.email LIKE %(slug)s || '-judge%%@' || %(org)s || '.example.com'",
        args,
    )
    conn.execute(
        f"INSERT INTO judging_criteria (id, org_id, event_id, name, max_score, position)"
        f" SELECT gen_random_uuid(), {org}, {event}, name, 10, pos"
        f" FROM (VALUES ('Impact', 0), ('Design', 1), ('Execution', 2)) c(name, pos)",
        args,
    )
    # Submission n gets judges n, n+1, n+2 (mod judges).
    conn.execute(
        f"WITH s AS (SELECT id, team_id, row_number() OVER (ORDER BY id) AS n FROM submissions"
        f"   WHERE event_id = {event}),"
        f" j AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS m FROM users"
        f"   WHERE email LIKE %(slug)s || '-judge%%@' || %(org)s || '.example.com'),"
        f" pairs AS (SELECT s.id AS sid, s.team_id, j.id AS jid"
        f"   FROM s CROSS JOIN generate_series(0, 2) k"
        f"   JOIN j ON j.m = (s.n + k) %% %(judges)s)"
        f" INSERT INTO judge_assignments (id, org_id, event_id, judge_id, submission_id)"
        f" SELECT gen_random_uuid(), {org}, {event}, jid, sid FROM pairs",
        args,
    )
    conn.execute(
        f"INSERT INTO evaluations (id, org_id, event_id, judge_id, submission_id, team_id,"
        f" scores, raw_score, status, submitted_at, feedback)"
        f" SELECT gen_random_uuid(), a.org_id, a.event_id, a.judge_id, a.submission_id, s.team_id,"
        f" (SELECT jsonb_object_agg(c.id::text, 7) FROM judging_criteria c"
        f"   WHERE c.event_id = a.event_id), 70, 'submitted', now(), 'Clear pitch.'"
        f" FROM judge_assignments a JOIN submissions s ON s.id = a.submission_id"
        f" WHERE a.event_id = {event}",
        args,
    )
    if not published:
        return
    # Published after the evaluations: the database refuses judging a published event.
    conn.execute(f"UPDATE events SET results_published_at = now() WHERE id = {event}", args)
    conn.execute(
        f"INSERT INTO event_results (event_id, org_id, method, ranking, winners)"
        f" SELECT {event}, {org}, 'judge_effect', coalesce(jsonb_agg(jsonb_build_object("
        f"   'rank', n, 'submission_id', id, 'title', title, 'team_name', 'Team', 'score', 0.7,"
        f"   'raw_mean', 70, 'evaluations', 3, 'track_ids', '[]'::jsonb, 'tracks', '[]'::jsonb)"
        f"   ORDER BY n), '[]'::jsonb), '[]'::jsonb"
        f" FROM (SELECT id, title, row_number() OVER (ORDER BY id) AS n FROM submissions"
        f"   WHERE event_id = {event}) ranked",
        args,
    )


def seed(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO organizations (id, slug, name)"
            " VALUES (gen_random_uuid(), 'bench', 'Bench')"
        )
        conn.execute(
            "INSERT INTO users (id, email, name, email_verified_at)"
            " VALUES (gen_random_uuid(), 'organizer@bench.example.com', 'Olga', now())"
        )
        conn.execute(
            "INSERT INTO org_memberships (id, org_id, user_id, role)"
            " SELECT gen_random_uuid(), o.id, u.id, 'owner' FROM organizations o, users u"
            " WHERE u.email = 'organizer@bench.example.com'"
        )
        conn.execute(
            "INSERT INTO auth_tokens (id, user_id, kind, token_hash, expires_at)"
            " SELECT gen_random_uuid(), id, 'session', encode(sha256(%s::bytea), 'hex'),"
            " now() + interval '1 day' FROM users WHERE email = 'organizer@bench.example.com'",
            (TOKEN,),
        )
        for slug, size in SIZES.items():
            seed_event(conn, slug, size)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def server_process(port: int) -> psutil.Process:
    """The uvicorn process listening on `port`."""
    for connection in psutil.net_connections(kind="tcp"):
        listening = connection.status == "LISTEN" and connection.pid is not None
        if listening and connection.laddr and connection.laddr.port == port:
            return psutil.Process(connection.pid)
    raise RuntimeError(f"no process listens on {port}")


class Sampler:
    """The peak RSS of a process while a request runs, sampled every 5 ms."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak = 0
        self.running = False
        self.thread: threading.Thread | None = None

    def __enter__(self) -> Sampler:
        self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self.running = False
        assert self.thread is not None
        self.thread.join()


def download(port: int, slug: str, dataset: str, fmt: str) -> tuple[int, float]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/organizations/bench/events/{slug}/exports/{dataset}.{fmt}",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    started = time.perf_counter()
    size = 0
    with urllib.request.urlopen(request, timeout=300) as response:
        while chunk := response.read(65536):
            size += len(chunk)
    return size, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    opts = parser.parse_args()
    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, DB_NAME)
        stack.callback(drop_database, admin, DB_NAME)
        seed(url)
        env = {
            "HACKOPS_ENV": "prod",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "BASE_URL": "https://bench.example.com",
            "DATABASE_URL": as_role(url, "hackops_app"),
            "DATABASE_ADMIN_URL": url,
            "STORAGE_URL": f"file://{tempfile.mkdtemp(prefix='hackops-bench-files-')}",
            "LOG_LEVEL": "WARNING",
            "RUN_WORKER_IN_PROCESS": "false",
        }
        port = stack.enter_context(
            server("hackops", ["hackops.main:app_factory", "--factory", "--no-access-log",
                               "--log-level", "warning"], env, free_port())
        )  # fmt: skip
        process = server_process(port)
        # Warm up: every code path once (imports, templates, the pool), on the small event.
        for dataset in DATASETS:
            for fmt in FORMATS:
                download(port, "small", dataset, fmt)
        start_rss = process.memory_info().rss
        worst: dict[str, float] = {}
        for round_ in range(1, opts.rounds + 1):
            for slug in SIZES:
                for dataset in DATASETS:
                    for fmt in FORMATS:
                        with Sampler(process) as sampler:
                            before = sampler.peak
                            size, seconds = download(port, slug, dataset, fmt)
                        growth = (sampler.peak - before) / 2**20
                        worst[slug] = max(worst.get(slug, 0.0), growth)
                        print(json.dumps({
                            "round": round_, "event": slug, "export": f"{dataset}.{fmt}",
                            "bytes": size, "seconds": round(seconds, 3),
                            "peak_rss_growth_mib": round(growth, 2),
                        }), flush=True)  # fmt: skip
        end_rss = process.memory_info().rss
        print(json.dumps({
            "largest_peak_rss_growth_mib": {k: round(v, 2) for k, v in worst.items()},
            "server_rss_mib": {"after_warm_up": round(start_rss / 2**20, 1),
                               "at_end": round(end_rss / 2**20, 1)},
            "sizes": SIZES,
        }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
