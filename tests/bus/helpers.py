"""What the bus tests share: the broker's names of one test, a tap on the exchange, a TCP proxy
that cuts a service away and brings it back, events emitted in committed transactions."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from pydantic import SecretStr
from sqlalchemy import func, select, text

from hackops.actor import SYSTEM
from hackops.bus.relay import Relay
from hackops.bus.topology import QUEUES, Names, declare_exchange
from hackops.config import Settings
from hackops.db import Database
from hackops.models import OutboxEvent
from hackops.outbox import catalog
from hackops.outbox.service import emit
from hackops.tenancy import set_actor, set_tenant
from tests.outage import free_port

BROKER = "amqp://guest:guest@127.0.0.1:5672/"


def unique_names() -> Names:
    """An exchange and queues of this test alone on the shared broker."""
    tag = f"test-{secrets.token_hex(4)}"
    return Names(exchange=f"{tag}.hackops.events", queue_prefix=f"{tag}.")


def bus_settings(settings: Settings, names: Names, url: str = BROKER, **more: Any) -> Settings:
    return settings.model_copy(
        update={
            "amqp_url": SecretStr(url),
            "amqp_exchange": names.exchange,
            "amqp_queue_prefix": names.queue_prefix,
            **more,
        }
    )


async def remove_names(names: Names) -> None:
    connection = await aio_pika.connect(BROKER)
    async with connection:
        channel = await connection.channel()
        for queue in QUEUES:
            await channel.queue_delete(names.queue(queue))
        await channel.exchange_delete(names.exchange)


@dataclass
class Tap:
    """A private queue bound to every key of the exchange: what a consumer would receive."""

    messages: list[AbstractIncomingMessage] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)

    @property
    def ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(m.message_id or "") for m in self.messages]

    async def _take(self, message: AbstractIncomingMessage) -> None:
        self.received_at.append(time.time())
        self.messages.append(message)


@asynccontextmanager
async def tap(names: Names) -> AsyncIterator[Tap]:
    connection = await aio_pika.connect(BROKER)
    async with connection:
        channel = await connection.channel()
        exchange = await declare_exchange(channel, names)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="#")
        found = Tap()
        await queue.consume(found._take, no_ack=True)
        yield found


async def drain_queue(names: Names, queue: str) -> list[AbstractIncomingMessage]:
    """Everything waiting in one of the durable queues (taken from it)."""
    taken: list[AbstractIncomingMessage] = []
    connection = await aio_pika.connect(BROKER)
    async with connection:
        channel = await connection.channel()
        declared = await channel.get_queue(names.queue(queue))
        while (message := await declared.get(no_ack=True, fail=False)) is not None:
            taken.append(message)
    return taken


@asynccontextmanager
async def running(relay: Relay) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(relay.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(
    predicate: Callable[[], Awaitable[bool] | bool], within: float = 30, what: str = "condition"
) -> None:
    deadline = time.monotonic() + within
    while True:
        outcome = predicate()
        if isinstance(outcome, Awaitable):
            outcome = await outcome
        if outcome:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached in {within} s")
        await asyncio.sleep(0.05)


def sample_payloads(count: int) -> list[catalog.Payload]:
    """`count` payloads cycling through types that land in different queues."""
    makers: list[Callable[[], catalog.Payload]] = [
        lambda: catalog.RegistrationCreated(
            registration_id=uuid.uuid4(), user_id=uuid.uuid4(), status="registered"
        ),
        lambda: catalog.SubmissionSubmitted(
            submission_id=uuid.uuid4(),
            team_id=uuid.uuid4(),
            version_id=uuid.uuid4(),
            version_number=1,
            late=False,
        ),
        lambda: catalog.JudgeAssigned(judge_id=uuid.uuid4(), assigned=3),
        lambda: catalog.WebhookTest(endpoint_id=uuid.uuid4()),
    ]
    return [makers[i % len(makers)]() for i in range(count)]


async def emit_committed(
    db: Database, org_id: uuid.UUID | None, count: int, *, per_transaction: int = 10
) -> list[uuid.UUID]:
    """Emit `count` events of `org_id` (None: platform events), committed in transactions of
    `per_transaction`; their ids in emission (seq) order."""
    ids: list[uuid.UUID] = []
    payloads = sample_payloads(count)
    for start in range(0, count, per_transaction):
        async with db.transaction() as session:
            if org_id is None:
                await set_actor(session, None, platform_admin=True)
            else:
                await set_tenant(session, org_id)
            for payload in payloads[start : start + per_transaction]:
                row = await emit(session, SYSTEM, payload, org_id=org_id)
                ids.append(row.id)
    return ids


async def outbox_state(db: Database) -> tuple[int, int]:
    """(events in the outbox, events marked published), across organizations."""
    async with db.transaction() as session:
        await set_actor(session, None, platform_admin=True)
        total = await session.scalar(select(func.count()).select_from(OutboxEvent))
        published = await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.published_at.isnot(None))
        )
    return int(total or 0), int(published or 0)


async def seq_order(db: Database) -> list[uuid.UUID]:
    async with db.transaction() as session:
        await set_actor(session, None, platform_admin=True)
        return list(await session.scalars(select(OutboxEvent.id).order_by(OutboxEvent.seq)))


async def clear_outbox(db: Database) -> None:
    async with db.transaction() as session:
        await set_actor(session, None, platform_admin=True)
        await session.execute(text("DELETE FROM outbox_events"))


def first_occurrences(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """`ids` without repeats, each where it first came (what a consumer dropping duplicates by
    message_id sees)."""
    return list(dict.fromkeys(ids))


@dataclass
class TcpProxy:
    """127.0.0.1:`port` forwarded to `target_port`. `cut()` closes the listener and aborts
    every connection (the service is gone for its clients); `restore()` listens again."""

    target_port: int
    port: int = field(default_factory=free_port)
    server: asyncio.Server | None = None
    transports: set[asyncio.WriteTransport] = field(default_factory=set)

    async def start(self) -> None:
        self.server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )

    restore = start

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for transport in list(self.transports):
            transport.abort()
        self.transports.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.transports |= {writer.transport, up_writer.transport}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.transports.discard(writer.transport)
            writer.transport.abort()


@asynccontextmanager
async def proxy_to(target_port: int) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(target_port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.cut()
