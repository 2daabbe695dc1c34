"""An organization's webhooks pages (Settings → Webhooks, admins and owners): the endpoints and
a form to add one; an endpoint's settings, its buttons (turn on/off, send a test event, rotate
the secret, delete) and its deliveries; a delivery's log with a redeliver button.

A new or rotated secret is shown once, on the page that answers the post (never flashed: the
flash travels in a cookie), with `Cache-Control: no-store`.

Saving an address checks it with no transaction open — DNS is slow I/O — so, like the
submission file upload, the save runs in separate steps with its own refusal handling
(`_checked`): the API's input model, then `webhooks.access.checked_url` (which ends the
request's transaction, resolves, and loads the visitor's access again), then the service in
`kit.attempt`. Everything else goes through `kit.form_action` / `kit.act` / `kit.attempt`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.db import SessionDep
from hackops.errors import AppError
from hackops.models import DeliveryStatus, WebhookEndpoint
from hackops.orgs.deps import OrgAccess
from hackops.outbox.catalog import CATALOG
from hackops.web import kit
from hackops.web.deps import OrgAdminPageDep, page_router
from hackops.webhooks import service
from hackops.webhooks.access import checked_url, reauthorize
from hackops.webhooks.schemas import SUBSCRIBABLE, EndpointIn, EndpointUpdate
from hackops.webhooks.urls import InvalidEndpointUrl, TargetPolicy

router = page_router()

PAGE_SIZE = 25
HINTS = {
    "url": "A full address like https://example.com/hooks, at most 2000 characters.",
    "description": "At most 500 characters.",
}
NO_STORE = {"Cache-Control": "no-store"}
STATUS_CHOICES = [("", "Any status")] + [(s.value, s.value.capitalize()) for s in DeliveryStatus]


@dataclass(frozen=True)
class EndpointPage:
    access: OrgAccess
    endpoint: WebhookEndpoint

    @property
    def home(self) -> str:
        return f"/orgs/{self.access.org.slug}/webhooks/{self.endpoint.id}"


async def endpoint_page(
    endpoint_id: uuid.UUID, session: SessionDep, access: OrgAdminPageDep
) -> EndpointPage:
    return EndpointPage(access, await service.get_endpoint(session, access, endpoint_id))


EndpointPageDep = Annotated[EndpointPage, Depends(endpoint_page)]


def _list_url(access: OrgAccess) -> str:
    return f"/orgs/{access.org.slug}/webhooks"


def _header(access: OrgAccess) -> dict[str, Any]:
    return {
        "org": access.org,
        "role": access.role,
        "is_admin": True,
        "can_audit": True,
        "tab": "webhooks",
    }


def _secret_key(request: Request) -> str:
    return kit.settings_of(request).secret_key.get_secret_value()


def _policy(request: Request) -> TargetPolicy:
    return TargetPolicy.from_settings(kit.settings_of(request))


async def _posted(request: Request) -> tuple[dict[str, str], list[str]]:
    """The form's text fields and the ticked event types (a repeated field)."""
    data = await kit.form_data(request)
    ticked = (await request.form()).getlist("event_types")
    return data, [t for t in ticked if isinstance(t, str)]


def _endpoint_input(data: dict[str, str], ticked: list[str]) -> dict[str, Any]:
    return {
        "url": data.get("url", ""),
        "description": data.get("description", ""),
        "event_types": None if data.get("types", "all") == "all" else ticked,
    }


async def _checked(
    request: Request, session: AsyncSession, access: OrgAccess, form: kit.Form, url: str
) -> tuple[OrgAccess, str | None, int]:
    """The address checked with no transaction open; on refusal its message is on the form's
    `url` field and the visitor's access is loaded again (the transaction ended)."""
    try:
        again, checked = await checked_url(session, access, url, _policy(request))
    except InvalidEndpointUrl as exc:
        return await reauthorize(session, access), None, kit.refuse(form, exc, {exc.code: "url"})
    return again, checked, 200


def _secret_page(
    request: Request, access: OrgAccess, endpoint: WebhookEndpoint, secret: str, *, created: bool
) -> Response:
    context = {**_header(access), "endpoint": endpoint, "secret": secret, "created": created}
    return kit.render(
        request,
        "orgs/webhook_secret.html",
        context,
        status_code=201 if created else 200,
        headers=NO_STORE,
    )


# --- the endpoints ---------------------------------------------------------------------------


async def _list_page(
    request: Request,
    session: AsyncSession,
    access: OrgAccess,
    form: kit.Form | None = None,
    ticked: Sequence[str] = (),
    status_code: int = 200,
) -> Response:
    context = {
        **_header(access),
        "endpoints": await service.list_endpoints(session, access),
        "form": form or kit.Form(values={"types": "all"}),
        "ticked": set(ticked),
        "type_choices": [(t, CATALOG[t].summary) for t in SUBSCRIBABLE],
        "max_endpoints": service.MAX_ENDPOINTS,
    }
    return kit.render(request, "orgs/webhooks.html", context, status_code=status_code)


@router.get("/orgs/{slug}/webhooks", name="organization_webhooks")
async def webhooks(request: Request, session: SessionDep, access: OrgAdminPageDep) -> Response:
    return await _list_page(request, session, access)


@router.post("/orgs/{slug}/webhooks")
async def add_endpoint(request: Request, session: SessionDep, access: OrgAdminPageDep) -> Response:
    data, ticked = await _posted(request)
    form = kit.Form(values=kit.kept(data, "url", "description", "types"))
    body = kit.validated(EndpointIn, _endpoint_input(data, ticked), form, HINTS)
    if body is None:
        return await _list_page(request, session, access, form, ticked, 422)
    access, url, status = await _checked(request, session, access, form, body.url)
    if url is None:
        return await _list_page(request, session, access, form, ticked, status)
    checked_access, checked = access, url
    return await kit.attempt(
        session,
        form,
        lambda: service.create_endpoint(
            session, checked_access, body, url=checked, secret_key=_secret_key(request)
        ),
        page=lambda form, status: _list_page(
            request, session, checked_access, form, ticked, status
        ),
        reply=lambda made: _secret_page(request, checked_access, made[0], made[1], created=True),
    )


# --- one endpoint: settings, buttons, deliveries ----------------------------------------------


def _settings_form(endpoint: WebhookEndpoint) -> tuple[kit.Form, set[str]]:
    values = {
        "url": endpoint.url,
        "description": endpoint.description,
        "types": "all" if endpoint.event_types is None else "chosen",
    }
    return kit.Form(values=values), set(endpoint.event_types or ())


async def _endpoint_page(
    request: Request,
    session: AsyncSession,
    page: EndpointPage,
    *,
    form: kit.Form | None = None,
    ticked: Sequence[str] | None = None,
    status_code: int = 200,
    delivery_status: str = "",
    cursor: str = "",
) -> Response:
    shown, chosen = _settings_form(page.endpoint)
    wanted = DeliveryStatus(delivery_status) if delivery_status else None
    try:
        deliveries, next_cursor = await service.list_deliveries(
            session,
            page.access,
            page.endpoint,
            status=wanted,
            cursor=cursor or None,
            limit=PAGE_SIZE,
        )
    except AppError as exc:  # a cursor that is not one: the first page, and why
        deliveries, next_cursor = [], None
        shown.error = kit.describe(exc)
    filters = {"status": delivery_status} if delivery_status else {}
    context = {
        **_header(page.access),
        "endpoint": page.endpoint,
        "home": page.home,
        "form": form or shown,
        "ticked": set(ticked) if ticked is not None else chosen,
        "type_choices": [(t, CATALOG[t].summary) for t in SUBSCRIBABLE],
        "deliveries": deliveries,
        "last": await service.last_attempts(session, page.access, deliveries),
        "status_choices": STATUS_CHOICES,
        "delivery_status": delivery_status,
        "older_url": f"?{urlencode({**filters, 'cursor': next_cursor})}" if next_cursor else None,
        "newest_url": f"?{urlencode(filters)}" if cursor else None,
    }
    return kit.render(request, "orgs/webhook.html", context, status_code=status_code)


@router.get("/orgs/{slug}/webhooks/{endpoint_id}", name="organization_webhook")
async def endpoint(
    request: Request,
    session: SessionDep,
    page: EndpointPageDep,
    status: Annotated[str, Query(max_length=16)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    known = status if status in {s.value for s in DeliveryStatus} else ""
    return await _endpoint_page(
        request, session, page, delivery_status=known, cursor=cursor.strip()
    )


@router.post("/orgs/{slug}/webhooks/{endpoint_id}")
async def save_endpoint(request: Request, session: SessionDep, page: EndpointPageDep) -> Response:
    data, ticked = await _posted(request)
    form = kit.Form(values=kit.kept(data, "url", "description", "types"))
    body = kit.validated(EndpointUpdate, _endpoint_input(data, ticked), form, HINTS)
    if body is None:
        return await _endpoint_page(
            request, session, page, form=form, ticked=ticked, status_code=422
        )
    url: str | None = None
    if body.url is not None and body.url != page.endpoint.url:
        access, url, status = await _checked(request, session, page.access, form, body.url)
        page = EndpointPage(access, await service.get_endpoint(session, access, page.endpoint.id))
        if url is None:
            return await _endpoint_page(
                request, session, page, form=form, ticked=ticked, status_code=status
            )
    current, checked = page, url
    return await kit.attempt(
        session,
        form,
        lambda: service.update_endpoint(
            session, current.access, current.endpoint, body, url=checked
        ),
        page=lambda form, status: _endpoint_page(
            request, session, current, form=form, ticked=ticked, status_code=status
        ),
        reply=lambda _: kit.flash_redirect(request, current.home, "The endpoint is saved."),
    )


@router.post("/orgs/{slug}/webhooks/{endpoint_id}/enable")
async def turn_on(request: Request, session: SessionDep, page: EndpointPageDep) -> Response:
    return await kit.act(
        request,
        session,
        page.home,
        lambda: service.update_endpoint(
            session, page.access, page.endpoint, EndpointUpdate(enabled=True)
        ),
        "The endpoint is on: new events are sent to it. Redeliver what it missed from the list"
        " below.",
    )


@router.post("/orgs/{slug}/webhooks/{endpoint_id}/disable")
async def turn_off(request: Request, session: SessionDep, page: EndpointPageDep) -> Response:
    return await kit.act(
        request,
        session,
        page.home,
        lambda: service.update_endpoint(
            session, page.access, page.endpoint, EndpointUpdate(enabled=False)
        ),
        "The endpoint is off: nothing is sent to it until you turn it back on.",
    )


@router.post("/orgs/{slug}/webhooks/{endpoint_id}/test")
async def send_test(request: Request, session: SessionDep, page: EndpointPageDep) -> Response:
    return await kit.act(
        request,
        session,
        page.home,
        lambda: service.send_test(session, page.access, page.endpoint),
        "A test event is on its way; it appears in the deliveries below within seconds.",
    )


@router.post("/orgs/{slug}/webhooks/{endpoint_id}/rotate")
async def rotate(request: Request, session: SessionDep, page: EndpointPageDep) -> Response:
    return await kit.attempt(
        session,
        kit.Form(),
        lambda: service.rotate_secret(
            session,
            page.access,
            page.endpoint,
            overlap=timedelta(hours=24),
            secret_key=_secret_key(request),
        ),
        page=lambda form, status: kit.flash_redirect(
            request, page.home, form.error or "The secret was not changed.", "error"
        ),
        reply=lambda made: _secret_page(request, page.access, made[0], made[1], created=False),
    )


@router.post("/orgs/{slug}/webhooks/{endpoint_id}/delete")
async def delete(request: Request, session: SessionDep, page: EndpointPageDep) -> Response:
    return await kit.act(
        request,
        session,
        page.home,
        lambda: service.delete_endpoint(session, page.access, page.endpoint),
        "The endpoint is deleted, with its delivery log.",
        then=lambda _: _list_url(page.access),
    )


# --- a delivery's log ------------------------------------------------------------------------


# Both ids are the handler's own parameters (not a dependency's), so a malformed one is the 404
# page before the endpoint is looked up (tests/web/test_page_addresses.py).


@router.get("/orgs/{slug}/webhooks/{endpoint_id}/deliveries/{delivery_id}")
async def delivery(
    endpoint_id: uuid.UUID,
    delivery_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    access: OrgAdminPageDep,
) -> Response:
    page = await endpoint_page(endpoint_id, session, access)
    found, log = await service.get_delivery(session, page.access, page.endpoint, delivery_id)
    context = {
        **_header(page.access),
        "endpoint": page.endpoint,
        "home": page.home,
        "delivery": found,
        "log": log,
    }
    return kit.render(request, "orgs/webhook_delivery.html", context)


@router.post("/orgs/{slug}/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    endpoint_id: uuid.UUID,
    delivery_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    access: OrgAdminPageDep,
) -> Response:
    page = await endpoint_page(endpoint_id, session, access)
    return await kit.act(
        request,
        session,
        f"{page.home}/deliveries/{delivery_id}",
        lambda: service.redeliver(session, page.access, page.endpoint, delivery_id),
        "Sent again: the new attempt appears in the log within seconds.",
    )
