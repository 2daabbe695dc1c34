"""The body every webhook carries: Standard Webhooks' recommended shape,
`{"type", "timestamp", "data"}`, built from the outbox row alone — so every attempt of one
delivery sends the same bytes.

`data` holds the event's ids (`id` — also the `webhook-id` header —, `version` of the type's
schema, `org_id`, `event_id` of the hackathon when there is one) and the payload's fields
(`outbox.catalog`: ids and plain values only). `timestamp` is when the event happened.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from hackops.models import OutboxEvent


def document(event: OutboxEvent) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(event.id),
        "version": event.version,
        "org_id": None if event.org_id is None else str(event.org_id),
        "event_id": None if event.event_id is None else str(event.event_id),
    }
    data.update(event.payload)
    occurred = event.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {"type": event.type, "timestamp": occurred, "data": data}


def body(event: OutboxEvent) -> bytes:
    return json.dumps(document(event), separators=(",", ":"), ensure_ascii=False).encode()
