"""Slow uploads against the connection pool: ordinary requests measured meanwhile.

    .venv/bin/python bench/slow_uploads.py [--uploads 40] [--interval 5] [--duration 60]

Seeds (in SQL, in a database of its own) one organization, an open event and a team of
`--uploads` members, each with a sign-in token. Starts HackOps (uvicorn, one process, a pool of
`--pool` connections and no overflow, production settings). Then, in the same run:

1. baseline: `GET /api/v1/me` from `--clients` closed-loop clients for `--measure` seconds;
2. slow uploads: every member uploads a PNG the way a bad mobile link does: the first bytes at
   once, then one byte every `--interval` seconds for about `--duration` seconds, then the rest.
   While they are all in flight, the same `GET /api/v1/me` load for `--measure` seconds, and
   pg_stat_activity is sampled for the app's connections left "idle in transaction".

Reports p50/p99 of both phases, their ratio, status counts, the uploads' statuses and the most
connections seen idle in transaction. Target: p99 under 1 s during the uploads; 0 idle in
transaction. Prints JSON, writes it to bench/results/, exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from common import admin_url, as_role, drop_database, free_port, fresh_database, server  # noqa: E402

from hackops.accounts.credentials import new_secret  # noqa: E402
from hackops.models import new_id  # noqa: E402

DB_NAME = "hackops_bench_slow_uploads"
P99_TARGET_S = 1.0


@dataclass
class Scene:
    """An open event with one team; `tokens[i]` signs in its i-th member."""

    org_slug: str
    event_slug: str
    team_id: str
    tokens: list[str]

    @property
    def files_url(self) -> str:
        return (
            f"/api/v1/organizations/{self.org_slug}/events/{self.event_slug}"
            f"/teams/{self.team_id}/submission/files"
        )


def seed(db_url: str, members: int) -> Scene:
    """The organization, the event (open for submissions, room for a file per member) and the
    team, written as the database owner."""
    org_id, event_id, team_id = new_id(), new_id(), new_id()
    org_slug, event_slug = f"slow-{secrets.token_hex(3)}", f"e-{secrets.token_hex(3)}"
    tokens: list[str] = []
    users: list[tuple[Any, ...]] = []
    auth: list[tuple[Any, ...]] = []
    for i in range(members):
        user_id = new_id()
        raw, hashed = new_secret()
        tokens.append(raw)
        users.append((user_id, f"m{i}-{event_slug}@slow.example", f"Member {i}"))
        auth.append((new_id(), user_id, hashed))
    with psycopg.connect(db_url) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO organizations (id, slug, name) VALUES (%s, %s, 'Slow')", (org_id, org_slug)
        )
        cur.execute(
            "INSERT INTO events (id, org_id, slug, name, visibility, published_at, starts_at,"
            " submissions_close_at, team_max, file_max_count)"
            " VALUES (%s, %s, %s, %s, 'public', now() - interval '2 days',"
            " now() - interval '1 day', now() + interval '1 day', %s, %s)",
            (event_id, org_id, event_slug, event_slug, members, max(members * 2, 10)),
        )
        cur.executemany(
            "INSERT INTO users (id, email, name, email_verified_at) VALUES (%s, %s, %s, now())",
            users,
        )
        cur.executemany(
            "INSERT INTO auth_tokens (id, user_id, kind, token_hash, scopes, expires_at,"
            " last_used_at) VALUES (%s, %s, 'session', %s, '{read,write}',"
            " now() + interval '1 day', now() + interval '1 day')",
            auth,
        )
        cur.executemany(
            "INSERT INTO registrations (id, org_id, event_id, user_id, status, checkin_code)"
            " VALUES (%s, %s, %s, %s, 'registered', %s)",
            [(new_id(), org_id, event_id, u[0], secrets.token_hex(5).upper()) for u in users],
        )
        cur.execute(
            "INSERT INTO teams (id, org_id, event_id, name, captain_id, join_code, max_members)"
            " VALUES (%s, %s, %s, 'Slow team', %s, %s, %s)",
            (team_id, org_id, event_id, users[0][0], secrets.token_hex(4).upper(), members),
        )
        cur.executemany(
            "INSERT INTO team_members (id, org_id, event_id, team_id, user_id, role)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (new_id(), org_id, event_id, team_id, u[0], "captain" if i == 0 else "member")
                for i, u in enumerate(users)
            ],
        )
    return Scene(org_slug, event_slug, str(team_id), tokens)


def app_env(db_url: str, *, pool: int, **extra: str) -> dict[str, str]:
    """HackOps' environment for `common.server`: production mode on the bench database."""
    return {
        "HACKOPS_ENV": "prod",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": as_role(db_url, "hackops_app"),
        "DATABASE_ADMIN_URL": db_url,
        "STORAGE_URL": f"file://{tempfile.mkdtemp(prefix='hackops-bench-files-')}",
        "BASE_URL": "http://127.0.0.1:8000",
        "LOG_LEVEL": "WARNING",
        "DATABASE_POOL_SIZE": str(pool),
        "DATABASE_MAX_OVERFLOW": "0",
        **extra,
    }


APP_ARGS = ["hackops.main:app_factory", "--factory", "--no-access-log", "--log-level", "warning"]


def png(extra: int = 0) -> bytes:
    """A small valid PNG (its structure check reads the header), `extra` bytes longer."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\x80\x80\x80"))
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"") + b"\x00" * extra


async def slow_upload(
    http: httpx2.AsyncClient, scene: Scene, token: str, *, trickle: int, interval: float
) -> httpx2.Response:
    """One upload: the file's first 64 bytes at once, then `trickle` single bytes `interval`
    seconds apart, then the rest."""
    data = png(extra=trickle + 64)
    head, middle, tail = data[:64], data[64 : 64 + trickle], data[64 + trickle :]

    async def body() -> Any:
        yield head
        for byte in middle:
            await asyncio.sleep(interval)
            yield bytes([byte])
        yield tail

    return await http.post(
        scene.files_url,
        params={"name": f"slow-{secrets.token_hex(3)}.png"},
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/octet-stream",
            "Content-Length": str(len(data)),
        },
        content=body(),
        timeout=None,
    )


def idle_in_transaction(db_url: str, *, seconds: float = 1.0) -> int:
    """The app's connections to this database idle inside an open transaction for over
    `seconds` (a request between two of its statements is idle in transaction for microseconds)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'hackops' AND state LIKE 'idle in transaction%%'"
            " AND state_change < now() - make_interval(secs => %s)",
            (seconds,),
        ).fetchone()
    return int(row[0]) if row else 0


async def ordinary_load(
    base_url: str, token: str, *, clients: int, seconds: float
) -> tuple[list[float], Counter[int]]:
    """Closed-loop `GET /api/v1/me`: latencies (s) and status counts (0: no answer)."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + seconds
    limits = httpx2.Limits(max_connections=clients)
    async with httpx2.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:

        async def loop() -> None:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    response = await http.get(
                        "/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                    )
                    statuses[response.status_code] += 1
                except httpx2.HTTPError:
                    statuses[0] += 1
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(loop() for _ in range(clients)))
    return latencies, statuses


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def summary(latencies: list[float], statuses: Counter[int]) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies, default=0) * 1000, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


async def run(base_url: str, db_url: str, scene: Scene, args: argparse.Namespace) -> dict[str, Any]:
    me_token = scene.tokens[0]
    base = await ordinary_load(base_url, me_token, clients=args.clients, seconds=args.measure)
    trickle = max(1, int(args.duration / args.interval))
    limits = httpx2.Limits(max_connections=args.uploads + 5)
    async with httpx2.AsyncClient(base_url=base_url, limits=limits) as http:
        uploads = [
            asyncio.create_task(
                slow_upload(http, scene, token, trickle=trickle, interval=args.interval)
            )
            for token in scene.tokens[: args.uploads]
        ]
        await asyncio.sleep(min(3.0, args.interval))  # every upload is in flight
        idle: list[int] = []

        async def sample() -> None:
            while not all(task.done() for task in uploads):
                idle.append(await asyncio.to_thread(idle_in_transaction, db_url))
                await asyncio.sleep(1)

        sampler = asyncio.create_task(sample())
        during = await ordinary_load(
            base_url, me_token, clients=args.clients, seconds=min(args.measure, args.duration - 5)
        )
        results = await asyncio.gather(*uploads, return_exceptions=True)
        await sampler
    upload_statuses = Counter(
        r.status_code if isinstance(r, httpx2.Response) else type(r).__name__ for r in results
    )
    baseline, loaded = summary(*base), summary(*during)
    return {
        "uploads": args.uploads,
        "upload_seconds": round(trickle * args.interval, 1),
        "pool": args.pool,
        "baseline": baseline,
        "during_uploads": loaded,
        "p99_ratio": round(loaded["p99_ms"] / max(baseline["p99_ms"], 0.1), 2),
        "upload_statuses": {str(k): v for k, v in upload_statuses.items()},
        "max_idle_in_transaction": max(idle, default=0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between bytes")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of trickling")
    parser.add_argument("--measure", type=float, default=30.0, help="seconds of ordinary load")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pool", type=int, default=30)
    args = parser.parse_args()
    with ExitStack() as stack:
        admin = admin_url(stack)
        url = fresh_database(admin, DB_NAME)
        stack.callback(drop_database, admin, DB_NAME)
        scene = seed(url, members=args.uploads)
        port = stack.enter_context(
            server("hackops", APP_ARGS, app_env(url, pool=args.pool), free_port())
        )
        report = asyncio.run(run(f"http://127.0.0.1:{port}", url, scene, args))
    report["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(json.dumps(report, indent=2))
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "slow_uploads.json").write_text(json.dumps(report, indent=2) + "\n")
    ok = (
        report["during_uploads"]["p99_ms"] < P99_TARGET_S * 1000
        and report["max_idle_in_transaction"] == 0
        and report["upload_statuses"] == {"201": args.uploads}
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
