"""Request and response models of the webhooks API (the pages use the same input models)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from hackops.models import DeliveryStatus
from hackops.outbox.catalog import CATALOG, WebhookTest
from hackops.schemas import InputModel, OutputModel

#: The types an endpoint can subscribe to (`webhook.test` goes only where it is sent).
SUBSCRIBABLE = tuple(sorted(t for t in CATALOG if t != WebhookTest.type))
MAX_TYPES = len(CATALOG)


def _check_types(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    if not value:
        raise ValueError(
            "Choose at least one event type, or send null to receive every type (also the ones "
            "added later)."
        )
    unknown = [t for t in value if t not in SUBSCRIBABLE]
    if unknown:
        raise ValueError(
            f"{unknown[0]!r} is not an event type an endpoint can subscribe to; the types are "
            "listed by GET …/webhooks/event-types."
        )
    return sorted(set(value))


EventTypes = Annotated[
    list[Annotated[str, Field(max_length=80)]] | None,
    Field(max_length=MAX_TYPES, description="The event types to send; null: every type."),
    AfterValidator(_check_types),
]
Url = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2000,
        description="Where to POST the events: https:// (http:// in dev mode only), a public host.",
    ),
]
Description = Annotated[str, Field(max_length=500)]


class EndpointIn(InputModel):
    url: Url
    description: Description = ""
    event_types: EventTypes = None
    enabled: bool = True


class EndpointUpdate(InputModel):
    """Fields to change; one left out (or null, except `event_types`) stays as it is.
    `event_types: null` means every type."""

    url: Url | None = None
    description: Description | None = None
    event_types: EventTypes = None
    enabled: bool | None = None

    def changes(self) -> dict[str, Any]:
        sent = self.model_dump(exclude_unset=True)
        return {k: v for k, v in sent.items() if v is not None or k == "event_types"}


class RotateIn(InputModel):
    overlap_hours: Annotated[int, Field(ge=0, le=168)] = Field(
        default=24,
        description="How long the previous secret keeps signing beside the new one (0: stop now).",
    )


class EventTypeOut(OutputModel):
    type: str
    version: int
    category: str
    summary: str


class EndpointOut(OutputModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str] | None
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str
    previous_secret_expires_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None
    last_success_at: datetime | None
    created_at: datetime
    updated_at: datetime


class EndpointCreated(EndpointOut):
    secret: str = Field(description="The signing secret: shown this once, keep it safe.")


class SecretOut(OutputModel):
    secret: str = Field(description="The new signing secret: shown this once.")
    previous_secret_expires_at: datetime | None = Field(
        description="Until when the previous secret also signs (null: it no longer does)."
    )


class TestSent(OutputModel):
    event_id: uuid.UUID = Field(description="The test event's id (its webhook-id header).")


class DeliveryOut(OutputModel):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    outbox_event_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None


class AttemptOut(OutputModel):
    number: int
    manual: bool
    started_at: datetime
    status_code: int | None
    latency_ms: int
    succeeded: bool
    response_excerpt: str
    error: str


class DeliveryDetail(DeliveryOut):
    log: list[AttemptOut] = Field(description="Every attempt, first to last.")


class DeliveryPage(OutputModel):
    items: list[DeliveryOut]
    next_cursor: str | None
