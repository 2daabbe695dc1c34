"""How a domain event type is described in the OpenAPI document (its `webhooks` section, one
entry per catalogue type, built by `hackops.webhooks.openapi.install` with the body a webhook
endpoint receives: the envelope whose `data` is the type's payload). `docs/events.md` says
when each is written and who is told.
"""

from __future__ import annotations

from typing import Any

from hackops.outbox.catalog import Payload

TAG = "domain events"
ACKNOWLEDGE = "Any 2xx answer acknowledges the delivery."
#: What a receiver's other answers mean (it also keeps FastAPI from adding a 422 of its own).
NOT_ACKNOWLEDGED: dict[int | str, dict[str, Any]] = {
    "default": {"description": "Any other answer, or none: not acknowledged, delivered again."}
}


def describe(model: type[Payload]) -> str:
    return (
        f"{model.summary}\n\n"
        f"Type `{model.type}`, version {model.version}, preference category "
        f"`{model.category}`; the subject is the `{model.subject}`. "
        f"`data` holds the event's id, version, organization and hackathon event and its "
        f"payload: ids and plain values only. The same event may arrive more than once (at "
        f"least once): drop duplicates by the event id."
    )
