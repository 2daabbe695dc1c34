"""The domain events in the OpenAPI document: one `webhooks` entry per catalogue type.

OpenAPI 3.1 describes requests the API *sends* under `webhooks`; FastAPI builds them from the
routes of `app.webhooks`. Each type gets one `POST <type>` whose body is its payload model
(`catalog.CATALOG`), so /docs shows every event's fields, their types and meaning — the same
JSON the outbox stores, the organization's webhooks and the RabbitMQ stream carry. The routes
are documentation only: `app.webhooks` is never served. `docs/events.md` says when each is
written and who is told.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from hackops.outbox.catalog import CATALOG, Payload

TAG = "domain events"
ACKNOWLEDGE = "Any 2xx answer acknowledges the delivery."
#: What a receiver's other answers mean (it also keeps FastAPI from adding a 422 of its own).
NOT_ACKNOWLEDGED: dict[int | str, dict[str, Any]] = {
    "default": {"description": "Any other answer, or none: not acknowledged, delivered again."}
}


def _receiver(model: type[Payload]) -> Callable[..., Awaitable[None]]:
    """A receiving endpoint whose body is `model` (built per type: the signature is the
    document)."""

    async def receive(payload: Payload) -> None:  # pragma: no cover - never served
        return None

    receive.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("payload", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=model)],
        return_annotation=None,
    )
    receive.__name__ = f"receive_{model.type.replace('.', '_')}"
    return receive


def describe(model: type[Payload]) -> str:
    return (
        f"{model.summary}\n\n"
        f"Type `{model.type}`, version {model.version}, preference category "
        f"`{model.category}`; the subject is the `{model.subject}` "
        f"(`subject_id` of the envelope). The body shown is the event's payload: ids and plain "
        f"values only; the same event may arrive more than once (at least once): drop "
        f"duplicates by the event id."
    )


def document_events(app: FastAPI) -> None:
    """Add one `webhooks` entry per catalogue type (idempotent per app)."""
    known = {getattr(route, "name", None) for route in app.webhooks.routes}
    for type_, model in CATALOG.items():
        receive = _receiver(model)
        if receive.__name__ in known:
            continue
        app.webhooks.add_api_route(
            type_,
            receive,
            methods=["POST"],
            name=receive.__name__,
            operation_id=f"event_{type_.replace('.', '_')}",
            summary=model.summary,
            description=describe(model),
            tags=[TAG],
            status_code=200,
            response_description=f"Received. {ACKNOWLEDGE}",
            responses=NOT_ACKNOWLEDGED,
        )
