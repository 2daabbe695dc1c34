"""What the bus declares on the broker, and how an event is routed.

One durable topic exchange (`AMQP_EXCHANGE`, default `hackops.events`). Each event is published
with the routing key `<org id>.<event type>` — `platform.<event type>` for an event of no
organization — so `<org id>.#` is everything of one organization and `*.submission.#` every
submission event of every organization.

The specification's three queues are durable and bound to the keys that concern them (an
organization's own consumers attach to them, or bind queues of their own to the exchange):

- `submission_processing` ← `*.submission.#`: every step of a project's life (submitted,
  processed, processing failed, approved, rejected).
- `notifications` ← `*.<type>` for every type of the catalogue but those in `NOT_TOLD`: every
  type that tells people something (registrations, teams, submissions, judging, results,
  announcements, reminders, notices to owners); `webhook.test` concerns one endpoint and tells
  nobody. A type added to the catalogue is bound the next time a relay connects.
- `evaluation_assignment` ← `*.judging.judge_assigned`, `*.judging.evaluation_reminder` (judges
  handed work and reminded of it), `*.submission.approved`, `*.submission.rejected` (a project
  entering or leaving judging), `*.results.published` (judging is over).

Every declaration is idempotent (same name, same flags), made each time a relay connects.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hackops.config import Settings
from hackops.outbox.catalog import CATALOG

if TYPE_CHECKING:
    from aio_pika.abc import AbstractChannel, AbstractExchange

#: The organization segment of the routing key of an event that belongs to no organization.
PLATFORM = "platform"
#: Event types that tell nobody: not bound to `notifications`.
NOT_TOLD = frozenset({"webhook.test"})

SUBMISSION_PROCESSING = "submission_processing"
NOTIFICATIONS = "notifications"
EVALUATION_ASSIGNMENT = "evaluation_assignment"


def _told_types() -> tuple[str, ...]:
    return tuple(sorted(set(CATALOG) - NOT_TOLD))


#: Queue (without the prefix) → its binding keys.
QUEUES: dict[str, tuple[str, ...]] = {
    SUBMISSION_PROCESSING: ("*.submission.#",),
    NOTIFICATIONS: tuple(f"*.{event_type}" for event_type in _told_types()),
    EVALUATION_ASSIGNMENT: (
        "*.judging.judge_assigned",
        "*.judging.evaluation_reminder",
        "*.submission.approved",
        "*.submission.rejected",
        "*.results.published",
    ),
}


@dataclass(frozen=True)
class Names:
    """The exchange and queue names of one installation (its settings)."""

    exchange: str
    queue_prefix: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Names:
        return cls(settings.amqp_exchange, settings.amqp_queue_prefix)

    def queue(self, name: str) -> str:
        return f"{self.queue_prefix}{name}"


def routing_key(org_id: uuid.UUID | None, event_type: str) -> str:
    return f"{org_id or PLATFORM}.{event_type}"


def topic_matches(pattern: str, key: str) -> bool:
    """Whether a topic binding `pattern` matches routing `key` as RabbitMQ decides it
    (`*` one word, `#` zero or more words)."""

    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        head, rest = p[0], p[1:]
        if head == "#":
            return any(match(rest, k[i:]) for i in range(len(k) + 1))
        return bool(k) and (head == "*" or head == k[0]) and match(rest, k[1:])

    return match(pattern.split("."), key.split("."))


def queues_for(key: str) -> list[str]:
    """The declared queues (without prefix) an event with routing `key` lands in."""
    return [name for name, keys in QUEUES.items() if any(topic_matches(p, key) for p in keys)]


async def declare_exchange(channel: AbstractChannel, names: Names) -> AbstractExchange:
    return await channel.declare_exchange(names.exchange, "topic", durable=True)


async def declare(channel: AbstractChannel, names: Names) -> AbstractExchange:
    """The exchange, the three durable queues and their bindings (idempotent)."""
    exchange = await declare_exchange(channel, names)
    for name, keys in QUEUES.items():
        queue = await channel.declare_queue(names.queue(name), durable=True)
        for key in keys:
            await queue.bind(exchange, routing_key=key)
    return exchange
