"""Webhooks API: an organization's endpoints, their secrets, test events and delivery log
(`/organizations/{slug}/webhooks…`, admins and owners only; others get 403, non-members and
other organizations' endpoints 404)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import Query, Response, status

from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.models import DeliveryStatus
from hackops.orgs.deps import OrgAdminDep
from hackops.outbox.catalog import CATALOG
from hackops.routing import Router
from hackops.webhooks import service
from hackops.webhooks.access import checked_url
from hackops.webhooks.deps import EndpointDep, PolicyDep, SecretKeyDep
from hackops.webhooks.schemas import (
    SUBSCRIBABLE,
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    EndpointUpdate,
    EventTypeOut,
    RotateIn,
    SecretOut,
    TestSent,
)

router = Router(prefix="/organizations/{slug}/webhooks", tags=["webhooks"])

READ_ERRORS = error_responses(401, 403, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get(
    "/event-types",
    response_model=list[EventTypeOut],
    summary="The event types an endpoint can subscribe to",
    responses=READ_ERRORS,
)
async def event_types(access: OrgAdminDep) -> list[EventTypeOut]:
    return [
        EventTypeOut(
            type=t,
            version=CATALOG[t].version,
            category=CATALOG[t].category,
            summary=CATALOG[t].summary,
        )
        for t in SUBSCRIBABLE
    ]


@router.get(
    "",
    response_model=list[EndpointOut],
    summary="The organization's webhook endpoints",
    responses=READ_ERRORS,
)
async def list_endpoints(session: SessionDep, access: OrgAdminDep) -> list[EndpointOut]:
    return [EndpointOut.model_validate(e) for e in await service.list_endpoints(session, access)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EndpointCreated,
    summary="Add an endpoint (its signing secret is in this answer only)",
    responses=WRITE_ERRORS,
)
async def create_endpoint(
    body: EndpointIn,
    session: SessionDep,
    access: OrgAdminDep,
    policy: PolicyDep,
    secret_key: SecretKeyDep,
) -> EndpointCreated:
    access, url = await checked_url(session, access, body.url, policy)
    endpoint, secret = await service.create_endpoint(
        session, access, body, url=url, secret_key=secret_key
    )
    out = EndpointOut.model_validate(endpoint)
    return EndpointCreated(**out.model_dump(), secret=secret)


@router.get(
    "/{endpoint_id}",
    response_model=EndpointOut,
    summary="One endpoint",
    responses=READ_ERRORS,
)
async def get_endpoint(found: EndpointDep) -> EndpointOut:
    return EndpointOut.model_validate(found.endpoint)


@router.patch(
    "/{endpoint_id}",
    response_model=EndpointOut,
    summary="Change an endpoint: address, description, event types, on/off",
    responses=WRITE_ERRORS,
)
async def update_endpoint(
    body: EndpointUpdate, session: SessionDep, found: EndpointDep, policy: PolicyDep
) -> EndpointOut:
    access, endpoint, url = found.access, found.endpoint, None
    if body.url is not None:
        access, url = await checked_url(session, access, body.url, policy)
        endpoint = await service.get_endpoint(session, access, endpoint.id)
    endpoint = await service.update_endpoint(session, access, endpoint, body, url=url)
    return EndpointOut.model_validate(endpoint)


@router.delete(
    "/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete an endpoint with its delivery log",
    responses=WRITE_ERRORS,
)
async def delete_endpoint(session: SessionDep, found: EndpointDep) -> Response:
    await service.delete_endpoint(session, found.access, found.endpoint)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{endpoint_id}/rotate-secret",
    response_model=SecretOut,
    summary="A new signing secret (in this answer only); the previous one overlaps",
    responses=WRITE_ERRORS,
)
async def rotate_secret(
    session: SessionDep,
    found: EndpointDep,
    secret_key: SecretKeyDep,
    body: RotateIn | None = None,
) -> SecretOut:
    hours = (body or RotateIn()).overlap_hours
    endpoint, secret = await service.rotate_secret(
        session,
        found.access,
        found.endpoint,
        overlap=timedelta(hours=hours),
        secret_key=secret_key,
    )
    return SecretOut(secret=secret, previous_secret_expires_at=endpoint.previous_secret_expires_at)


@router.post(
    "/{endpoint_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TestSent,
    summary="Send a webhook.test event to this endpoint only",
    responses=WRITE_ERRORS,
)
async def send_test(session: SessionDep, found: EndpointDep) -> TestSent:
    event = await service.send_test(session, found.access, found.endpoint)
    return TestSent(event_id=event.id)


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=DeliveryPage,
    summary="The endpoint's deliveries, newest first",
    responses=READ_ERRORS,
)
async def list_deliveries(
    session: SessionDep,
    found: EndpointDep,
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    items, next_cursor = await service.list_deliveries(
        session,
        found.access,
        found.endpoint,
        status=delivery_status,
        cursor=cursor,
        limit=limit,
    )
    return DeliveryPage(
        items=[DeliveryOut.model_validate(d) for d in items], next_cursor=next_cursor
    )


@router.get(
    "/{endpoint_id}/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    summary="A delivery and its log: every attempt with status, latency and response excerpt",
    responses=READ_ERRORS,
)
async def get_delivery(
    delivery_id: uuid.UUID, session: SessionDep, found: EndpointDep
) -> DeliveryDetail:
    delivery, log = await service.get_delivery(session, found.access, found.endpoint, delivery_id)
    out = DeliveryOut.model_validate(delivery)
    return DeliveryDetail(**out.model_dump(), log=[AttemptOut.model_validate(a) for a in log])


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    summary="Send a delivery again now (one attempt)",
    responses=WRITE_ERRORS,
)
async def redeliver(delivery_id: uuid.UUID, session: SessionDep, found: EndpointDep) -> DeliveryOut:
    delivery = await service.redeliver(session, found.access, found.endpoint, delivery_id)
    return DeliveryOut.model_validate(delivery)
