"""An announcement to 5,000 registered people: time from "send" until every in-app notification
is visible and every mail is queued.

    .venv/bin/python bench/announce.py [--runs 5] [--people 5000] [--in-process]

Seeds (in SQL, in a database of its own): one organization, one published event, its organizer
(with a session token), and PEOPLE registered participants with confirmed addresses. Then,
against HackOps as in production (the app role, RLS on, no in-process worker):

- `POST …/announcements` (`deliver: now`, in the app and by mail, to everyone registered) through
  a real uvicorn process;
- the fan-out runs in a real `hackops worker` process (its dispatch job is on the queue as soon
  as the request commits), or with `--in-process` in this process (`outbox.tasks.dispatch`
  called directly, no queue latency);
- the clock stops when the database holds one notification and one queued mail per person,
  keyed by the announcement's outbox event (polled every 20 ms on the owner's connection).
Between runs the queue drains (the 5,000 mail jobs of a run are sent to the dev mailbox), so
runs do not overlap. Reports each run and the medians: the request, the fan-out, the total.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from common import admin_url, as_role, drop_database, free_port, fresh_database, server  # noqa: E402

from hackops import jobs, wiring  # noqa: E402
from hackops.config import Settings  # noqa: E402
from hackops.db import Database  # noqa: E402
from hackops.observability import configure_logging  # noqa: E402
from hackops.outbox.tasks import dispatch  # noqa: E402

DB_NAME = "hackops_bench_announce"
TOKEN = "bench-organizer-token"
PATH = "/api/v1/organizations/bench/events/hack/announcements"


def seed(url: str, people: int) -> None:
    """The organization, its organizer, the event and `people` registered participants."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO organizations (id, slug, name, max_announcements_per_month)"
            " VALUES (gen_random_uuid(), 'bench', 'Bench', 1000)"
        )
        conn.execute(
            "INSERT INTO events (id, org_id, slug, name, visibility, published_at, timezone)"
            " SELECT gen_random_uuid(), id, 'hack', 'Hack', 'public', now(), 'Europe/Berlin'"
            " FROM organizations WHERE slug = 'bench'"
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
        conn.execute(
            "INSERT INTO users (id, email, name, email_verified_at)"
            " SELECT gen_random_uuid(), 'p' || g || '@bench.example.com', 'Person ' || g, now()"
            " FROM generate_series(1, %s) g",
            (people,),
        )
        conn.execute(
            "INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code)"
            " SELECT gen_random_uuid(), e.org_id, e.id, u.id, 'registered',"
            "        upper(substr(md5(u.id::text), 1, 10))"
            " FROM events e, users u WHERE u.email LIKE 'p%%@bench.example.com'"
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def send(port: int, title: str) -> tuple[uuid.UUID, float]:
    """POST the announcement; its id and the request's seconds."""
    payload = {
        "title": title,
        "body": "The final pitches are in **Hall B**.\n\n- doors at 17:30\n- bring your badge",
        "audience": "registered",
        "channels": ["in_app", "email"],
        "deliver": "now",
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{PATH}",
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    return uuid.UUID(body["id"]), time.perf_counter() - started


def outbox_event_of(conn: psycopg.Connection[Any], announcement_id: uuid.UUID) -> uuid.UUID:
    row = conn.execute(
        "SELECT outbox_event_id FROM announcements WHERE id = %s", (announcement_id,)
    ).fetchone()
    assert row is not None
    assert row[0] is not None
    return uuid.UUID(str(row[0]))


def delivered(conn: psycopg.Connection[Any], event_id: uuid.UUID) -> tuple[int, int]:
    notes = conn.execute(
        "SELECT count(*) FROM notifications WHERE dedupe_key = %s", (str(event_id),)
    ).fetchone()
    mails = conn.execute(
        "SELECT count(*) FROM outbound_emails WHERE dedupe_key LIKE %s", (f"{event_id}:%",)
    ).fetchone()
    assert notes is not None
    assert mails is not None
    return int(notes[0]), int(mails[0])


def wait_until_delivered(
    conn: psycopg.Connection[Any], event_id: uuid.UUID, people: int, timeout: float = 300
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if delivered(conn, event_id) == (people, people):
            return
        time.sleep(0.02)
    raise RuntimeError(f"not delivered after {timeout} s: {delivered(conn, event_id)}")


def drain(conn: psycopg.Connection[Any], timeout: float = 600) -> None:
    """Wait until the worker has no job left to do (the mails of the last run sent)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
            " AND task_name <> 'announcements.send_scheduled'"
        ).fetchone()
        if row is not None and row[0] == 0:
            return
        time.sleep(0.5)
    raise RuntimeError("the queue did not drain")


@contextmanager
def worker(env: dict[str, str]) -> Any:
    process = subprocess.Popen(
        [sys.executable, "-m", "hackops", "worker"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def dispatch_in_process(env: dict[str, str], event_id: uuid.UUID) -> None:
    """Run the outbox dispatcher's job body here, on a Database of this process."""
    os.environ.update(env)

    async def run() -> None:
        settings = Settings()  # type: ignore[call-arg]
        configure_logging("WARNING", json=False)
        wiring.connect()
        database = Database.from_settings(settings)
        jobs.bind_database(database, settings)
        try:
            await dispatch(str(event_id))
        finally:
            await database.dispose()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument(
        "--in-process", action="store_true", help="run the fan-out here, not in a worker"
    )
    opts = parser.parse_args()
    if opts.runs > 10:
        parser.error("at most 10 runs: the organization's hourly budget is 10 announcements")

    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, DB_NAME)
        stack.callback(drop_database, admin, DB_NAME)
        seed(url, opts.people)
        env = {
            "HACKOPS_ENV": "prod",
            "SECRET_KEY": secrets.token_urlsafe(48),
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
        if not opts.in_process:
            stack.enter_context(worker(env))
        conn = stack.enter_context(psycopg.connect(url, autocommit=True))
        rows: list[dict[str, float]] = []
        for run in range(1, opts.runs + 1):
            started = time.perf_counter()
            announcement_id, request_s = send(port, f"Room change {run}")
            event_id = outbox_event_of(conn, announcement_id)
            if opts.in_process:
                dispatch_in_process(env, event_id)
            wait_until_delivered(conn, event_id, opts.people)
            total_s = time.perf_counter() - started
            row = {
                "request_s": round(request_s, 3),
                "fan_out_s": round(total_s - request_s, 3),
                "total_s": round(total_s, 3),
            }
            rows.append(row)
            print(json.dumps({"run": run, "people": opts.people, **row}), flush=True)
            if not opts.in_process:
                drain(conn)
        medians = {key: round(statistics.median(r[key] for r in rows), 3) for key in rows[0]}
        mode = "in-process dispatch" if opts.in_process else "hackops worker process"
        print(json.dumps({"median": medians, "runs": len(rows), "people": opts.people,
                          "mode": mode}))  # fmt: skip


if __name__ == "__main__":
    main()
