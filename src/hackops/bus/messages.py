"""What one published message holds.

Body: the event's envelope as JSON (`envelope`), the same fields for every type, the typed
payload under `payload` (its schema per type and version: `outbox.catalog`, `docs/events.md`).
Properties: persistent (delivery mode 2), `message_id` = the event's id (a consumer drops a
duplicate by it: delivery is at least once), `content_type` application/json, `type` and
`timestamp` (when it happened); headers `schema-version` (the payload's version), `type` and
`seq` (the outbox's order; gaps are rolled-back transactions, not losses).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from hackops.bus.topology import routing_key

if TYPE_CHECKING:
    from aio_pika import Message

CONTENT_TYPE = "application/json"
APP_ID = "hackops"


class EventRow(Protocol):
    """An outbox row as the relay reads it (`EventRecord`) or the ORM loads it (`OutboxEvent`)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def seq(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def org_id(self) -> uuid.UUID | None: ...
    @property
    def event_id(self) -> uuid.UUID | None: ...
    @property
    def actor_id(self) -> uuid.UUID | None: ...
    @property
    def subject_type(self) -> str: ...
    @property
    def subject_id(self) -> uuid.UUID | None: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def payload(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class EventRecord:
    """One outbox row as the relay reads it on its own connection (`relay._FETCH`)."""

    id: uuid.UUID
    seq: int
    type: str
    version: int
    org_id: uuid.UUID | None
    event_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    subject_type: str
    subject_id: uuid.UUID | None
    occurred_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True)
class Outgoing:
    """One outbox row as the relay publishes it (read in a short transaction, published after)."""

    id: uuid.UUID
    seq: int
    type: str
    version: int
    org_id: uuid.UUID | None
    occurred_at: datetime
    routing_key: str
    body: bytes

    @classmethod
    def from_row(cls, row: EventRow) -> Outgoing:
        return cls(
            id=row.id,
            seq=row.seq,
            type=row.type,
            version=row.version,
            org_id=row.org_id,
            occurred_at=row.occurred_at,
            routing_key=routing_key(row.org_id, row.type),
            body=json.dumps(envelope(row), separators=(",", ":")).encode(),
        )

    def headers(self) -> dict[str, Any]:
        return {"schema-version": self.version, "type": self.type, "seq": self.seq}

    def message(self) -> Message:
        # lazy third-party import: RabbitMQ's client is loaded only where AMQP_URL is set
        from aio_pika import DeliveryMode, Message

        return Message(
            self.body,
            content_type=CONTENT_TYPE,
            delivery_mode=DeliveryMode.PERSISTENT,
            message_id=str(self.id),
            timestamp=self.occurred_at,
            type=self.type,
            app_id=APP_ID,
            headers=self.headers(),
        )


def envelope(row: EventRow) -> dict[str, Any]:
    """The event as consumers receive it (ids and plain values only, like its payload)."""
    return {
        "id": str(row.id),
        "type": row.type,
        "version": row.version,
        "org_id": _str(row.org_id),
        "event_id": _str(row.event_id),
        "actor_id": _str(row.actor_id),
        "subject": {"type": row.subject_type, "id": _str(row.subject_id)},
        "occurred_at": row.occurred_at.isoformat(),
        "payload": row.payload,
    }


def _str(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
