"""The webhooks pages (organization settings → Webhooks): add an endpoint and see its secret
once, refusals on the form, the endpoint's buttons, the delivery log and redelivery; admins and
owners only."""

from __future__ import annotations

import re
import uuid

import httpx2
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import DeliveryStatus, WebhookEndpoint
from hackops.tenancy import forget_tenant
from hackops.webhooks.signing import open_sealed
from tests.factories import create_webhook_attempt, create_webhook_delivery, create_webhook_endpoint
from tests.factories.webhooks import TEST_SECRET_KEY
from tests.web.test_account_pages import alert_of, follow, submit, text_of, use_session
from tests.webhooks.helpers import crew

SECRET_INPUT = re.compile(r'id="webhook-secret"[^>]*value="(whsec_[^"]+)"')


async def endpoints_of(session: AsyncSession, org_id: uuid.UUID) -> list[WebhookEndpoint]:
    forget_tenant(session)
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    rows = await session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.org_id == org_id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await crew(session)
    use_session(dev_client, c.tokens["admin"])
    page = f"/orgs/{c.org.slug}/webhooks"
    listing = await dev_client.get(page)
    assert listing.status_code == 200
    assert "No endpoints yet" in listing.text
    assert f'href="{page}"' in listing.text  # the Webhooks tab of the organization

    added = await submit(
        dev_client,
        page,
        url="http://127.0.0.1:9/hook",
        description="Discord relay",
        types="chosen",
        event_types=["results.published", "registration.created"],
    )
    assert added.status_code == 201, added.text
    assert added.headers["cache-control"] == "no-store"
    assert "Copy the signing secret now: it is not shown again." in text_of(added)
    match = SECRET_INPUT.search(added.text)
    assert match is not None
    secret = match.group(1)

    (endpoint,) = await endpoints_of(session, c.org.id)
    assert endpoint.event_types == ["registration.created", "results.published"]
    assert endpoint.description == "Discord relay"
    assert open_sealed(endpoint.secret_sealed, endpoint_id=endpoint.id, secret_key=TEST_SECRET_KEY)
    shown = await dev_client.get(f"{page}/{endpoint.id}")
    assert shown.status_code == 200
    assert secret not in shown.text
    assert "Send test event" in shown.text
    assert "No deliveries yet." in shown.text
    assert secret not in (await dev_client.get(page)).text


async def test_a_refused_address_is_shown_on_the_form(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await crew(session)
    use_session(dev_client, c.tokens["owner"])
    page = f"/orgs/{c.org.slug}/webhooks"
    refused = await submit(dev_client, page, url="http://10.0.0.7/hook", types="all")
    assert refused.status_code == 422
    assert (
        "The address points to a private network address (10.0.0.7); webhooks are only sent to"
        " public internet addresses." in text_of(refused)
    )
    assert 'value="http://10.0.0.7/hook"' in refused.text  # the input comes back
    no_types = await submit(dev_client, page, url="http://127.0.0.1:9/", types="chosen")
    assert no_types.status_code == 422
    assert "Choose at least one event type" in text_of(no_types)
    assert await endpoints_of(session, c.org.id) == []


async def test_only_admins_and_owners_see_the_pages(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    ours, theirs = await crew(session), await crew(session)
    endpoint = await create_webhook_endpoint(session, ours.org)
    page = f"/orgs/{ours.org.slug}/webhooks"
    for role, status in (("member", 403), ("organizer", 403), ("outsider", 404)):
        use_session(dev_client, ours.tokens[role])
        assert (await dev_client.get(page)).status_code == status, role
        assert (await dev_client.get(f"{page}/{endpoint.id}")).status_code == status, role
    use_session(dev_client, theirs.tokens["admin"])
    assert (await dev_client.get(f"{page}/{endpoint.id}")).status_code == 404
    mine = f"/orgs/{theirs.org.slug}/webhooks/{endpoint.id}"
    assert (await dev_client.get(mine)).status_code == 404


async def test_the_endpoints_buttons_and_its_delivery_log(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await crew(session)
    endpoint = await create_webhook_endpoint(session, c.org, url="http://127.0.0.1:9/hook")
    delivery = await create_webhook_delivery(session, endpoint, status=DeliveryStatus.FAILED)
    await create_webhook_attempt(session, delivery, status_code=500, response_excerpt="boom")
    use_session(dev_client, c.tokens["owner"])
    home = f"/orgs/{c.org.slug}/webhooks/{endpoint.id}"

    shown = await dev_client.get(home)
    assert '<code class="details">boom</code>' in shown.text  # the latest answer's excerpt
    assert "12 ms" in shown.text  # the latest attempt's latency
    tested = await follow(dev_client, await submit(dev_client, home, f"{home}/test"))
    assert "A test event is on its way" in text_of(tested)

    saved = await submit(
        dev_client,
        home,
        url="http://127.0.0.1:9/hook",
        description="Now with a note",
        types="all",
    )
    assert saved.status_code == 303, saved.text
    (row,) = await endpoints_of(session, c.org.id)
    assert (row.description, row.event_types) == ("Now with a note", None)

    moved = await submit(dev_client, home, url="https://10.9.8.7/x", types="all")
    assert moved.status_code == 422
    assert "private network address (10.9.8.7)" in text_of(moved)
    assert 'value="https://10.9.8.7/x"' in moved.text
    (row,) = await endpoints_of(session, c.org.id)
    assert row.url == "http://127.0.0.1:9/hook"

    off = await follow(dev_client, await submit(dev_client, home, f"{home}/disable"))
    assert "The endpoint is off" in text_of(off)
    log = await dev_client.get(f"{home}/deliveries/{delivery.id}")
    assert log.status_code == 200
    assert "Turn the endpoint on to redeliver." in log.text
    assert "boom" in log.text
    on = await follow(dev_client, await submit(dev_client, home, f"{home}/enable"))
    assert "The endpoint is on" in text_of(on)

    log_page = f"{home}/deliveries/{delivery.id}"
    again = await follow(dev_client, await submit(dev_client, log_page, f"{log_page}/redeliver"))
    assert "Sent again" in text_of(again)
    jobs = await session.execute(
        text("SELECT args FROM procrastinate_jobs WHERE task_name = 'webhooks.deliver'")
    )
    assert [row.args for row in jobs] == [{"delivery_id": str(delivery.id), "manual": True}]

    rotated = await submit(dev_client, home, f"{home}/rotate")
    assert rotated.status_code == 200
    assert rotated.headers["cache-control"] == "no-store"
    assert "The previous secret keeps signing beside this one until" in text_of(rotated)
    assert SECRET_INPUT.search(rotated.text)

    gone = await submit(dev_client, home, f"{home}/delete")
    assert gone.status_code == 303
    assert gone.headers["location"] == f"/orgs/{c.org.slug}/webhooks"
    assert await endpoints_of(session, c.org.id) == []
    assert (await dev_client.get(home)).status_code == 404


async def test_an_unknown_cursor_shows_the_first_page_and_why(
    dev_client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    c = await crew(session)
    endpoint = await create_webhook_endpoint(session, c.org)
    use_session(dev_client, c.tokens["owner"])
    page = await dev_client.get(f"/orgs/{c.org.slug}/webhooks/{endpoint.id}?cursor=nonsense")
    assert page.status_code == 200
    assert "The pagination cursor is not valid" in alert_of(page)
