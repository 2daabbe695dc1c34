"""Idempotency keys through the real API: replay, reuse, scope per person, what is stored, expiry.

Each test runs in the rolled-back test transaction (`client`); real concurrent retries against a
live server are in test_idempotency_concurrency.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from fastapi import APIRouter
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hackops.accounts.auth_tokens import create_token
from hackops.actor import Actor
from hackops.config import Settings
from hackops.db import Database, SessionDep, TransactionalRoute
from hackops.idempotency.store import Claim, claim_key, request_digest
from hackops.main import create_app
from hackops.maintenance import prune_idempotency_keys
from hackops.models import IdempotencyKey, Organization, Task, TokenKind, User
from hackops.tenancy import forget_tenant, set_tenant
from tests.accounts.helpers import bearer, sign_up
from tests.factories import create_organization
from tests.helpers import frozen_time
from tests.tasks.world import World, build_world


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await build_world(session)


def keyed(world: World, name: str, key: str) -> dict[str, str]:
    return {**world.auth(name), "Idempotency-Key": key}


async def tasks_titled(session: AsyncSession, world: World, title: str) -> list[Task]:
    forget_tenant(session)  # the requests' sessions cleared the shared transaction's tenant
    await set_tenant(session, world.org.id)
    return list(await session.scalars(select(Task).where(Task.title == title)))


async def stored_keys(session: AsyncSession, user: User) -> list[IdempotencyKey]:
    rows = await session.scalars(select(IdempotencyKey).where(IdempotencyKey.user_id == user.id))
    return list(rows.all())


async def test_a_retry_is_replayed_and_writes_once(
    client: httpx2.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = keyed(world, "alice", "create-task-1")
    first = await client.post(world.base, json={"title": "Slides"}, headers=headers)
    retry = await client.post(world.base, json={"title": "Slides"}, headers=headers)

    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert (retry.status_code, retry.headers["idempotent-replayed"]) == (201, "true")
    assert retry.json() == first.json()
    assert retry.headers["content-type"] == "application/json"
    assert retry.headers["x-request-id"] != first.headers["x-request-id"]  # its own request
    assert retry.headers["x-content-type-options"] == "nosniff"
    assert [t.id for t in await tasks_titled(session, world, "Slides")] == [
        uuid.UUID(first.json()["id"])
    ]
    [row] = await stored_keys(session, world.alice)
    assert (row.key, row.state, row.response_status) == ("create-task-1", "completed", 201)


async def test_patch_is_replayed_too(
    client: httpx2.AsyncClient, session: AsyncSession, world: World
) -> None:
    created = await client.post(world.base, json={"title": "Demo"}, headers=world.auth("alice"))
    url = f"{world.base}/{created.json()['id']}"
    headers = keyed(world, "alice", "rename-1")
    first = await client.patch(url, json={"title": "Demo video"}, headers=headers)
    # Someone renames it meanwhile; the retry answers what the first request did, and does not
    # undo the other rename.
    await client.patch(url, json={"title": "Final demo"}, headers=world.auth("bob"))
    retry = await client.patch(url, json={"title": "Demo video"}, headers=headers)

    assert first.status_code == 200, first.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["title"] == "Demo video"
    assert (await client.get(url, headers=world.auth("alice"))).json()["title"] == "Final demo"


async def test_the_same_key_for_another_request_is_refused(
    client: httpx2.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = keyed(world, "alice", "reused")
    assert (await client.post(world.base, json={"title": "A"}, headers=headers)).status_code == 201

    other_body = await client.post(world.base, json={"title": "B"}, headers=headers)
    other_path = await client.post("/api/v1/me/tasks", json={"title": "A"}, headers=headers)
    other_query = await client.post(f"{world.base}?x=1", json={"title": "A"}, headers=headers)

    for response in (other_body, other_path, other_query):
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "idempotency_key_reused"
        assert error["details"] == {"method": "POST", "path": world.base}
    assert await tasks_titled(session, world, "B") == []


async def test_keys_belong_to_one_person(
    client: httpx2.AsyncClient, session: AsyncSession, world: World
) -> None:
    body = {"title": "Shared key"}
    alice = await client.post(world.base, json=body, headers=keyed(world, "alice", "k"))
    bob = await client.post(world.base, json=body, headers=keyed(world, "bob", "k"))

    assert (alice.status_code, bob.status_code) == (201, 201)
    assert "idempotent-replayed" not in bob.headers
    assert bob.json()["created_by_id"] == str(world.bob.id)
    assert len(await tasks_titled(session, world, "Shared key")) == 2


async def test_two_tokens_of_one_person_share_keys(
    client: httpx2.AsyncClient, session: AsyncSession, world: World
) -> None:
    other_token, _ = await create_token(
        session, Actor(world.alice), world.alice, kind=TokenKind.API, lifetime=timedelta(days=1)
    )
    body = {"title": "From the phone"}
    first = await client.post(world.base, json=body, headers=keyed(world, "alice", "phone-1"))
    retry = await client.post(
        world.base, json=body, headers={**bearer(other_token), "Idempotency-Key": "phone-1"}
    )
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()


@pytest.mark.parametrize(
    "raw_key",
    [b"", b"x" * 256, "clé".encode(), b"tab\there", b"\x7f"],
    ids=["empty", "too-long", "not-ascii", "control", "delete"],
)
async def test_malformed_keys_are_refused(
    client: httpx2.AsyncClient, session: AsyncSession, world: World, raw_key: bytes
) -> None:
    headers = [
        (b"authorization", f"Bearer {world.tokens['alice']}".encode()),
        (b"idempotency-key", raw_key),
    ]
    response = await client.post(world.base, json={"title": "Nope"}, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "idempotency_key_invalid"
    assert "255 printable ASCII" in response.json()["error"]["message"]
    assert await tasks_titled(session, world, "Nope") == []


async def test_a_key_sent_twice_is_refused(
    client: httpx2.AsyncClient, session: AsyncSession, world: World
) -> None:
    headers = [
        (b"authorization", f"Bearer {world.tokens['alice']}".encode()),
        (b"idempotency-key", b"one"),
        (b"idempotency-key", b"two"),
    ]
    response = await client.post(world.base, json={"title": "Twice"}, headers=headers)
    assert response.json()["error"]["code"] == "idempotency_key_invalid"


async def test_the_longest_key_is_accepted(
    client: httpx2.AsyncClient, session: AsyncSession, world: World
) -> None:
    key = "~" + " k" * 126 + "!!"
    assert len(key) == 255
    response = await client.post(
        world.base, json={"title": "Long"}, headers=keyed(world, "alice", key)
    )
    assert response.status_code == 201


async def test_refusals_are_replayed_but_not_those_of_credentials(
    client: httpx2.AsyncClient, session: AsyncSession, world: World
) -> None:
    # A refusal of the request itself (404: no such task) is kept, like Stripe.
    missing = f"{world.base}/{uuid.uuid4()}"
    headers = keyed(world, "alice", "missing-task")
    first = await client.patch(missing, json={"title": "x"}, headers=headers)
    retry = await client.patch(missing, json={"title": "x"}, headers=headers)
    assert (first.status_code, retry.status_code) == (404, 404)
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()

    # A refusal of the caller's credentials (a read-only token may not write) is not kept: the
    # key is free again, and the same person's write token may use it.
    reader, _ = await create_token(
        session,
        Actor(world.alice),
        world.alice,
        kind=TokenKind.API,
        lifetime=timedelta(days=1),
        scopes=frozenset({"read"}),
    )
    body = {"title": "Scoped"}
    refused = await client.post(
        world.base, json=body, headers={**bearer(reader), "Idempotency-Key": "scoped"}
    )
    assert refused.status_code == 403
    allowed = await client.post(world.base, json=body, headers=keyed(world, "alice", "scoped"))
    assert allowed.status_code == 201
    assert "idempotent-replayed" not in allowed.headers


@asynccontextmanager
async def app_with(
    router: APIRouter, settings: Settings, database: Database
) -> AsyncIterator[httpx2.AsyncClient]:
    """The real app plus a route of the test's own (the mechanism under a failure we choose)."""
    app = create_app(settings, database=database)
    app.include_router(router)
    app.state.db = database  # no lifespan: `client` has bound it to the test's connection
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_a_server_error_is_not_stored_so_the_retry_runs(
    client: httpx2.AsyncClient, settings: Settings, bound_database: Database, world: World
) -> None:
    attempts: list[int] = []
    router = APIRouter(route_class=TransactionalRoute)

    @router.post("/api/v1/flaky", status_code=201)
    async def flaky(session: SessionDep) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("the first attempt fails on our side")
        return {"attempt": len(attempts)}

    async with app_with(router, settings, bound_database) as http:
        headers = keyed(world, "alice", "flaky-1")
        failed = await http.post("/api/v1/flaky", json={}, headers=headers)
        retried = await http.post("/api/v1/flaky", json={}, headers=headers)
        replayed = await http.post("/api/v1/flaky", json={}, headers=headers)

    assert failed.status_code == 500
    assert (retried.status_code, retried.json()) == (201, {"attempt": 2})
    assert (replayed.json(), replayed.headers["idempotent-replayed"]) == ({"attempt": 2}, "true")
    assert len(attempts) == 2


async def test_a_request_that_outlived_its_claim_does_not_commit(
    client: httpx2.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    bound_database: Database,
    world: World,
) -> None:
    """The first request runs past the 60 s claim timeout and a retry re-claims the key
    meanwhile: the first one's write must roll back, so only the retry can write."""
    path = "/api/v1/slow"
    digest = request_digest("POST", path)
    digest.update(b"{}")
    reclaims: list[object] = []
    router = APIRouter(route_class=TransactionalRoute)

    @router.post(path, status_code=201)
    async def slow(session: SessionDep) -> dict[str, Any]:
        await create_organization(session, slug="written-by-the-slow-request")
        later = datetime.now(UTC) + timedelta(seconds=61)
        await session.execute(
            text("SELECT set_config('hackops.frozen_now', :t, true)"), {"t": later.isoformat()}
        )
        async with bound_database.sessionmaker() as retry:  # the retry, 61 s later
            reclaims.append(
                await claim_key(
                    retry,
                    world.alice.id,
                    "slow-1",
                    fingerprint=digest.hexdigest(),
                    method="POST",
                    path=path,
                )
            )
            await retry.commit()
        return {}

    async with app_with(router, settings, bound_database) as http:
        headers = {**keyed(world, "alice", "slow-1"), "Content-Type": "application/json"}
        response = await http.post(path, content=b"{}", headers=headers)

    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "idempotency_key_in_use"
    [reclaim] = reclaims
    assert isinstance(reclaim, Claim)
    # Nothing of the first request was stored. (Here the retry's claim was a savepoint inside
    # the first request's and rolled back with it; in production it is its own transaction.)
    [row] = await stored_keys(session, world.alice)
    assert (row.state, row.response_status) == ("in_progress", None)
    assert (
        await session.scalar(
            select(func.count())
            .select_from(Organization)
            .where(Organization.slug == "written-by-the-slow-request")
        )
        == 0
    )


async def test_a_retry_while_the_first_runs_is_409_until_its_claim_expires(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, world: World
) -> None:
    """A request claimed the key and then its process died (nothing committed but the claim)."""
    body = json.dumps({"title": "Crashed"}).encode()
    digest = request_digest("POST", world.base)
    digest.update(body)
    now = datetime.now(UTC)
    async with frozen_time(connection, now):
        await claim_key(
            session,
            world.alice.id,
            "crash-1",
            fingerprint=digest.hexdigest(),
            method="POST",
            path=world.base,
        )
    headers = {**keyed(world, "alice", "crash-1"), "Content-Type": "application/json"}

    async with frozen_time(connection, now + timedelta(seconds=59)):
        busy = await client.post(world.base, content=body, headers=headers)
        other = await client.post(world.base, json={"title": "Other"}, headers=headers)
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "idempotency_key_in_use"
    assert busy.headers["retry-after"] == "1"
    assert other.json()["error"]["code"] == "idempotency_key_reused"

    async with frozen_time(connection, now + timedelta(seconds=61)):
        recovered = await client.post(world.base, content=body, headers=headers)
    assert recovered.status_code == 201, recovered.text
    assert "idempotent-replayed" not in recovered.headers
    assert len(await tasks_titled(session, world, "Crashed")) == 1


async def test_a_key_expires_after_24_hours_and_is_pruned(
    client: httpx2.AsyncClient, session: AsyncSession, connection: AsyncConnection, world: World
) -> None:
    token, _ = await create_token(
        session, Actor(world.alice), world.alice, kind=TokenKind.API, lifetime=timedelta(days=3)
    )
    headers = {**bearer(token), "Idempotency-Key": "daily"}
    body = {"title": "Daily standup"}
    start = datetime.now(UTC)
    async with frozen_time(connection, start):
        first = await client.post(world.base, json=body, headers=headers)
    async with frozen_time(connection, start + timedelta(hours=23, minutes=59)):
        replayed = await client.post(world.base, json=body, headers=headers)
    async with frozen_time(connection, start + timedelta(hours=24, minutes=1)):
        again = await client.post(world.base, json=body, headers=headers)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
    assert len(await tasks_titled(session, world, "Daily standup")) == 2

    async with frozen_time(connection, start + timedelta(hours=48, minutes=2)):
        fresh = await client.post(
            world.base, json={"title": "Fresh"}, headers={**bearer(token), "Idempotency-Key": "f"}
        )
        assert fresh.status_code == 201
        await prune_idempotency_keys(timestamp=0)
    assert [row.key for row in await stored_keys(session, world.alice)] == ["f"]


async def test_anonymous_requests_ignore_the_key(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    """Sign-in answers carry a session token: keyed by the key alone, a stranger could replay
    someone else's. Anonymous requests run every time and store nothing."""
    email = f"anon-{uuid.uuid4().hex[:8]}@example.com"
    await sign_up(client, email)
    form = {"username": email, "password": "correct horse battery staple"}
    headers = {"Idempotency-Key": "sign-in"}
    first = await client.post("/api/v1/auth/token", data=form, headers=headers)
    second = await client.post("/api/v1/auth/token", data=form, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert "idempotent-replayed" not in second.headers
    assert first.json()["access_token"] != second.json()["access_token"]
    assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


async def test_the_header_is_documented_on_writes(client: httpx2.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    create = schema["paths"]["/api/v1/me/tasks"]["post"]
    update = schema["paths"]["/api/v1/me/tasks/{task_id}"]["patch"]
    read = schema["paths"]["/api/v1/me/tasks"]["get"]
    for operation in (create, update):
        [parameter] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert parameter["in"] == "header"
        assert parameter["schema"]["maxLength"] == 255
        assert {"400", "409", "422"} <= set(operation["responses"])
    assert all(p["name"] != "Idempotency-Key" for p in read.get("parameters", []))
    assert "Idempotency-Key" in schema["info"]["description"]
