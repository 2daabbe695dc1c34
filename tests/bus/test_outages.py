"""The relay through faults, against the real RabbitMQ: the broker cut away and back, the
database cut away and back (both through a TCP proxy of the test's own), a relay that died
between the broker's confirm and the mark, two relays at once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from urllib.parse import urlsplit

import aio_pika
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hackops.bus.leader import elect
from hackops.bus.relay import Relay
from hackops.bus.topology import Names
from hackops.config import Settings
from hackops.db import Database
from tests.bus.helpers import (
    BROKER,
    bus_settings,
    drain_queue,
    emit_committed,
    eventually,
    first_occurrences,
    outbox_state,
    proxy_to,
    running,
    tap,
)
from tests.factories import create_organization

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


async def an_org(db: Database) -> uuid.UUID:
    async with db.transaction() as session:
        return (await create_organization(session)).id


async def all_published(db: Database, count: int) -> bool:
    return await outbox_state(db) == (count, count)


async def test_events_wait_while_the_broker_is_away_and_go_out_in_order_when_it_returns(
    db: Database, settings: Settings, names: Names
) -> None:
    org = await an_org(db)
    async with proxy_to(5672) as broker:
        proxied = bus_settings(settings, names, f"amqp://guest:guest@127.0.0.1:{broker.port}/")
        relay = Relay(proxied, poll_s=0.2, retry_max_s=1.0)
        async with tap(names) as found, running(relay):
            before = await emit_committed(db, org, 10)
            await eventually(lambda: len(found.messages) >= 10, what="the first ten")

            await broker.cut()
            during = await emit_committed(db, org, 30, per_transaction=3)
            await asyncio.sleep(2.0)
            assert first_occurrences(found.ids) == before  # nothing got through
            assert await outbox_state(db) == (40, 10)  # they wait in the outbox

            await broker.restore()
            await eventually(lambda: len(set(found.ids)) >= 40, what="the backlog", within=45)
            await eventually(lambda: all_published(db, 40), what="all marked")
    # In order and none missing; a batch whose confirm was lost with the connection may come
    # twice (at least once), with the same message_id.
    assert first_occurrences(found.ids) == before + during
    assert await outbox_state(db) == (40, 40)


async def test_the_relay_survives_the_database_going_away_and_coming_back(
    db: Database, settings: Settings, names: Names
) -> None:
    org = await an_org(db)
    database = urlsplit(settings.database_url or "")
    async with proxy_to(database.port or 5432) as postgres:
        through = database._replace(netloc=f"{database.username}@127.0.0.1:{postgres.port}")
        proxied = bus_settings(
            settings.model_copy(update={"database_url": through.geturl()}), names
        )
        relay = Relay(proxied, poll_s=0.2, retry_max_s=1.0)
        async with tap(names) as found, running(relay):
            before = await emit_committed(db, org, 10)
            await eventually(lambda: len(found.messages) >= 10, what="the first ten")

            await postgres.cut()  # the relay's connection (and its lock) is gone
            during = await emit_committed(db, org, 10)  # the application's still work
            await asyncio.sleep(1.5)
            assert found.ids == before
            assert not relay.active.is_set()

            await postgres.restore()
            await eventually(relay.active.is_set, what="the relay active again")
            await eventually(lambda: len(set(found.ids)) >= 20, what="the rest")
            await eventually(lambda: all_published(db, 20), what="all marked")
    assert first_occurrences(found.ids) == before + during
    assert await outbox_state(db) == (20, 20)


async def test_a_relay_killed_between_confirm_and_mark_publishes_again_with_the_same_ids(
    db: Database, relay_settings: Settings, names: Names
) -> None:
    org = await an_org(db)
    ids = await emit_committed(db, org, 6)
    async with tap(names) as found:
        dying = Relay(relay_settings)
        await dying.connect_broker()
        async with elect(relay_settings.libpq_url) as leader:
            horizon = await leader.horizon()
            assert horizon is not None
            batch = await dying.fetch(leader, horizon)
            confirmed, failure = await dying.publish(batch)
            assert failure is None
            assert [out.id for out in confirmed] == ids
        # … and the process dies here: the broker has the events, the outbox does not know.
        await dying.close()
        await eventually(lambda: len(found.messages) >= 6, what="the first publication")
        assert await outbox_state(db) == (6, 0)

        async with running(Relay(relay_settings, poll_s=0.2)):
            await eventually(lambda: len(found.messages) >= 12, what="the second publication")
            await eventually(lambda: all_published(db, 6), what="all marked")
            await asyncio.sleep(0.3)
    assert found.ids == ids + ids  # again, with the same message ids: consumers drop them
    assert [m.body for m in found.messages[:6]] == [m.body for m in found.messages[6:]]


async def test_of_two_relays_one_publishes_and_the_other_takes_over_when_it_stops(
    db: Database, relay_settings: Settings, names: Names
) -> None:
    org = await an_org(db)
    first = Relay(relay_settings, poll_s=0.2, standby_poll_s=0.2)
    second = Relay(relay_settings, poll_s=0.2, standby_poll_s=0.2)
    async with tap(names) as found:
        first_run = asyncio.create_task(first.run())
        try:
            await eventually(first.active.is_set, what="the first relay active")
            async with running(second):
                await asyncio.sleep(0.6)  # it has tried by now, more than once
                assert not second.active.is_set()
                ids = await emit_committed(db, org, 40, per_transaction=4)
                await eventually(lambda: len(found.messages) >= 40, what="forty")
                await eventually(lambda: first.published >= 40, what="forty marked")
                assert (first.published, second.published) == (40, 0)

                first_run.cancel()  # the active relay's process stops
                with contextlib.suppress(asyncio.CancelledError):
                    await first_run
                await eventually(second.active.is_set, what="the second relay taking over")
                more = await emit_committed(db, org, 10)
                await eventually(lambda: len(found.messages) >= 50, what="ten more")
                await eventually(lambda: all_published(db, 50), what="ten more marked")
                await asyncio.sleep(0.3)
                assert (first.published, second.published) == (40, 10)
        finally:
            first_run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await first_run
    assert found.ids == ids + more  # each once, in order
    assert await outbox_state(db) == (50, 50)


async def test_an_exchange_deleted_under_the_relay_is_declared_again(
    db: Database, relay_settings: Settings, names: Names
) -> None:
    """The broker closes the channel at the first publish to a deleted exchange; the robust
    channel reopens and declares again what it declared (exchange, queues, bindings), and the
    relay publishes the batch again."""
    org = await an_org(db)
    relay = Relay(relay_settings, poll_s=0.2, retry_max_s=1.0)
    async with running(relay):
        await eventually(relay.active.is_set, what="the relay active")
        connection = await aio_pika.connect(BROKER)
        async with connection:
            await (await connection.channel()).exchange_delete(names.exchange)
        ids = await emit_committed(db, org, 5)
        await eventually(lambda: all_published(db, 5), what="all published")
    queued = await drain_queue(names, "notifications")
    assert [uuid.UUID(m.message_id or "") for m in queued] == [*ids[:3], ids[4]]  # not webhook


async def test_the_relay_refuses_an_outbox_sequence_that_caches_numbers(
    db: Database, relay_settings: Settings, admin_engine: AsyncEngine
) -> None:
    """A per-session cache hands out numbers without the shared sequence knowing: the horizon
    would not hold, so the relay says what to change instead of publishing out of order."""
    sequence = "public.outbox_events_seq_seq"
    async with admin_engine.begin() as conn:
        await conn.execute(text(f"ALTER SEQUENCE {sequence} CACHE 20"))
    try:
        with pytest.raises(RuntimeError) as refused:
            async with elect(relay_settings.libpq_url):
                pass
    finally:
        async with admin_engine.begin() as conn:
            await conn.execute(text(f"ALTER SEQUENCE {sequence} CACHE 1"))
    assert str(refused.value) == (
        f"{sequence} caches 20 numbers per session; the relay's order needs"
        f" ALTER SEQUENCE {sequence} CACHE 1"
    )
