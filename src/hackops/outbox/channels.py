"""The channels domain events fan out to, connected by `hackops.wiring` (they are upper
domains: people's notifications, the organization's webhooks)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import OutboxEvent
from hackops.outbox.catalog import Payload

#: The PostgreSQL channel a commit with new events notifies (the broker relay listens).
NOTIFY_CHANNEL = "hackops_outbox"

ChannelFn = Callable[[AsyncSession, OutboxEvent, Payload], Awaitable[None]]


class ChannelAlreadyConnected(RuntimeError):
    """Two different functions under one channel name."""


_channels: dict[str, ChannelFn] = {}


def connect_channel(name: str, channel: ChannelFn) -> None:
    """Connect a fan-out channel (idempotent for the same function)."""
    existing = _channels.get(name)
    if existing is not None and existing is not channel:
        raise ChannelAlreadyConnected(f"channel {name!r} is already connected")
    _channels[name] = channel


def channels() -> list[tuple[str, ChannelFn]]:
    return list(_channels.items())


def dispatch_lock(event_id: uuid.UUID) -> str:
    """At most one waiting dispatch job per event (procrastinate's queueing lock)."""
    return f"outbox:{event_id}"
