"""Outbox → broker lag under a steady stream of events (the RabbitMQ event bus).

    .venv/bin/python bench/bus.py [--rate 200] [--duration 30] [--emitters 8] [--relay-only]
                                  [--cut-broker SECONDS]

A database of its own (migrated), the broker at BENCH_AMQP_URL (default the local RabbitMQ,
amqp://guest:guest@127.0.0.1:5672/) with an exchange and queues of the run's own, removed at
the end. `hackops worker` runs in a process of its own with AMQP_URL set, as in production: its
relay publishes, its job worker runs the events' dispatch jobs beside it (`--relay-only`:
`hackops events relay`, the relay alone in its process, as a deployment may run it). Emitters
write one event per transaction through `outbox.emit` (the row, its dispatch job, the
notification) at a steady rate across 5 organizations, in four types that land in the three
durable queues; a consumer on a private queue bound to `#` notes when each message arrives.
The worker reaches the broker through a TCP proxy of the bench's own: `--cut-broker 5` drops
it for 5 s a third into the run (the broker "killed mid-stream"), then lets it back.

Lag = the consumer's receipt minus the emitting transaction's commit (one clock: this machine's).
Reports the emitted rate, lag p50 / p95 / p99 / max, duplicates, whether the first deliveries
came in `seq` order, and published vs outbox counts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import statistics
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import aio_pika  # noqa: E402
from common import admin_url, as_role, drop_database, fresh_database  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from hackops.actor import SYSTEM  # noqa: E402
from hackops.bus.topology import QUEUES, Names, declare_exchange  # noqa: E402
from hackops.config import Settings  # noqa: E402
from hackops.db import Database  # noqa: E402
from hackops.outbox import catalog  # noqa: E402
from hackops.outbox.service import emit  # noqa: E402
from hackops.tenancy import set_tenant  # noqa: E402

DB_NAME = "hackops_bench_bus"
BROKER = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
ORGS = 5
console = Console()


class BrokerProxy:
    """127.0.0.1:port → the broker; `cut()` drops every connection and stops listening (the
    broker is gone for the worker), `restore()` listens again on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server: asyncio.Server | None = None
        self.transports: set[asyncio.BaseTransport] = set()
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self.server.sockets[0].getsockname()[1]

    restore = start

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for transport in list(self.transports):
            transport.abort()  # type: ignore[attr-defined]
        self.transports.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.transports |= {writer.transport, up_writer.transport}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        self.transports.discard(writer.transport)
        writer.transport.abort()


def payload(index: int) -> catalog.Payload:
    kind = index % 4
    if kind == 0:
        return catalog.RegistrationCreated(
            registration_id=uuid.uuid4(), user_id=uuid.uuid4(), status="registered"
        )
    if kind == 1:
        return catalog.SubmissionSubmitted(
            submission_id=uuid.uuid4(),
            team_id=uuid.uuid4(),
            version_id=uuid.uuid4(),
            version_number=1,
            late=False,
        )
    if kind == 2:
        return catalog.JudgeAssigned(judge_id=uuid.uuid4(), assigned=4)
    return catalog.TeamMemberJoined(team_id=uuid.uuid4(), user_id=uuid.uuid4(), via="code")


def seed_orgs(owner_url: str) -> list[uuid.UUID]:
    with psycopg.connect(owner_url) as conn:
        rows = conn.execute(
            "INSERT INTO organizations (id, slug, name)"
            " SELECT gen_random_uuid(), 'bench-' || g, 'Bench ' || g FROM generate_series(1, %s) g"
            " RETURNING id",
            (ORGS,),
        ).fetchall()
    return [row[0] for row in rows]


async def run(args: argparse.Namespace, owner_url: str) -> dict[str, object]:
    orgs = seed_orgs(owner_url)
    tag = f"bench-{secrets.token_hex(4)}"
    names = Names(exchange=f"{tag}.hackops.events", queue_prefix=f"{tag}.")
    app_url = as_role(owner_url, "hackops_app")
    settings = Settings(
        hackops_env="dev",
        database_url=app_url,
        database_pool_size=args.emitters + 2,
        amqp_url=SecretStr(BROKER),
        amqp_exchange=names.exchange,
        amqp_queue_prefix=names.queue_prefix,
        _env_file=None,  # type: ignore[call-arg]
    )
    received: dict[uuid.UUID, float] = {}
    seqs: list[int] = []  # of first deliveries, in arrival order
    deliveries = 0
    committed: dict[uuid.UUID, float] = {}
    expected = 1  # the warm-up event first
    arrived = asyncio.Event()

    connection = await aio_pika.connect(BROKER)
    channel = await connection.channel()
    exchange = await declare_exchange(channel, names)
    tap = await channel.declare_queue(exclusive=True, auto_delete=True)
    await tap.bind(exchange, routing_key="#")

    async def take(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        nonlocal deliveries
        deliveries += 1
        message_id = uuid.UUID(message.message_id or "")
        if message_id not in received:
            received[message_id] = time.time()
            seqs.append(int(str((message.headers or {}).get("seq", 0))))
        if len(received) >= expected:
            arrived.set()

    await tap.consume(take, no_ack=True)

    broker = urlsplit(BROKER)
    proxy = BrokerProxy(broker.hostname or "127.0.0.1", broker.port or 5672)
    await proxy.start()
    through_proxy = broker._replace(
        netloc=f"{broker.netloc.rpartition('@')[0]}@127.0.0.1:{proxy.port}"
    )
    command = ["events", "relay"] if args.relay_only else ["worker"]
    worker = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "hackops"),
        *command,
        env={
            **os.environ,
            "HACKOPS_ENV": "dev",
            "DATABASE_URL": app_url,
            "AMQP_URL": through_proxy.geturl(),
            "AMQP_EXCHANGE": names.exchange,
            "AMQP_QUEUE_PREFIX": names.queue_prefix,
            "LOG_LEVEL": "WARNING",
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=ROOT,
    )
    db = Database.from_settings(settings)
    try:
        # The relay is up once a first event goes through.
        await emit_one(db, orgs[0], 0, committed)
        try:
            await asyncio.wait_for(arrived.wait(), 60)
        except TimeoutError:
            raise SystemExit("the worker's relay published nothing within 60 s") from None
        total = int(args.rate * args.duration)
        process = psutil.Process(worker.pid)
        cpu_before = process.cpu_times()
        committed.clear()
        received.clear()
        seqs.clear()
        deliveries = 0
        expected = total
        arrived.clear()
        started = time.monotonic()

        async def emitter(first: int) -> None:
            for k in range(first, total, args.emitters):
                due = started + k / args.rate
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                await emit_one(db, orgs[k % ORGS], k, committed)

        async def outage() -> None:
            await asyncio.sleep(args.duration / 3)
            await proxy.cut()
            await asyncio.sleep(args.cut_broker)
            await proxy.restore()

        cuts = [outage()] if args.cut_broker else []
        await asyncio.gather(*(emitter(i) for i in range(args.emitters)), *cuts)
        emitted_in = time.monotonic() - started
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), 120)
        cpu_after = process.cpu_times()
        await asyncio.sleep(1.0)  # any late duplicate
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(worker.wait(), 30)
        except TimeoutError:
            worker.kill()
        await db.dispose()
        await proxy.cut()
        for queue in QUEUES:
            await channel.queue_delete(names.queue(queue))
        await channel.exchange_delete(names.exchange)
        await connection.close()

    with psycopg.connect(owner_url) as conn:
        outbox, published = conn.execute(
            "SELECT count(*), count(published_at) FROM outbox_events"
        ).fetchone() or (0, 0)
    lags = sorted((received[i] - committed[i]) * 1000 for i in committed if i in received)
    return {
        "emitted": len(committed),
        "rate": len(committed) / emitted_in,
        "received": len(received.keys() & committed.keys()),
        "duplicates": deliveries - len(received),
        "in_order": seqs == sorted(seqs),
        "outbox": outbox,
        "published": published,
        "lags": lags,
        "cpu_s": (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system),
    }


async def emit_one(
    db: Database, org: uuid.UUID, index: int, committed: dict[uuid.UUID, float]
) -> None:
    async with db.transaction() as session:
        await set_tenant(session, org)
        row = await emit(session, SYSTEM, payload(index), org_id=org)
    committed[row.id] = time.time()


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def report(args: argparse.Namespace, result: dict[str, object]) -> None:
    lags = result["lags"]
    assert isinstance(lags, list)
    where = "hackops events relay" if args.relay_only else "hackops worker (relay + job worker)"
    if args.cut_broker:
        where += f", broker cut for {args.cut_broker:g} s"
    table = Table(
        title=f"Outbox → RabbitMQ lag, {args.rate:g} events/s for {args.duration:g} s, {where}"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("events emitted (one per transaction)", str(result["emitted"]))
    table.add_row("emitted rate (events/s)", f"{result['rate']:.1f}")
    table.add_row("received by the consumer", str(result["received"]))
    table.add_row("duplicate deliveries (same message_id)", str(result["duplicates"]))
    table.add_row("first deliveries in seq order", "yes" if result["in_order"] else "NO")
    table.add_row("published / outbox rows", f"{result['published']} / {result['outbox']}")
    cpu = result["cpu_s"]
    assert isinstance(cpu, float)
    table.add_row("worker process CPU (s per 1,000 events)", f"{cpu * 1000 / len(lags):.2f}")
    if lags:
        for label, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
            table.add_row(f"lag {label} (ms)", f"{percentile(lags, q):.1f}")
        table.add_row("lag mean (ms)", f"{statistics.fmean(lags):.1f}")
        table.add_row("lag max (ms)", f"{lags[-1]:.1f}")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of emission")
    parser.add_argument("--emitters", type=int, default=8, help="concurrent emitting transactions")
    parser.add_argument(
        "--relay-only", action="store_true", help="run the relay alone, without the job worker"
    )
    parser.add_argument(
        "--cut-broker",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="cut the worker off the broker this long, a third into the run",
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        admin = admin_url(stack)
        owner_url = fresh_database(admin, DB_NAME)
        try:
            result = asyncio.run(run(args, owner_url))
        finally:
            drop_database(admin, DB_NAME)
    report(args, result)


if __name__ == "__main__":
    main()
