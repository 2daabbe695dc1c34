"""Live push over the notification socket, against a real uvicorn on its own port: refused
without a session or token (and from another site's page), a push arrives after the commit of
`deliver` and never after a rollback, a revoked session closes the socket (4401), and the
process's listener comes back after its database connection is killed and pushes again."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from hackops.config import to_sqlalchemy_url
from hackops.db import make_sessionmaker
from hackops.main import create_app
from hackops.models import TokenKind, User
from hackops.notifications.live import APPLICATION_NAME
from hackops.notifications.service import Message, deliver
from tests.conftest import _free_port, make_settings
from tests.helpers import uvicorn_in_thread
from tests.people import person, sign_in_token

RECHECK_SECONDS = 0.5


@pytest.fixture(scope="module")
def server(live_database_url: str, storage_dir: Path) -> Iterator[str]:
    """The app on 127.0.0.1 with sockets re-checked every half second."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = make_settings(
        live_database_url,
        storage_dir,
        base_url=base_url,
        notifications_recheck_seconds=RECHECK_SECONDS,
    )
    with uvicorn_in_thread(create_app(settings), port) as served:
        yield served


@pytest.fixture
async def live_db(live_database_url: str) -> AsyncIterator[AsyncEngine]:
    """The live server's database, as its owner (the test writes what the server reads)."""
    engine = create_async_engine(to_sqlalchemy_url(live_database_url), pool_size=2)
    yield engine
    await engine.dispose()


def ws_url(server: str) -> str:
    return server.replace("http://", "ws://") + "/ws/notifications"


async def someone(engine: AsyncEngine) -> tuple[User, str]:
    async with make_sessionmaker(engine)() as session, session.begin():
        return await person(session, verified=True, email=f"live-{secrets.token_hex(4)}@ex.org")


async def tell(engine: AsyncEngine, user: User, title: str, *, commit: bool = True) -> None:
    async with make_sessionmaker(engine)() as session:
        await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
        done = await deliver(
            session,
            org_id=None,
            user_ids=[user.id],
            message=Message(category="announcements", title=title, link="/orgs/a/events/b"),
            dedupe_key=f"live-{secrets.token_hex(6)}",
        )
        assert done.in_app == [user.id]
        if commit:
            await session.commit()
        else:
            await session.rollback()


async def next_message(socket: ClientConnection, within: float = 10.0) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(socket.recv(), within)))


async def quiet(socket: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """What arrives in the next `seconds` other than the periodic unread count."""
    seen: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            message = await next_message(socket, left)
        except TimeoutError:
            break
        if message["type"] != "unread":
            seen.append(message)
    return seen


async def expect_unread(socket: ClientConnection, count: int, within: float = 5.0) -> None:
    """Read until the unread count is `count` (the socket also re-sends it on every access
    check); a notification meanwhile is a failure."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        message = await next_message(socket, deadline - asyncio.get_running_loop().time())
        assert message["type"] == "unread", message
        if message["unread"] == count:
            return


async def expect_note(socket: ClientConnection, within: float = 5.0) -> dict[str, Any]:
    """The next notification pushed (unread counts before it are skipped)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        message = await next_message(socket, deadline - asyncio.get_running_loop().time())
        if message["type"] == "notification":
            return dict(message["notification"])


async def read_until_closed(socket: ClientConnection) -> None:
    while True:
        await next_message(socket, 5)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_socket_is_refused_without_access(server: str, live_db: AsyncEngine) -> None:
    _, token = await someone(live_db)
    async with make_sessionmaker(live_db)() as session, session.begin():
        user, _ = await person(session)
        no_scope = await sign_in_token(session, user, kind=TokenKind.API, scopes=[])
    for headers, origin, status, code in (
        ({}, None, 401, "not_authenticated"),
        (bearer("not-a-token"), None, 401, "not_authenticated"),
        (bearer(no_scope), None, 401, "not_authenticated"),
        # the session cookie from another site's page
        ({"Cookie": f"hackops_session={token}"}, "https://evil.example", 403, "origin_refused"),
    ):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(
                ws_url(server), additional_headers=headers, origin=origin, open_timeout=5
            ):
                pass
        assert refused.value.response.status_code == status
        assert json.loads(refused.value.response.body or b"{}")["error"]["code"] == code


async def test_a_push_arrives_after_the_commit_and_never_after_a_rollback(
    server: str, live_db: AsyncEngine
) -> None:
    ada, token = await someone(live_db)
    bob, bob_token = await someone(live_db)
    cookie = {"Cookie": f"hackops_session={token}"}
    async with (
        connect(ws_url(server), additional_headers=cookie, origin=server) as socket,
        connect(ws_url(server), additional_headers=bearer(bob_token)) as bobs,
    ):
        assert await next_message(socket) == {"type": "unread", "unread": 0}
        assert await next_message(bobs) == {"type": "unread", "unread": 0}

        await tell(live_db, ada, "Rolled back", commit=False)
        assert await quiet(socket, 1.5) == []

        await tell(live_db, ada, "Room change: Hall B")
        note = await expect_note(socket)
        assert (note["title"], note["link"], note["read_at"]) == (
            "Room change: Hall B",
            "/orgs/a/events/b",
            None,
        )
        await expect_unread(socket, 1)
        assert await quiet(bobs, 0.5) == []  # Bob hears nothing of Ada's
        await tell(live_db, bob, "For Bob")
        assert (await expect_note(bobs))["title"] == "For Bob"


async def test_marking_read_updates_the_other_pages(server: str, live_db: AsyncEngine) -> None:
    ada, token = await someone(live_db)
    async with connect(ws_url(server), additional_headers=bearer(token)) as socket:
        assert await next_message(socket) == {"type": "unread", "unread": 0}
        await tell(live_db, ada, "One")
        assert (await expect_note(socket))["title"] == "One"
        await expect_unread(socket, 1)
        status = await asyncio.to_thread(_post, f"{server}/api/v1/me/notifications/read-all", token)
        assert status == 200
        await expect_unread(socket, 0)


def _post(url: str, token: str) -> int:
    import httpx2

    return httpx2.post(url, headers=bearer(token), timeout=10).status_code


async def test_a_revoked_session_closes_the_socket(server: str, live_db: AsyncEngine) -> None:
    ada, token = await someone(live_db)
    async with connect(ws_url(server), additional_headers=bearer(token)) as socket:
        assert await next_message(socket) == {"type": "unread", "unread": 0}
        async with make_sessionmaker(live_db)() as session, session.begin():
            await session.execute(
                text("UPDATE auth_tokens SET revoked_at = now() WHERE user_id = :u"),
                {"u": ada.id},
            )
        with pytest.raises(ConnectionClosed) as closed:
            await read_until_closed(socket)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401
        assert "sign in again" in closed.value.rcvd.reason


async def listener_pids(engine: AsyncEngine) -> set[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": APPLICATION_NAME},
        )
        return {row[0] for row in rows}


async def test_the_listener_comes_back_after_its_connection_is_killed(
    server: str, live_db: AsyncEngine
) -> None:
    ada, token = await someone(live_db)
    async with connect(ws_url(server), additional_headers=bearer(token)) as socket:
        assert await next_message(socket) == {"type": "unread", "unread": 0}
        await tell(live_db, ada, "Before")  # the listener is up: this arrives
        assert (await expect_note(socket))["title"] == "Before"

        before = await listener_pids(live_db)
        assert before
        async with live_db.connect() as conn:
            for pid in before:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # back on a new connection, without a restart (the socket stayed open meanwhile)
        # every listener killed comes back (the live database may also serve another test
        # server of this process, whose listener was killed too and reconnects on its own)
        deadline = asyncio.get_running_loop().time() + 30
        while len(await listener_pids(live_db) - before) < len(before):
            assert asyncio.get_running_loop().time() < deadline, "the listener did not return"
            await asyncio.sleep(0.1)

        await tell(live_db, ada, "After")
        assert (await expect_note(socket))["title"] == "After"
        await expect_unread(socket, 2)


async def test_readiness_reports_the_listener(server: str) -> None:
    import httpx2

    response = await asyncio.to_thread(httpx2.get, f"{server}/health/ready", timeout=10)
    assert response.json()["checks"]["notifications"] == {"ok": True, "state": "ok"}


async def test_an_api_token_with_read_scope_may_listen(server: str, live_db: AsyncEngine) -> None:
    async with make_sessionmaker(live_db)() as session, session.begin():
        user, _ = await person(session)
        read_token = await sign_in_token(session, user, kind=TokenKind.API, scopes=["read"])
    async with connect(ws_url(server), additional_headers=bearer(read_token)) as socket:
        assert await next_message(socket) == {"type": "unread", "unread": 0}
