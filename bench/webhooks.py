"""Webhook deliveries per second to a local receiver.

    .venv/bin/python bench/webhooks.py [--events 2000] [--endpoints 4] [--concurrency 4 8 16]

In a database of its own: one organization with `--endpoints` endpoints, each at its own path of
a receiver on 127.0.0.1 — a process of its own that checks every request's signature with the
`standardwebhooks` library and answers 200 at once. For each worker concurrency: `--events`
`webhook.test` events are emitted through the outbox (round-robin over the endpoints) before
the worker starts, then `hackops worker --concurrency N` (a process, every queue, production
logging) dispatches them and delivers every one. Reported per concurrency:

- deliveries/s over the delivery stage (first attempt started → last attempt recorded);
- end to end from the worker's start (dispatch jobs included, the worker's start-up too);
- the attempts' latency p50 / p95 as the delivery log records it;
- what the receiver saw: requests, signatures verified, distinct webhook-ids.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from common import admin_url, as_role, drop_database, free_port, fresh_database  # noqa: E402

DB_NAME = "hackops_bench_webhooks"


# --- the receiver (a process of its own: `--receiver PORT`) ----------------------------------


async def receive(port: int, secrets_by_path: dict[str, str]) -> None:
    from standardwebhooks import Webhook
    from standardwebhooks.webhooks import WebhookVerificationError

    hooks = {path: Webhook(secret) for path, secret in secrets_by_path.items()}
    seen = {"requests": 0, "verified": 0}
    ids: set[str] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                path = line.decode().split(" ")[1]
                headers: dict[str, str] = {}
                while (raw := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = raw.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if path == "/stats":
                    answer = json.dumps({**seen, "distinct_ids": len(ids)}).encode()
                else:
                    seen["requests"] += 1
                    ids.add(headers.get("webhook-id", ""))
                    try:
                        hooks[path].verify(body, headers)
                        seen["verified"] += 1
                    except (KeyError, WebhookVerificationError):
                        pass
                    answer = b"ok"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer)
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=512)
    async with server:
        await server.serve_forever()


def stats(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as answer:
        result: dict[str, int] = json.loads(answer.read())
        return result


# --- the run ---------------------------------------------------------------------------------


def settings_env(url: str, secret_key: str, concurrency: int) -> dict[str, str]:
    return {
        "HACKOPS_ENV": "dev",  # the receiver is on 127.0.0.1: loopback needs dev mode
        "WEBHOOK_ALLOW_LOOPBACK": "true",
        "SECRET_KEY": secret_key,
        "DATABASE_URL": as_role(url, "hackops_app"),
        "DATABASE_ADMIN_URL": url,
        "STORAGE_URL": "memory://",
        "LOG_LEVEL": "INFO",
        "LOG_JSON": "true",
        "WORKER_CONCURRENCY": str(concurrency),
        "WORKER_POLLING_INTERVAL": "0.5",
        "DATABASE_POOL_SIZE": str(concurrency + 4),
    }


async def seed(url: str, secret_key: str, receiver_port: int, endpoints: int) -> dict[str, Any]:
    """The organization and its endpoints; the secrets by receiver path."""
    from hackops.models import new_id
    from hackops.webhooks.signing import new_secret, seal

    org_id = new_id()
    made: list[tuple[Any, str]] = []
    by_path: dict[str, str] = {}
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO organizations (id, slug, name) VALUES (%s, 'bench', 'Bench')", (org_id,)
        )
        for n in range(endpoints):
            endpoint_id, secret, path = new_id(), new_secret(), f"/hook-{n}"
            conn.execute(
                "INSERT INTO webhook_endpoints (id, org_id, url, secret_sealed)"
                " VALUES (%s, %s, %s, %s)",
                (
                    endpoint_id,
                    org_id,
                    f"http://127.0.0.1:{receiver_port}{path}",
                    seal(secret, endpoint_id=endpoint_id, secret_key=secret_key),
                ),
            )
            made.append((endpoint_id, path))
            by_path[path] = secret
    return {"org_id": org_id, "endpoints": [e for e, _ in made], "secrets": by_path}


async def emit_events(url: str, secret_key: str, org_id: Any, endpoints: list[Any], n: int) -> None:
    """`n` webhook.test events through the outbox (each with its dispatch job), one commit."""
    from hackops import jobs
    from hackops.actor import SYSTEM
    from hackops.config import Settings
    from hackops.db import Database
    from hackops.outbox.catalog import WebhookTest
    from hackops.outbox.service import emit
    from hackops.tenancy import set_tenant

    settings = Settings(
        hackops_env="dev",
        secret_key=secret_key,
        database_url=as_role(url, "hackops_app"),
        _env_file=None,  # type: ignore[call-arg]
    )
    database = Database.from_settings(settings)
    jobs.bind_database(database, settings)
    try:
        async with database.transaction() as session:
            await set_tenant(session, org_id)
            for i in range(n):
                endpoint_id = endpoints[i % len(endpoints)]
                await emit(session, SYSTEM, WebhookTest(endpoint_id=endpoint_id), org_id=org_id)
    finally:
        await database.dispose()


def reset(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM outbox_events")
        conn.execute("UPDATE webhook_endpoints SET consecutive_failures = 0, failing_since = NULL")
        conn.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers"
            " CASCADE"
        )
        conn.execute("DELETE FROM procrastinate_workers")


def delivered(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'"
        ).fetchone()
        return int(row[0]) if row else 0


def figures(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            """
            SELECT count(*),
                   extract(epoch FROM max(started_at + latency_ms * interval '1 millisecond')
                                      - min(started_at)),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms),
                   count(*) FILTER (WHERE NOT succeeded)
            FROM webhook_attempts
            """
        ).fetchone()
    assert row is not None
    attempts, span, p50, p95, failed = row
    return {
        "attempts": attempts,
        "failed_attempts": failed,
        "delivery_stage_s": round(float(span), 2),
        "deliveries_per_s": round(attempts / float(span), 1) if span else None,
        "latency_p50_ms": round(float(p50), 1),
        "latency_p95_ms": round(float(p95), 1),
    }


def run_once(
    url: str, secret_key: str, seeded: dict[str, Any], events: int, concurrency: int, port: int
) -> dict[str, Any]:
    reset(url)
    before = stats(port)
    asyncio.run(emit_events(url, secret_key, seeded["org_id"], seeded["endpoints"], events))
    env = {**os.environ, **settings_env(url, secret_key, concurrency)}
    started = time.monotonic()
    worker = subprocess.Popen(
        [sys.executable, "-m", "hackops", "worker", "--concurrency", str(concurrency)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = started + 600
        while delivered(url) < events:
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"only {delivered(url)} of {events} delivered")
            time.sleep(0.1)
        end_to_end = time.monotonic() - started
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    after = stats(port)
    result = figures(url)
    result.update(
        concurrency=concurrency,
        events=events,
        end_to_end_s=round(end_to_end, 2),
        end_to_end_per_s=round(events / end_to_end, 1),
        receiver={k: after[k] - before.get(k, 0) for k in ("requests", "verified")},
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--endpoints", type=int, default=4)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.receiver:
        asyncio.run(receive(opts.receiver, json.loads(os.environ["BENCH_SECRETS"])))
        return

    secret_key = secrets.token_urlsafe(48)
    port = free_port()
    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, DB_NAME)
        stack.callback(drop_database, admin, DB_NAME)
        seeded = asyncio.run(seed(url, secret_key, port, opts.endpoints))
        receiver = subprocess.Popen(
            [sys.executable, __file__, "--receiver", str(port)],
            env={**os.environ, "BENCH_SECRETS": json.dumps(seeded["secrets"])},
        )
        stack.callback(receiver.kill)
        deadline = time.monotonic() + 20
        while True:
            try:
                stats(port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        runs = [run_once(url, secret_key, seeded, opts.events, c, port) for c in opts.concurrency]

    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "endpoints": opts.endpoints,
        "runs": runs,
    }
    print(json.dumps(report, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"webhooks-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json").write_text(
        json.dumps(report, indent=2)
    )


if __name__ == "__main__":
    main()
