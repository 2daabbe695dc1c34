"""The relay against the real RabbitMQ: every committed event arrives once, in `seq` order, with
its routing key, properties and headers, in the durable queues bound to it; a rolled-back event
never arrives; a transaction still open holds back the events after its own."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid

import pytest
from aio_pika import DeliveryMode

from hackops.actor import SYSTEM
from hackops.bus.messages import envelope
from hackops.bus.relay import Relay
from hackops.bus.topology import QUEUES, Names, queues_for
from hackops.config import Settings
from hackops.db import Database
from hackops.main import create_app
from hackops.models import OutboxEvent
from hackops.outbox.service import emit
from hackops.tenancy import set_actor, set_tenant
from tests.bus.helpers import (
    BROKER,
    drain_queue,
    emit_committed,
    eventually,
    outbox_state,
    running,
    sample_payloads,
    tap,
)
from tests.factories import create_organization

pytestmark = pytest.mark.rabbitmq


async def two_orgs(db: Database) -> tuple[uuid.UUID, uuid.UUID]:
    async with db.transaction() as session:
        first = await create_organization(session)
        second = await create_organization(session)
    return first.id, second.id


async def test_every_committed_event_arrives_once_in_seq_order_with_its_headers(
    db: Database, relay_settings: Settings, names: Names
) -> None:
    org_a, org_b = await two_orgs(db)
    async with db.sessionmaker() as session:  # emitted, then rolled back: never published
        await set_tenant(session, org_a)
        for payload in sample_payloads(3):
            await emit(session, SYSTEM, payload, org_id=org_a)
        await session.rollback()
    ids = await emit_committed(db, org_a, 12, per_transaction=5)
    ids += await emit_committed(db, None, 2)
    ids += await emit_committed(db, org_b, 12, per_transaction=4)

    async with tap(names) as found:
        relay = Relay(relay_settings, batch=7, poll_s=0.5)
        async with running(relay):
            await eventually(lambda: len(found.messages) >= len(ids), what="the backlog")
            # committed while the relay waits: it is woken by the outbox's notification
            more = await emit_committed(db, org_b, 5)
            await eventually(lambda: len(found.messages) >= len(ids) + 5, what="new events")
            await asyncio.sleep(0.5)  # and nothing else comes
        assert relay.published == len(ids) + 5

    assert found.ids == ids + more
    assert await outbox_state(db) == (len(ids) + 5, len(ids) + 5)

    async with db.transaction() as session:
        await set_actor(session, None, platform_admin=True)
        rows = {i: await session.get_one(OutboxEvent, i) for i in ids + more}
    for message in found.messages:
        row = rows[uuid.UUID(message.message_id or "")]
        org = "platform" if row.org_id is None else str(row.org_id)
        assert message.routing_key == f"{org}.{row.type}"
        assert message.exchange == names.exchange
        assert message.content_type == "application/json"
        assert message.delivery_mode == DeliveryMode.PERSISTENT
        assert message.type == row.type
        assert message.app_id == "hackops"
        assert message.headers == {"schema-version": row.version, "type": row.type, "seq": row.seq}
        assert message.timestamp == row.occurred_at.replace(microsecond=0)
        assert json.loads(message.body) == envelope(row)
        assert row.published_at is not None
    platform_keys = [m.routing_key for m in found.messages[12:14]]
    assert platform_keys == ["platform.registration.created", "platform.submission.submitted"]
    first = rows[ids[0]]
    assert json.loads(found.messages[0].body) == {
        "id": str(first.id),
        "type": "registration.created",
        "version": 1,
        "org_id": str(org_a),
        "event_id": None,
        "actor_id": None,
        "subject": {"type": "registration", "id": first.payload["registration_id"]},
        "occurred_at": first.occurred_at.isoformat(),
        "payload": first.payload,
    }

    # The durable queues hold what their bindings route to them, in order.
    keys = {uuid.UUID(m.message_id or ""): m.routing_key or "" for m in found.messages}
    for queue in QUEUES:
        held = [uuid.UUID(m.message_id or "") for m in await drain_queue(names, queue)]
        assert held == [i for i in ids + more if queue in queues_for(keys[i])], queue
    by_type = {rows[i].type: queues_for(keys[i]) for i in ids}
    assert by_type == {
        "registration.created": ["notifications"],
        "submission.submitted": ["submission_processing", "notifications"],
        "judging.judge_assigned": ["notifications", "evaluation_assignment"],
        "webhook.test": [],
    }


async def test_an_open_transaction_holds_back_the_events_after_its_own(
    db: Database, relay_settings: Settings, names: Names
) -> None:
    org, _ = await two_orgs(db)
    async with tap(names) as found, running(Relay(relay_settings, poll_s=0.2)):
        async with db.sessionmaker() as early:
            await set_tenant(early, org)
            held = await emit(early, SYSTEM, sample_payloads(1)[0], org_id=org)
            later = await emit_committed(db, org, 3)  # higher seq, committed first
            await asyncio.sleep(1.5)
            assert found.messages == []  # the relay waits for the lower seq to settle
            await early.commit()
        await eventually(lambda: len(found.messages) >= 4, what="all four")

        async with db.sessionmaker() as doomed:  # an open transaction that rolls back
            await set_tenant(doomed, org)
            await emit(doomed, SYSTEM, sample_payloads(1)[0], org_id=org)
            after = await emit_committed(db, org, 2)
            await asyncio.sleep(1.0)
            assert len(found.messages) == 4
            await doomed.rollback()
        await eventually(lambda: len(found.messages) >= 6, what="the two after the rollback")
        await asyncio.sleep(0.3)
    assert found.ids == [held.id, *later, *after]


async def test_the_in_process_worker_runs_the_relay_when_amqp_url_is_set(
    db: Database, relay_settings: Settings, names: Names
) -> None:
    org, _ = await two_orgs(db)
    app = create_app(relay_settings.model_copy(update={"run_worker_in_process": True}), database=db)
    async with tap(names) as found, app.router.lifespan_context(app):
        ids = await emit_committed(db, org, 3)
        await eventually(lambda: len(found.messages) >= 3, what="three events")
    assert found.ids == ids


@pytest.mark.slow
async def test_hackops_worker_runs_the_relay_and_stops_with_it(
    db: Database, relay_settings: Settings, names: Names
) -> None:
    org, _ = await two_orgs(db)
    worker = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "hackops", "worker"),
        env={
            **os.environ,
            "HACKOPS_ENV": "dev",
            "LOG_JSON": "false",
            "DATABASE_URL": relay_settings.database_url or "",
            "AMQP_URL": BROKER,
            "AMQP_EXCHANGE": names.exchange,
            "AMQP_QUEUE_PREFIX": names.queue_prefix,
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with tap(names) as found:
            ids = await emit_committed(db, org, 4)
            await eventually(lambda: len(found.messages) >= 4, what="four events", within=60)
        worker.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(worker.communicate(), 30)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    assert found.ids == ids
    assert worker.returncode == 0, err.decode()
    assert "Event bus relay to amqp://guest:***@127.0.0.1:5672/" in err.decode()
