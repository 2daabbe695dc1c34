"""Slow work holds no database connection, through a real uvicorn with a pool of two.

The app runs in a process of its own (`DATABASE_POOL_SIZE=2`, no overflow) on a database of this
module's own; more slow uploads are in flight than the pool has connections, each sending a byte
every half second. Meanwhile no connection of the app sits "idle in transaction" (sampled from
pg_stat_activity) and `GET /api/v1/me` keeps answering 200 (with the old behaviour the uploads
held both connections and it answered 503 after the 10 s pool timeout). A body that stops
arriving is answered 408 (BODY_TIMEOUT_SECONDS=2 here). Sign-ins queued for the one password
hashing slot (PASSWORD_HASH_CONCURRENCY=1) hold no connection while they wait.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import psycopg
import pytest
from bench.common import server
from bench.slow_uploads import APP_ARGS, Scene, app_env, idle_in_transaction, seed, slow_upload

from hackops.accounts.credentials import PasswordHasher
from hackops.accounts.deps import SESSION_COOKIE
from hackops.browser import CSRF_COOKIE
from tests.conftest import _free_port, _migrated_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

UPLOADS = 4
TRICKLE = 26  # bytes, one every INTERVAL: about 13 s, longer than the 10 s pool timeout
INTERVAL = 0.5


@dataclass
class World:
    base_url: str
    db_url: str
    scene: Scene


@pytest.fixture(scope="module")
def world(server_admin_url: str, storage_dir: Path) -> Iterator[World]:
    for db_url in _migrated_database(server_admin_url, "hackops_slow_io"):
        scene = seed(db_url, members=UPLOADS + 1)
        env = app_env(
            db_url,
            pool=2,
            BODY_TIMEOUT_SECONDS="2",
            DATABASE_READ_POOL_SIZE="0",
            PASSWORD_HASH_CONCURRENCY="1",
            PASSWORD_HASH_TIME_COST="2",
        )
        with server("hackops", APP_ARGS, env, _free_port()) as port:
            yield World(f"http://127.0.0.1:{port}", db_url, scene)


async def test_slow_uploads_leave_the_pool_to_everyone_else(world: World) -> None:
    scene = world.scene
    me = {"Authorization": f"Bearer {scene.tokens[-1]}"}
    limits = httpx2.Limits(max_connections=UPLOADS + 2)
    async with httpx2.AsyncClient(base_url=world.base_url, limits=limits, timeout=60) as http:
        uploads = [
            asyncio.create_task(slow_upload(http, scene, token, trickle=TRICKLE, interval=INTERVAL))
            for token in scene.tokens[:UPLOADS]
        ]
        await asyncio.sleep(2)  # every upload is past its authorization, streaming its body
        idle, answers = [], []
        while not all(task.done() for task in uploads):
            idle.append(await asyncio.to_thread(idle_in_transaction, world.db_url))
            answers.append((await http.get("/api/v1/me", headers=me)).status_code)
            await asyncio.sleep(0.5)
        statuses = [(await task).status_code for task in uploads]
    assert max(idle) == 0, idle
    assert set(answers) == {200}, answers
    assert len(answers) >= 10
    assert statuses == [201] * UPLOADS


def test_a_stalled_body_is_answered_408(world: World) -> None:
    port = int(world.base_url.rsplit(":", 1)[1])
    head = (
        f"POST {world.scene.files_url}?name=a.png HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {world.scene.tokens[0]}\r\n"
        "Content-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(head.encode() + b"\x89PNG")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b'"code":"request_timeout"' in answer


async def meanwhile(
    world: World, http: httpx2.AsyncClient, tasks: list[asyncio.Task[httpx2.Response]]
) -> tuple[list[int], list[int]]:
    """Until every task is done: the app's connections sampled idle in transaction for over
    0.2 s, and the statuses of the ordinary `GET /api/v1/me` asked meanwhile."""
    me = {"Authorization": f"Bearer {world.scene.tokens[-1]}"}
    idle: list[int] = []

    async def sample() -> None:
        while not all(task.done() for task in tasks):
            idle.append(await asyncio.to_thread(idle_in_transaction, world.db_url, seconds=0.2))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    answers = []
    while not all(task.done() for task in tasks):
        answers.append((await http.get("/api/v1/me", headers=me)).status_code)
        await asyncio.sleep(0.2)
    await sampler
    return idle, answers


async def test_sign_ins_wait_for_the_hashing_slot_without_a_connection(world: World) -> None:
    """Twelve sign-ins at once, one hash at a time (about 0.5 s each). Taking the connection
    first, a queued sign-in sat in an open transaction while another hashed, so both pooled
    connections were taken and everyone else waited; now the one hashing is the only one."""
    async with httpx2.AsyncClient(base_url=world.base_url, timeout=60) as http:
        # Spread over three accounts: one address may fail 10 times in 15 minutes (then 429).
        emails = [f"m{i % 3}-{world.scene.event_slug}@slow.example" for i in range(12)]
        sign_ins = [
            asyncio.create_task(
                http.post("/api/v1/auth/token", data={"username": email, "password": f"wrong-{i}"})
            )
            for i, email in enumerate(emails)
        ]
        idle, answers = await meanwhile(world, http, sign_ins)
        statuses = [(await task).status_code for task in sign_ins]
    assert statuses == [401] * 12
    assert max(idle) <= 1, idle
    assert set(answers) == {200}, answers


async def test_account_page_password_forms_wait_for_the_hashing_slot_without_a_connection(
    world: World,
) -> None:
    """The same through the account page's forms (change password, change email, delete account),
    signed in by the session cookie: every page resolves who is signed in, and that used to
    take the connection before the form queued for the hashing slot."""
    scene = world.scene
    browser = {SESSION_COOKIE: scene.tokens[-2]}
    # A password (deleting asks for it) whose hash takes about 0.6 s to check: verifying uses
    # the stored hash's own parameters, so every form holds the one slot that long.
    hasher = PasswordHasher(time_cost=6, memory_kib=65536, concurrency=1)
    stored = await hasher.hash("the real passphrase")
    with psycopg.connect(world.db_url) as conn:
        conn.execute(
            "UPDATE users SET password_hash = %s WHERE email = %s",
            (stored, f"m{UPLOADS - 1}-{scene.event_slug}@slow.example"),  # tokens[-2]
        )
    async with httpx2.AsyncClient(base_url=world.base_url, timeout=60, cookies=browser) as http:
        page = await http.get("/account")
        assert page.status_code == 200, page.text
        csrf = http.cookies[CSRF_COOKIE]
        origin = {"Origin": world.base_url}
        forms = [
            ("/account/password", {"current_password": "wrong", "new_password": "x" * 20}),
            ("/account/email", {"password": "wrong", "new_email": "new@slow.example"}),
            ("/account/delete", {"password": "wrong"}),
        ]
        posts = [
            asyncio.create_task(
                http.post(action, data={**fields, "csrf_token": csrf}, headers=origin)
            )
            for _ in range(3)
            for action, fields in forms
        ]
        idle, answers = await meanwhile(world, http, posts)
        answered = [await task for task in posts]
    assert {a.status_code for a in answered} == {400}, [
        (a.url.path, a.status_code) for a in answered
    ]
    assert all("wrong" in a.text for a in answered)
    assert max(idle) <= 1, idle
    assert set(answers) == {200}, answers
