"""`hackops events tail`: watch the event stream live, without taking anything from anyone.

The stream is read through a private queue of the command's own — exclusive, auto-deleted when
the command ends — bound to the exchange; the durable queues and their consumers never notice.
Default: bound to `<org or *>.<type pattern or #>`. With `--queue NAME`: bound with NAME's own
binding keys, so it shows exactly what NAME receives from now on. Consuming NAME itself would
steal: RabbitMQ hands each message of a queue to one of its consumers, so a watcher on the queue
takes messages from the real consumers (and rejecting them back re-delivers them out of order,
marked redelivered, to the watcher again as soon as to anyone).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hackops.bus.topology import PLATFORM, QUEUES, Names, declare_exchange, topic_matches
from hackops.config import Settings, hide_password

if TYPE_CHECKING:
    from aio_pika.abc import AbstractIncomingMessage

CONNECT_TIMEOUT_S = 5.0
_TYPE_PATTERN = re.compile(r"^([a-z0-9_]+|\*|#)(\.([a-z0-9_]+|\*|#))*$")


class TailError(Exception):
    """What stops the command, in one line for people (exit code 1, or 2 for a bad option)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True)
class Watch:
    """What to watch: the binding keys of the private queue and a filter on what arrives."""

    keys: tuple[str, ...]
    type_pattern: str | None = None

    def wants(self, routing_key: str) -> bool:
        if self.type_pattern is None:
            return True
        return topic_matches(self.type_pattern, routing_key.partition(".")[2])


def watch(queue: str | None, org: str | None, type_pattern: str | None) -> Watch:
    """The binding keys for the options (a bad option raises `TailError(usage=True)`)."""
    if org is not None and org != PLATFORM:
        try:
            org = str(uuid.UUID(org))
        except ValueError:
            raise TailError(
                f"--org must be an organization id (a UUID) or {PLATFORM!r}", usage=True
            ) from None
    if type_pattern is not None and not _TYPE_PATTERN.match(type_pattern):
        raise TailError(
            "--type must be an event type or a pattern of words joined by dots, with * for one"
            " word and # for any number (e.g. submission.# or *.flag_raised)",
            usage=True,
        )
    if queue is None:
        return Watch((f"{org or '*'}.{type_pattern or '#'}",))
    if queue not in QUEUES:
        raise TailError(f"unknown queue {queue!r}: choose one of {', '.join(QUEUES)}", usage=True)
    keys = tuple(f"{org}.{key.partition('.')[2]}" if org else key for key in QUEUES[queue])
    return Watch(keys, type_pattern)


async def tail(
    settings: Settings,
    spec: Watch,
    on_message: Callable[[AbstractIncomingMessage], Awaitable[None]],
    *,
    on_ready: Callable[[], Any] | None = None,
    limit: int | None = None,
) -> int:
    """Show messages as they come until cancelled (or `limit` shown); how many were shown."""
    if settings.amqp_url is None:
        raise TailError(
            "AMQP_URL is not set, so the event bus is off: point HackOps at a broker, e.g."
            " AMQP_URL=amqp://user:password@host:5672/vhost",
            usage=True,
        )
    # lazy third-party import: RabbitMQ's client is loaded only where AMQP_URL is set
    import aio_pika

    url = settings.amqp_url.get_secret_value()
    try:
        connection = await aio_pika.connect(
            url,
            timeout=CONNECT_TIMEOUT_S,
            client_properties={"connection_name": "hackops events tail"},
        )
    except Exception as exc:
        raise TailError(
            f"cannot reach the broker at {settings.amqp_url_shown}"
            f" ({type(exc).__name__}: {hide_password(str(exc), url)})"
        ) from None
    shown = 0
    done = asyncio.Event()
    lost: list[str] = []

    def closed(_: object, exc: BaseException | None = None) -> None:
        if not done.is_set():  # the broker went away (or closed us), not our own close
            lost.append(f"{type(exc).__name__}: {hide_password(str(exc), url)}" if exc else "")
            done.set()

    connection.close_callbacks.add(closed)
    async with connection:
        channel = await connection.channel()
        exchange = await declare_exchange(channel, Names.from_settings(settings))
        private = await channel.declare_queue(exclusive=True, auto_delete=True)
        for key in spec.keys:
            await private.bind(exchange, routing_key=key)

        async def deliver(message: AbstractIncomingMessage) -> None:
            nonlocal shown
            if done.is_set() or not spec.wants(message.routing_key or ""):
                return
            shown += 1
            await on_message(message)
            if limit is not None and shown >= limit:
                done.set()

        await private.consume(deliver, no_ack=True)
        if on_ready is not None:
            on_ready()
        await done.wait()
    if lost:
        raise TailError(f"lost the broker at {settings.amqp_url_shown} ({lost[0] or 'closed'})")
    return shown
