"""The OpenAPI document's `webhooks` section: for every event type of the catalogue, the request
an endpoint receives (`message.document`'s shape, its `data` the type's payload with the ids).
Documentation only: these "operations" are ours to send, never routes of the app."""

from __future__ import annotations

import inspect
import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, create_model

from hackops.outbox.catalog import CATALOG, Payload
from hackops.outbox.openapi import ACKNOWLEDGE, NOT_ACKNOWLEDGED, TAG, describe

HEADERS = (
    "Headers: `webhook-id` (the event's id, the same on every retry), `webhook-timestamp` (Unix"
    " seconds of the attempt), `webhook-signature` (`v1,<base64 HMAC-SHA256>` of"
    " `{id}.{timestamp}.{body}` per secret in force, space-separated) — Standard Webhooks."
    " Answer 2xx within 10 seconds; anything else is retried for about three days."
)


def envelope(payload: type[Payload]) -> type[BaseModel]:
    """The body of a webhook of this type."""
    name = payload.__name__
    fields: dict[str, Any] = {
        "id": (uuid.UUID, Field(description="The event's id (also the webhook-id header).")),
        "version": (int, Field(description=f"The schema version of {payload.type}.")),
        "org_id": (uuid.UUID | None, Field(description="The organization.")),
        "event_id": (uuid.UUID | None, Field(description="The hackathon event, if any.")),
    }
    fields.update({key: (f.annotation, f) for key, f in payload.model_fields.items()})
    data: type[BaseModel] = create_model(
        f"{name}WebhookData", __config__=ConfigDict(extra="forbid"), **fields
    )
    kind: Any = Literal[payload.type]
    model: type[BaseModel] = create_model(
        f"{name}Webhook",
        type=(kind, Field(description="The event type.")),
        timestamp=(datetime, Field(description="When the event happened (UTC).")),
        data=(data, ...),
    )
    return model


def install(app: FastAPI) -> None:
    """Describe every event type under `webhooks` in the app's OpenAPI document."""
    for type_, payload in sorted(CATALOG.items()):
        body = envelope(payload)

        async def receive(body: Any) -> None:  # never called: a description of what we send
            return None

        receive.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter("body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=body)]
        )
        app.webhooks.post(
            type_,
            summary=payload.summary,
            description=describe(payload) + "\n\n" + HEADERS,
            operation_id=f"webhook_{type_.replace('.', '_')}",
            response_description=f"Received. {ACKNOWLEDGE}",
            responses=NOT_ACKNOWLEDGED,
            tags=[TAG],
        )(receive)
