"""Live notifications: how long from the commit of `deliver` until every open socket has its
notification, with the sockets spread over several web processes (LISTEN/NOTIFY fan-out), and
what the header badge's count costs.

    .venv/bin/python bench/notifications_push.py --people 1000 --workers 2 --rounds 3

Each round, ONE transaction delivers a notification to every person (as an announcement to all
of them would) and commits; the clock starts at the commit. Reported per round: sockets reached,
p50 / p95 / max latency. Then the badge query (`centre.unread_count`, capped at 100) for a
person with 20,000 notifications: its plan (the partial index `ix_notifications_unread`) and
its median time over 200 runs.

Database: as bench/http_baseline.py (a `hackops_bench_push` database, dropped at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import admin_url, as_role, drop_database, free_port, fresh_database, server  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from hackops.accounts.credentials import new_secret  # noqa: E402
from hackops.config import to_sqlalchemy_url  # noqa: E402
from hackops.db import make_sessionmaker  # noqa: E402
from hackops.models import Channel  # noqa: E402
from hackops.notifications.centre import BADGE_CAP, unread_count  # noqa: E402
from hackops.notifications.service import Message, deliver  # noqa: E402
from hackops.tenancy import set_actor  # noqa: E402

DB_NAME = "hackops_bench_push"


def people(url: str, count: int) -> list[tuple[uuid.UUID, str]]:
    """`count` confirmed people, each with a session token; (id, raw token)."""
    made: list[tuple[uuid.UUID, str]] = []
    expires = datetime.now(UTC) + timedelta(days=1)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        users, tokens = [], []
        for n in range(count):
            user_id = uuid.uuid4()
            raw, hashed = new_secret()
            users.append((user_id, f"push-{n}@bench.example", datetime.now(UTC)))
            tokens.append((uuid.uuid4(), user_id, "session", hashed, expires, expires))
            made.append((user_id, raw))
        cur.executemany(
            "INSERT INTO users (id, email, email_verified_at) VALUES (%s, %s, %s)", users
        )
        cur.executemany(
            "INSERT INTO auth_tokens (id, user_id, kind, token_hash, expires_at, last_used_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            tokens,
        )
    return made


async def open_sockets(port: int, who: list[tuple[uuid.UUID, str]]) -> list[ClientConnection]:
    async def one(raw: str) -> ClientConnection:
        socket = await connect(
            f"ws://127.0.0.1:{port}/ws/notifications",
            additional_headers={"Authorization": f"Bearer {raw}"},
            open_timeout=60,
        )
        first = json.loads(await socket.recv())
        assert first["type"] == "unread", first
        return socket

    sockets: list[ClientConnection] = []
    for start in range(0, len(who), 100):  # in waves: the handshakes check tokens
        sockets += await asyncio.gather(*(one(raw) for _, raw in who[start : start + 100]))
    return sockets


async def until_notified(socket: ClientConnection, title: str) -> float:
    while True:
        message = json.loads(await socket.recv())
        if message["type"] == "notification" and message["notification"]["title"] == title:
            return time.perf_counter()


async def one_round(
    url: str, sockets: list[ClientConnection], ids: list[uuid.UUID], n: int
) -> dict[str, float]:
    title = f"Round {n}: the final pitches start at 14:00 in Hall B"
    waiting = [asyncio.create_task(until_notified(s, title)) for s in sockets]
    engine = create_async_engine(to_sqlalchemy_url(url))
    async with make_sessionmaker(engine)() as session:
        await set_actor(session, None, platform_admin=True)
        await deliver(
            session,
            org_id=None,
            user_ids=ids,
            message=Message(
                category="announcements", title=title, channels=frozenset({Channel.IN_APP})
            ),
            dedupe_key=f"bench-{n}",
        )
        await session.commit()
        committed = time.perf_counter()
    await engine.dispose()
    arrived = await asyncio.wait_for(asyncio.gather(*waiting), 120)
    latencies = sorted((at - committed) * 1000 for at in arrived)
    return {
        "reached": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1),
        "max_ms": round(latencies[-1], 1),
    }


async def badge_cost(url: str) -> dict[str, object]:
    with psycopg.connect(url) as conn:
        user_id = uuid.uuid4()
        conn.execute("INSERT INTO users (id, email) VALUES (%s, 'badge@bench.example')", (user_id,))
        conn.execute(
            "INSERT INTO notifications (id, user_id, dedupe_key, category, title, read_at)"
            " SELECT gen_random_uuid(), %s, 'b' || g, 'team', 'News ' || g,"
            " CASE WHEN g %% 10 = 0 THEN NULL ELSE now() END"
            " FROM generate_series(1, 20000) g",
            (user_id,),
        )
        conn.execute("ANALYZE notifications")
    engine = create_async_engine(to_sqlalchemy_url(url))
    async with make_sessionmaker(engine)() as session:
        await set_actor(session, user_id)
        plan = await session.execute(
            text(
                "EXPLAIN SELECT count(*) FROM notifications WHERE user_id = :u AND read_at IS NULL"
            ),
            {"u": user_id},
        )
        uses_index = any("ix_notifications_unread" in row[0] for row in plan)
        times = []
        for _ in range(200):
            started = time.perf_counter()
            count = await unread_count(session, user_id, cap=BADGE_CAP)
            times.append((time.perf_counter() - started) * 1000)
    await engine.dispose()
    return {
        "unread_of_20000": count,
        "uses_ix_notifications_unread": uses_index,
        "median_ms": round(statistics.median(times), 3),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with ExitStack() as stack:
        admin = admin_url(stack)
        url = await asyncio.to_thread(fresh_database, admin, DB_NAME)
        stack.callback(drop_database, admin, DB_NAME)
        who = people(url, args.people)
        port = free_port()
        env = {
            "HACKOPS_ENV": "dev",
            "DATABASE_URL": as_role(url, "hackops_app"),
            "DATABASE_ADMIN_URL": url,
            "LOG_LEVEL": "WARNING",
            "DATABASE_POOL_SIZE": "10",
        }
        cmd = ["--factory", "hackops.main:app_factory", "--workers", str(args.workers)]
        stack.enter_context(server("hackops", cmd, env, port))
        sockets = await open_sockets(port, who)
        rounds = [await one_round(url, sockets, [i for i, _ in who], n) for n in range(args.rounds)]
        for socket in sockets:
            await socket.close()
        report = {
            "people": args.people,
            "web_processes": args.workers,
            "rounds": rounds,
            "badge": await badge_cost(url),
            "cpu_count": os.cpu_count(),
        }
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
