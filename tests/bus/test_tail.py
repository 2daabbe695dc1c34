"""`hackops events tail`: the live stream through a private queue (the real command), what a
durable queue receives without taking from it, and one clear line when it cannot run."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from typing import Any

import pytest
from aio_pika.abc import AbstractIncomingMessage
from pydantic import SecretStr
from typer.testing import CliRunner

from hackops.bus import tail
from hackops.bus.relay import Relay
from hackops.bus.topology import Names
from hackops.cli import app
from hackops.config import Settings
from hackops.db import Database
from tests.bus.helpers import (
    BROKER,
    drain_queue,
    emit_committed,
    eventually,
    outbox_state,
    proxy_to,
    running,
)
from tests.factories import create_organization
from tests.outage import free_port

pytestmark = pytest.mark.rabbitmq


async def two_orgs(db: Database) -> tuple[uuid.UUID, uuid.UUID]:
    async with db.transaction() as session:
        return (await create_organization(session)).id, (await create_organization(session)).id


async def test_the_command_shows_the_events_of_one_organization_and_type_as_they_come(
    db: Database, relay_settings: Settings, names: Names
) -> None:
    mine, other = await two_orgs(db)
    command = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "hackops", "events", "tail", "--json", "--max", "2"),
        *("--org", str(mine), "--type", "registration.*"),
        env={
            **os.environ,
            "HACKOPS_ENV": "dev",
            "LOG_JSON": "false",
            "AMQP_URL": BROKER,
            "AMQP_EXCHANGE": names.exchange,
            "AMQP_QUEUE_PREFIX": names.queue_prefix,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert command.stderr is not None
        watching = await asyncio.wait_for(command.stderr.readline(), 60)
        assert watching.decode().startswith(f"Watching {names.exchange} ({mine}.registration.*)")
        async with running(Relay(relay_settings, poll_s=0.2)):
            await emit_committed(db, other, 4)  # another organization: not shown
            # registration.created, submission.submitted, judge_assigned, webhook.test, …
            ids = await emit_committed(db, mine, 8)
            out, _ = await asyncio.wait_for(command.communicate(), 30)
    finally:
        if command.returncode is None:
            command.kill()
            await command.wait()
    assert command.returncode == 0
    shown = [json.loads(line) for line in out.decode().splitlines()]
    assert [event["id"] for event in shown] == [str(ids[0]), str(ids[4])]
    assert {(event["type"], event["org_id"]) for event in shown} == {
        ("registration.created", str(mine))
    }


async def test_watching_a_queue_shows_what_it_receives_and_takes_nothing_from_it(
    db: Database, relay_settings: Settings, names: Names
) -> None:
    org, _ = await two_orgs(db)
    spec = tail.watch("submission_processing", None, None)
    seen: list[AbstractIncomingMessage] = []
    ready = asyncio.Event()

    async def show(message: AbstractIncomingMessage) -> None:
        seen.append(message)

    async with running(Relay(relay_settings, poll_s=0.2)) as _:
        watcher = asyncio.create_task(
            tail.tail(relay_settings, spec, show, on_ready=ready.set, limit=3)
        )
        await asyncio.wait_for(ready.wait(), 30)
        ids = await emit_committed(db, org, 12)
        assert await asyncio.wait_for(watcher, 30) == 3
        await eventually(lambda: _published(db, 12), what="all published")
    submitted = ids[1::4]  # the submission.submitted ones
    assert [uuid.UUID(m.message_id or "") for m in seen] == submitted
    held = await drain_queue(names, "submission_processing")
    assert [uuid.UUID(m.message_id or "") for m in held] == submitted  # nothing taken
    assert not any(m.redelivered for m in held)


async def _published(db: Database, count: int) -> bool:
    return await outbox_state(db) == (count, count)


def test_options_become_binding_keys() -> None:
    org = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    assert tail.watch(None, None, None).keys == ("*.#",)
    assert tail.watch(None, org, "team.#").keys == (f"{org}.team.#",)
    assert tail.watch(None, "platform", None).keys == ("platform.#",)
    assert tail.watch("submission_processing", org, None).keys == (f"{org}.submission.#",)
    judged = tail.watch("evaluation_assignment", None, "judging.*")
    assert judged.keys[:2] == ("*.judging.judge_assigned", "*.judging.evaluation_reminder")
    assert judged.wants(f"{org}.judging.judge_assigned")
    assert not judged.wants(f"{org}.submission.approved")


@pytest.mark.parametrize(
    ("args", "env", "code", "line"),
    [
        (
            [],
            {"AMQP_URL": ""},
            2,
            "AMQP_URL is not set, so the event bus is off: point HackOps at a broker, e.g."
            " AMQP_URL=amqp://user:password@host:5672/vhost",
        ),
        (
            [],
            {"AMQP_URL": f"amqp://guest:hunter2pw@127.0.0.1:{free_port()}/"},
            1,
            "cannot reach the broker at amqp://guest:***@127.0.0.1:",
        ),
        (
            ["--queue", "everything"],
            {"AMQP_URL": BROKER},
            2,
            "unknown queue 'everything': choose one of submission_processing, notifications,"
            " evaluation_assignment",
        ),
        (["--org", "acme"], {"AMQP_URL": BROKER}, 2, "--org must be an organization id"),
        (["--type", "Team Joined"], {"AMQP_URL": BROKER}, 2, "--type must be an event type"),
        ([], {"AMQP_URL": "amqp://guest:hunter2pw@:5672/"}, 2, "Invalid configuration: AMQP_URL"),
    ],
)
def test_the_command_says_in_one_line_why_it_cannot_run(
    args: list[str], env: dict[str, Any], code: int, line: str
) -> None:
    result = CliRunner().invoke(
        app, ["events", "tail", *args], env={"HACKOPS_ENV": "dev", "LOG_JSON": "false", **env}
    )
    assert result.exit_code == code, result.output
    assert result.output.replace("\n", " ").startswith(line), result.output
    assert "hunter2pw" not in result.output


async def test_watching_ends_with_one_line_when_the_broker_goes_away(
    relay_settings: Settings,
) -> None:
    async with proxy_to(5672) as broker:
        proxied = relay_settings.model_copy(
            update={"amqp_url": SecretStr(f"amqp://guest:guest@127.0.0.1:{broker.port}/")}
        )
        ready = asyncio.Event()
        watcher = asyncio.create_task(
            tail.tail(proxied, tail.watch(None, None, None), _ignore, on_ready=ready.set)
        )
        await asyncio.wait_for(ready.wait(), 30)
        await broker.cut()
        with pytest.raises(tail.TailError) as lost:
            await asyncio.wait_for(watcher, 30)
    assert str(lost.value).startswith(
        f"lost the broker at amqp://guest:***@127.0.0.1:{broker.port}/ ("
    )


async def _ignore(message: AbstractIncomingMessage) -> None:
    pass


def test_the_relay_command_needs_amqp_url() -> None:
    result = CliRunner().invoke(
        app,
        ["events", "relay"],
        env={"HACKOPS_ENV": "dev", "AMQP_URL": "", "DATABASE_URL": "postgresql://x@127.0.0.1/x"},
    )
    assert result.exit_code == 2, result.output
    assert result.output.replace("\n", " ").startswith("AMQP_URL is not set, so the event bus")
