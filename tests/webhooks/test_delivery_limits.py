"""The limits of an attempt, for real: the SSRF guard at connection time (a name that resolves to
this machine, a private address, a redirect — never followed), the timeout against a receiver
that stalls, the 64 KiB read against one that never stops, and no database connection held while
a slow receiver takes its time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hackops.config import Settings
from hackops.db import Database
from hackops.models import DeliveryStatus
from hackops.webhooks.sending import EXCERPT_CHARS, MAX_RESPONSE_BYTES
from tests.conftest import make_settings
from tests.core.test_jobs import running_worker, wait_until
from tests.mail.test_sending import idle_in_transaction
from tests.webhooks.receiver import Answer, Receiver
from tests.webhooks.scenario import State, scene, send_test_event, state

pytestmark = pytest.mark.slow


def dev_settings(database_url: str, storage_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"hackops_env": "dev", "webhook_allow_loopback": True}
    values.update(overrides)
    return make_settings(database_url, storage_dir, **values)


async def logged(database: Database, endpoint_id: object, count: int = 1) -> State:
    """The endpoint's state once `count` attempts are in its log."""
    found: State | None = None

    async def done() -> bool:
        nonlocal found
        found = await state(database, endpoint_id)  # type: ignore[arg-type]
        return len(found.log) >= count

    await wait_until(done, within=30)
    assert found is not None
    return found


async def test_the_guard_refuses_this_machine_and_private_addresses_when_connecting(
    database_url: str, storage_dir: Path, committed_db: Database
) -> None:
    """Saved while loopback was allowed (or written past the API), refused at connection time
    once it is not: the guard resolves and checks at every attempt, the receiver hears nothing."""
    strict = dev_settings(database_url, storage_dir, webhook_allow_loopback=False)
    async with Receiver() as receiver:
        local = await scene(committed_db, receiver.url(host="localhost"))
        private = await scene(committed_db, "http://10.1.2.3:8080/hook")
        async with running_worker(strict, committed_db):
            await send_test_event(committed_db, local)
            await send_test_event(committed_db, private)
            by_name = await logged(committed_db, local.endpoint_id)
            by_address = await logged(committed_db, private.endpoint_id)
    assert receiver.requests == []
    (attempt,) = by_name.log
    assert attempt.status_code is None
    assert attempt.error.startswith("localhost resolves to a loopback address (")
    assert attempt.error.endswith("); webhooks are only sent to public internet addresses.")
    assert by_address.log[0].error == (
        "The address points to a private network address (10.1.2.3); webhooks are only sent to"
        " public internet addresses."
    )
    assert by_address.log[0].latency_ms < 1000  # refused before any connection was tried
    for found in (by_name, by_address):
        assert found.deliveries[0].status is DeliveryStatus.PENDING  # it is tried again later
        assert found.endpoint.consecutive_failures == 1


async def test_redirects_are_not_followed(
    database_url: str, storage_dir: Path, committed_db: Database
) -> None:
    settings = dev_settings(database_url, storage_dir)
    async with Receiver() as elsewhere, Receiver() as receiver:
        receiver.answers = [
            Answer(302, b"", {"Location": "http://10.1.2.3/internal"}),
            Answer(307, b"", {"Location": elsewhere.url("/stolen")}),
        ]
        s = await scene(committed_db, receiver.url())
        async with running_worker(settings, committed_db):
            await send_test_event(committed_db, s)
            await send_test_event(committed_db, s)
            found = await logged(committed_db, s.endpoint_id, 2)
    assert len(receiver.requests) == 2
    assert elsewhere.requests == []
    errors = sorted(a.error for a in found.log)
    assert errors == [
        "The endpoint answered HTTP 302 Found, a redirect to http://10.1.2.3/internal; webhooks"
        " do not follow redirects: save the final address as the endpoint's URL.",
        f"The endpoint answered HTTP 307 Temporary Redirect, a redirect to"
        f" {elsewhere.url('/stolen')}; webhooks do not follow redirects: save the final address"
        " as the endpoint's URL.",
    ]
    assert {a.status_code for a in found.log} == {302, 307}


async def test_a_stalling_receiver_times_out(
    database_url: str, storage_dir: Path, committed_db: Database
) -> None:
    settings = dev_settings(database_url, storage_dir, webhook_timeout_seconds=1)
    async with Receiver() as receiver:
        receiver.answers = [Answer(stall=True)]
        s = await scene(committed_db, receiver.url())
        async with running_worker(settings, committed_db):
            await send_test_event(committed_db, s)
            found = await logged(committed_db, s.endpoint_id)
    (attempt,) = found.log
    assert attempt.error == "The endpoint did not answer within 1 second."
    assert attempt.status_code is None
    assert 1000 <= attempt.latency_ms < 3000
    assert found.deliveries[0].status is DeliveryStatus.PENDING


async def test_only_64_kib_of_an_endless_answer_are_read(
    database_url: str, storage_dir: Path, committed_db: Database
) -> None:
    settings = dev_settings(database_url, storage_dir, webhook_timeout_seconds=5)
    async with Receiver() as receiver:
        receiver.answers = [Answer(endless=True)]
        s = await scene(committed_db, receiver.url())
        async with running_worker(settings, committed_db):
            await send_test_event(committed_db, s)
            found = await logged(committed_db, s.endpoint_id)
    (attempt,) = found.log
    assert (attempt.status_code, attempt.succeeded, attempt.error) == (200, True, "")
    assert attempt.response_excerpt == "x" * EXCERPT_CHARS
    assert attempt.latency_ms < 5000  # the body was cut, not read until the timeout
    assert found.deliveries[0].status is DeliveryStatus.DELIVERED
    # The receiver stopped being read soon after the cap: its sends ended with the connection
    # (what it wrote beyond the cap sat in socket buffers, a few MiB at most, never all of it).
    assert MAX_RESPONSE_BYTES <= receiver.endless_bytes_sent < 64 * 1024 * 1024


async def test_a_slow_receiver_holds_no_database_connection(
    database_url: str, storage_dir: Path, committed_db: Database, admin_engine: AsyncEngine
) -> None:
    """With a pool of one connection, an attempt stuck on a receiver that does not answer
    leaves that connection to everyone else; once it answers, the delivery is recorded."""
    settings = dev_settings(
        database_url, storage_dir, database_pool_size=1, database_max_overflow=0
    )
    pool_of_one = Database.from_settings(settings)
    async with Receiver() as receiver:
        receiver.answers = [Answer(stall=True)]
        s = await scene(committed_db, receiver.url())
        try:
            async with running_worker(settings, pool_of_one):
                await send_test_event(committed_db, s)
                await receiver.wait_for(1)  # the attempt is waiting on the receiver now
                await asyncio.sleep(1.5)  # a transaction held across the wait is idle by now
                assert await idle_in_transaction(admin_engine) == 0
                async with pool_of_one.transaction() as session:  # the only pooled connection
                    assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
                receiver.release()
                found = await logged(committed_db, s.endpoint_id)
        finally:
            await pool_of_one.dispose()
    assert found.deliveries[0].status is DeliveryStatus.DELIVERED
    assert found.log[0].latency_ms >= 1500
