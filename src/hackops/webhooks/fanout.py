"""The webhooks channel of the outbox: one delivery per endpoint that wants the event.

Connected as `webhooks` by `hackops.wiring`; it runs inside the dispatcher's transaction
(`outbox.tasks.fan_out`), so the deliveries and their first jobs commit with the event's
dispatch mark or not at all. Each enabled endpoint of the event's organization subscribed to its
type (or to every type) gets one `webhook_deliveries` row — `INSERT … ON CONFLICT
(endpoint_id, outbox_event_id) DO NOTHING`, so a second fan-out adds nothing — and the job of
its first attempt is queued only for rows inserted now. `webhook.test` goes to the endpoint it
names only, whatever that endpoint subscribes to. Events without an organization go nowhere.
"""

from __future__ import annotations

import uuid

from sqlalchemy import any_, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.jobs import enqueue
from hackops.models import OutboxEvent, WebhookDelivery, WebhookEndpoint, new_id
from hackops.outbox.catalog import Payload, WebhookTest
from hackops.webhooks.tasks import QUEUE, deliver


async def webhooks(session: AsyncSession, row: OutboxEvent, payload: Payload) -> None:
    """The outbox channel: a delivery (and its first job) per interested endpoint, once."""
    if row.org_id is None:
        return
    query = select(WebhookEndpoint.id).where(
        WebhookEndpoint.org_id == row.org_id, WebhookEndpoint.enabled.is_(True)
    )
    if isinstance(payload, WebhookTest):
        query = query.where(WebhookEndpoint.id == payload.endpoint_id)
    else:
        query = query.where(
            or_(
                WebhookEndpoint.event_types.is_(None),
                literal(row.type) == any_(WebhookEndpoint.event_types),
            )
        )
    endpoint_ids = list(await session.scalars(query.order_by(WebhookEndpoint.created_at)))
    if not endpoint_ids:
        return
    inserted = await session.execute(
        insert(WebhookDelivery)
        .values(
            [
                {
                    "id": new_id(),
                    "org_id": row.org_id,
                    "endpoint_id": endpoint_id,
                    "outbox_event_id": row.id,
                    "event_type": row.type,
                    "job_token": uuid.uuid4(),
                }
                for endpoint_id in endpoint_ids
            ]
        )
        .on_conflict_do_nothing(index_elements=["endpoint_id", "outbox_event_id"])
        .returning(WebhookDelivery.id, WebhookDelivery.job_token)
    )
    for delivery_id, token in inserted.all():
        await enqueue(
            session, deliver, queue=QUEUE, delivery_id=str(delivery_id), token=str(token), attempt=1
        )
