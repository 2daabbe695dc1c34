"""Seats under concurrency, through the real HTTP stack and connection pool.

A uvicorn server on 127.0.0.1 with its own migrated database and a pool big enough for the
crowd; clients are released together by an `asyncio.Barrier`; every scenario runs 20 times on a
fresh event and the database is checked afterwards (as the owner, which sees every row).
People and their sign-in tokens are written straight into the database: sign-up is not under
test here.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import psycopg
import pytest

from hackops.accounts.credentials import new_secret
from hackops.models import new_id
from tests.conftest import APP_ROLE, _free_port, _migrated_database, as_role, make_settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REPEATS = int(os.environ.get("SEATS_REPEATS", "20"))
CROWD = 200
CAPACITY = 50
POOL = 20  # server connections: the crowd queues for them (10 s pool timeout), then for the lock


@dataclass
class World:
    base_url: str
    db_url: str
    org_id: str
    org_slug: str
    tokens: list[str]  # one per person, CROWD of them


@pytest.fixture(scope="module")
def world(server_admin_url: str, storage_dir: Path) -> Iterator[World]:
    for db_url in _migrated_database(server_admin_url, "hackops_seats"):
        yield from _serve(db_url, storage_dir)


def _serve(db_url: str, storage_dir: Path) -> Iterator[World]:
    org_id, slug = str(new_id()), f"seats-{secrets.token_hex(3)}"
    tokens: list[str] = []
    with psycopg.connect(db_url, autocommit=True) as conn:
        if os.environ.get("SEATS_SYNC_COMMIT", "") != "on":
            # A throwaway database: waiting for the disk on each of the thousands of commits
            # would measure the disk, not the locking under test.
            conn.execute(f'ALTER DATABASE "{conn.info.dbname}" SET synchronous_commit = off')
        conn.execute(
            "INSERT INTO organizations (id, slug, name) VALUES (%s, %s, 'Seats')", (org_id, slug)
        )
        with conn.cursor() as cur:
            users, rows = [], []
            for i in range(CROWD):
                user_id = new_id()
                raw, hashed = new_secret()
                tokens.append(raw)
                users.append((user_id, f"p{i}@seats.example", f"Person {i}"))
                rows.append((new_id(), user_id, hashed))
            cur.executemany(
                "INSERT INTO users (id, email, name, email_verified_at) VALUES (%s, %s, %s, now())",
                users,
            )
            cur.executemany(
                "INSERT INTO auth_tokens (id, user_id, kind, token_hash, scopes, expires_at,"
                " last_used_at) VALUES (%s, %s, 'session', %s, '{read,write}',"
                " now() + interval '1 day', now() + interval '1 day')",
                rows,
            )
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = make_settings(db_url, storage_dir, base_url=base_url)
    env = {
        **os.environ,
        "HACKOPS_ENV": "test",
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "DATABASE_URL": as_role(db_url, APP_ROLE),
        "DATABASE_ADMIN_URL": db_url,
        "STORAGE_URL": f"file://{storage_dir}",
        "DATA_DIR": str(storage_dir),
        "BASE_URL": base_url,
        "LOG_JSON": "false",
        "LOG_LEVEL": "ERROR",
        "DATABASE_POOL_SIZE": str(POOL),
        "DATABASE_MAX_OVERFLOW": "0",
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
    }
    # A process of its own: the server and the crowd of clients do not share one GIL.
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "hackops.main:app_factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backlog",
            "4096",
            "--timeout-keep-alive",
            "300",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        preexec_fn=_die_with_parent,
    )
    try:
        for _ in range(300):
            try:
                if httpx2.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("server did not start")
        yield World(base_url, db_url, org_id, slug, tokens)
    finally:
        server.terminate()
        server.wait(timeout=15)


def _die_with_parent() -> None:
    """The server goes when the test process goes, even when it is killed (Linux)."""
    if sys.platform == "linux":
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def new_event(world: World, *, waitlist: bool = True) -> str:
    slug = f"e-{secrets.token_hex(4)}"
    with psycopg.connect(world.db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO events (id, org_id, slug, name, capacity, waitlist_enabled,"
            " published_at) VALUES (%s, %s, %s, %s, %s, %s, now() - interval '1 day')",
            (new_id(), world.org_id, slug, slug, CAPACITY, waitlist),
        )
    return slug


def facts(world: World, event_slug: str) -> dict[str, Any]:
    with psycopg.connect(world.db_url) as conn:
        event_id, capacity, counter = conn.execute(
            "SELECT id, capacity, registered_count FROM events WHERE slug = %s", (event_slug,)
        ).fetchone()  # type: ignore[misc]
        statuses: dict[str, int] = dict(
            conn.execute(
                "SELECT status, count(*) FROM registrations WHERE event_id = %s GROUP BY status",
                (event_id,),
            ).fetchall()
        )
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT user_id) FROM registrations WHERE event_id = %s",
            (event_id,),
        ).fetchone()
        promoted = [
            int(seq)
            for (seq,) in conn.execute(
                "SELECT (details->>'queue_seq')::bigint FROM audit_log"
                " WHERE action = 'registration.promoted' AND resource_id IN"
                " (SELECT id::text FROM registrations WHERE event_id = %s) ORDER BY id",
                (event_id,),
            )
        ]
        waiting = [
            int(seq)
            for (seq,) in conn.execute(
                "SELECT queue_seq FROM registrations WHERE event_id = %s AND status = 'waitlisted'"
                " ORDER BY queue_seq",
                (event_id,),
            )
        ]
    seated = statuses.get("registered", 0) + statuses.get("checked_in", 0)
    return {
        "capacity": capacity,
        "counter": counter,
        "statuses": statuses,
        "seated": seated,
        "rows": rows,
        "promoted": promoted,
        "waiting": waiting,
    }


def client(size: int, world: World) -> httpx2.AsyncClient:
    limits = httpx2.Limits(max_connections=size, max_keepalive_connections=size)
    return httpx2.AsyncClient(base_url=world.base_url, limits=limits, timeout=60)


async def warm(http: httpx2.AsyncClient, size: int) -> None:
    """Open the connections first, so the barrier releases requests, not TCP handshakes."""
    await asyncio.gather(*(http.get("/health") for _ in range(size)))


async def together(http: httpx2.AsyncClient, calls: list[tuple[str, str, str]]) -> list[Any]:
    """Send every (method, url, token) at once: all wait at one barrier, then go."""
    barrier = asyncio.Barrier(len(calls))

    async def one(method: str, url: str, token: str) -> httpx2.Response:
        await barrier.wait()
        return await http.request(
            method, url, headers={"Authorization": f"Bearer {token}"}, json={}
        )

    return list(await asyncio.gather(*(one(*c) for c in calls)))


def url(world: World, event_slug: str, tail: str) -> str:
    return f"/api/v1/organizations/{world.org_slug}/events/{event_slug}/registrations{tail}"


def codes(responses: list[httpx2.Response]) -> Counter[Any]:
    return Counter(
        (r.status_code, r.json()["error"]["code"] if r.status_code >= 400 else "")
        for r in responses
    )


async def test_200_people_for_50_seats(world: World) -> None:
    async with client(CROWD, world) as http:
        await warm(http, CROWD)
        started = time.perf_counter()
        for _ in range(REPEATS):
            slug = new_event(world)
            calls = [("POST", url(world, slug, ""), t) for t in world.tokens]
            responses = await together(http, calls)
            assert codes(responses) == {(201, ""): CROWD}
            got = Counter(r.json()["status"] for r in responses)
            assert got == {"registered": CAPACITY, "waitlisted": CROWD - CAPACITY}
            f = facts(world, slug)
            assert f["statuses"] == {"registered": CAPACITY, "waitlisted": CROWD - CAPACITY}
            assert f["counter"] == CAPACITY
    report(f"200 for 50 seats x{REPEATS}", started)


async def test_200_people_for_50_seats_without_waitlist(world: World) -> None:
    async with client(CROWD, world) as http:
        await warm(http, CROWD)
        started = time.perf_counter()
        for _ in range(REPEATS):
            slug = new_event(world, waitlist=False)
            calls = [("POST", url(world, slug, ""), t) for t in world.tokens]
            responses = await together(http, calls)
            assert codes(responses) == {(201, ""): CAPACITY, (409, "event_full"): CROWD - CAPACITY}
            f = facts(world, slug)
            assert f["statuses"] == {"registered": CAPACITY}
            assert f["counter"] == CAPACITY
    report(f"200 for 50 seats, no waitlist x{REPEATS}", started)


async def test_one_person_registering_50_times_at_once(world: World) -> None:
    async with client(50, world) as http:
        await warm(http, 50)
        started = time.perf_counter()
        for i in range(REPEATS):
            slug = new_event(world)
            responses = await together(http, [("POST", url(world, slug, ""), world.tokens[i])] * 50)
            assert codes(responses) == {(201, ""): 1, (409, "already_registered"): 49}
            f = facts(world, slug)
            assert f["rows"] == (1, 1)
            assert f["counter"] == 1
    report(f"1 person x50 at once x{REPEATS}", started)


#: The mixed scenario's repeats, in this many shares the test processes (pytest-xdist) run side
#: by side: share k runs repeats k, k + SHARES, … — every repeat with the same calls as in one run.
SHARES = 2


@pytest.mark.parametrize("share", range(SHARES), ids=lambda k: f"share{k}")
async def test_500_mixed_registrations_and_cancellations(world: World, share: int) -> None:
    """500 random register/cancel calls released together, at most 50 in flight (the client's
    50 connections); a person may come up several times."""
    rng = random.Random(4)
    allowed = {
        (201, ""),
        (200, ""),
        (409, "already_registered"),
        (404, "registration_not_found"),
    }
    async with client(50, world) as http:
        await warm(http, 50)
        started = time.perf_counter()
        seen: Counter[Any] = Counter()
        for repeat in range(REPEATS):
            calls = []
            for _call in range(500):
                tail = "" if rng.random() < 0.6 else "/me/cancel"
                calls.append(("POST", tail, rng.choice(world.tokens)))
            if repeat % SHARES != share:
                continue  # another share's repeat (its calls were drawn to keep the sequence)
            slug = new_event(world)
            calls = [(method, url(world, slug, tail), token) for method, tail, token in calls]
            seen = codes(await together(http, calls))
            assert set(seen) <= allowed, seen
            f = facts(world, slug)
            assert f["seated"] <= f["capacity"]
            assert f["counter"] == f["seated"], f
            if f["waiting"]:  # nobody waits while a seat is free
                assert f["seated"] == f["capacity"], f
            # FIFO: promotions happened in queue order; nobody still waiting was passed over.
            assert f["promoted"] == sorted(f["promoted"]), f
            if f["promoted"] and f["waiting"]:
                assert min(f["waiting"]) > max(f["promoted"]), f
            assert f["promoted"], "the scenario should exercise promotion"
    report(f"500 mixed at 50-way, share {share} of x{REPEATS}: {dict(seen)}", started)


def report(what: str, started: float) -> None:
    print(f"\n{what}: {time.perf_counter() - started:.1f}s")  # noqa: T201


# --- organizers racing the crowd: manual promotion and approval --------------------------------

#: Fewer repeats than the crowd scenarios: each repeat is three rounds of requests.
DESK_REPEATS = max(REPEATS // 4, 1)
#: Requests in flight at once in the organizer scenarios (as the mixed scenario's 50): every
#: call queues for the one event lock, and a seat given away also queues its mail in that
#: transaction, so a whole crowd at once would mostly measure the pool's 10 s timeout.
IN_FLIGHT = 40


def organizer_token(world: World) -> str:
    """A new organizer of the world's organization, with a session token."""
    user_id = new_id()
    raw, hashed = new_secret()
    with psycopg.connect(world.db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, name, email_verified_at) VALUES (%s, %s, 'Org', now())",
            (user_id, f"org-{secrets.token_hex(4)}@seats.example"),
        )
        conn.execute(
            "INSERT INTO auth_tokens (id, user_id, kind, token_hash, scopes, expires_at,"
            " last_used_at) VALUES (%s, %s, 'session', %s, '{read,write}',"
            " now() + interval '1 day', now() + interval '1 day')",
            (new_id(), user_id, hashed),
        )
        conn.execute(
            "INSERT INTO org_memberships (id, org_id, user_id, role)"
            " VALUES (%s, %s, %s, 'organizer')",
            (new_id(), world.org_id, user_id),
        )
    return raw


async def together_with(
    http: httpx2.AsyncClient, calls: list[tuple[str, str, str, dict[str, Any]]]
) -> list[httpx2.Response]:
    """`together`, each call with its own JSON body."""
    barrier = asyncio.Barrier(len(calls))

    async def one(method: str, url: str, token: str, body: dict[str, Any]) -> httpx2.Response:
        await barrier.wait()
        return await http.request(
            method, url, headers={"Authorization": f"Bearer {token}"}, json=body
        )

    return list(await asyncio.gather(*(one(*c) for c in calls)))


def raised(world: World, event_slug: str) -> int:
    """How many seats organizers added for a promotion (audit rows with `capacity_raised_to`)."""
    with psycopg.connect(world.db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'registration.promoted'"
            " AND details ? 'capacity_raised_to' AND resource_id IN"
            " (SELECT r.id::text FROM registrations r JOIN events e ON e.id = r.event_id"
            "  WHERE e.slug = %s)",
            (event_slug,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def approved_once(world: World, event_slug: str) -> tuple[int, int]:
    """(approval audit rows, distinct registrations approved) of the event."""
    with psycopg.connect(world.db_url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT resource_id) FROM audit_log"
            " WHERE action = 'registration.approved' AND resource_id IN"
            " (SELECT r.id::text FROM registrations r JOIN events e ON e.id = r.event_id"
            "  WHERE e.slug = %s)",
            (event_slug,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def assert_no_oversell(f: dict[str, Any]) -> None:
    assert f["seated"] <= f["capacity"], f
    assert f["counter"] == f["seated"], f
    if f["waiting"]:  # nobody waits while a seat is free
        assert f["seated"] == f["capacity"], f


async def test_manual_promotions_racing_cancellations_and_registrations(world: World) -> None:
    """50 seated, 50 waiting; then at once: 25 of the seated cancel, 50 newcomers register, and
    an organizer promotes each of the 50 waiting by hand (half of them allowed to add a seat).
    Every promotion either seats its person or is refused in words; the counters stay exact and
    the capacity grows by exactly the seats organizers added."""
    rng = random.Random(14)
    organizer = organizer_token(world)
    allowed = {
        (201, ""),
        (200, ""),
        (409, "no_free_seat"),
        (409, "not_waitlisted"),
    }
    async with client(IN_FLIGHT, world) as http:
        await warm(http, IN_FLIGHT)
        started = time.perf_counter()
        for _ in range(DESK_REPEATS):
            slug = new_event(world)
            first = world.tokens[: 2 * CAPACITY]
            made = []
            for token in first:  # in order: the first 50 are seated, the next 50 wait
                response = await http.post(
                    url(world, slug, ""), headers={"Authorization": f"Bearer {token}"}, json={}
                )
                assert response.status_code == 201, response.text
                made.append(response.json())
            waiting = [m["id"] for m in made if m["status"] == "waitlisted"]
            assert len(waiting) == CAPACITY
            calls: list[tuple[str, str, str, dict[str, Any]]] = []
            calls += [("POST", url(world, slug, "/me/cancel"), t, {}) for t in first[:25]]
            newcomers = world.tokens[2 * CAPACITY : 3 * CAPACITY]
            calls += [("POST", url(world, slug, ""), t, {}) for t in newcomers]
            calls += [
                (
                    "POST",
                    url(world, slug, f"/{registration_id}/promote"),
                    organizer,
                    {"raise_capacity": rng.random() < 0.5},
                )
                for registration_id in waiting
            ]
            rng.shuffle(calls)
            responses = await together_with(http, calls)
            seen = codes(responses)
            assert set(seen) <= allowed, seen
            f = facts(world, slug)
            assert_no_oversell(f)
            assert f["capacity"] == CAPACITY + raised(world, slug), f
            promotions = [
                r for r, c in zip(responses, calls, strict=True) if c[1].endswith("/promote")
            ]
            assert any(r.status_code == 200 for r in promotions)
    report(f"manual promotions racing x{DESK_REPEATS}: {dict(seen)}", started)


async def test_approvals_racing_registrations_and_cancellations(world: World) -> None:
    """An event that needs approval: 100 people ask; then at once an organizer approves all
    100 (twice each), 25 of them withdraw, and 50 more ask. Seats go up to the capacity, the
    rest of the approved wait in line, a second approval is refused, nothing is oversold."""
    organizer = organizer_token(world)
    allowed = {(201, ""), (200, ""), (409, "not_pending")}
    async with client(IN_FLIGHT, world) as http:
        await warm(http, IN_FLIGHT)
        started = time.perf_counter()
        for _ in range(DESK_REPEATS):
            slug = new_event(world)
            with psycopg.connect(world.db_url, autocommit=True) as conn:
                conn.execute("UPDATE events SET approval_required = true WHERE slug = %s", (slug,))
            askers = world.tokens[: 2 * CAPACITY]
            asked = await together(http, [("POST", url(world, slug, ""), t) for t in askers])
            assert {r.json()["status"] for r in asked} == {"pending"}
            assert facts(world, slug)["counter"] == 0
            calls: list[tuple[str, str, str, dict[str, Any]]] = []
            for response in asked:
                approve = url(world, slug, f"/{response.json()['id']}/approve")
                calls += [("POST", approve, organizer, {})] * 2
            calls += [("POST", url(world, slug, "/me/cancel"), t, {}) for t in askers[::4]]
            calls += [
                ("POST", url(world, slug, ""), t, {})
                for t in world.tokens[2 * CAPACITY : 3 * CAPACITY]
            ]
            random.Random(14).shuffle(calls)
            responses = await together_with(http, calls)
            seen = codes(responses)
            assert set(seen) <= allowed, seen
            approvals = Counter(
                r.status_code for r, c in zip(responses, calls, strict=True) if "approve" in c[1]
            )
            once = approved_once(world, slug)
            assert once == (approvals[200], approvals[200]), (once, approvals)
            f = facts(world, slug)
            assert_no_oversell(f)
            assert f["capacity"] == CAPACITY, f
            assert f["seated"] == CAPACITY, f  # 100 approvals, at most 25 withdrawn: full
            # Every asker was approved or withdrew first; only the 50 newcomers still wait.
            assert f["statuses"].get("pending", 0) == CAPACITY, f
    report(f"approvals racing x{DESK_REPEATS}: {dict(seen)}", started)
