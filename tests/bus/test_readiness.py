"""Readiness with AMQP_URL set: the broker and the relay's backlog, degraded (still 200) when the
broker does not answer, its exchange is not declared, or events wait with no relay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from hackops.bus.relay import Relay
from hackops.bus.topology import Names
from hackops.config import Settings
from hackops.db import Database, db_now
from hackops.main import create_app
from tests.bus.helpers import bus_settings, eventually, running
from tests.factories import create_outbox_event
from tests.outage import free_port

pytestmark = pytest.mark.rabbitmq

TOKEN = "metrics-" + "t" * 32


@asynccontextmanager
async def readiness(settings: Settings, db: Database) -> AsyncIterator[Any]:
    app = create_app(settings.model_copy(update={"metrics_token": SecretStr(TOKEN)}), database=db)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:

            async def ready() -> dict[str, Any]:
                response = await http.get(
                    "/health/ready", headers={"Authorization": f"Bearer {TOKEN}"}
                )
                assert response.status_code == 200, response.text
                body: dict[str, Any] = response.json()
                return body

            yield ready


async def test_readiness_reports_the_broker_and_the_backlog(
    db: Database, relay_settings: Settings
) -> None:
    async with readiness(relay_settings, db) as ready:
        body = await ready()
        assert body["checks"]["broker"]["state"] == "degraded"
        assert body["checks"]["broker"]["error"] == (
            f"exchange {relay_settings.amqp_exchange} is not declared yet (no relay ran)"
        )
        assert body["checks"]["event_bus"]["state"] == "ok"
        assert body["checks"]["event_bus"]["details"] == {
            "unpublished": 0,
            "oldest_unpublished_s": None,
            "relay_active": False,
        }

        async with db.transaction() as session:  # an event waiting two minutes, and no relay
            now = await db_now(session)
            await create_outbox_event(session, occurred_at=now - timedelta(minutes=2))
        body = await ready()
        assert body["status"] == "degraded"
        assert set(body["degraded"]) == {"broker", "event_bus"}
        event_bus = body["checks"]["event_bus"]
        assert event_bus["error"].startswith("events have waited 12")
        assert event_bus["error"].endswith(" s for the broker (no relay is running)")
        assert event_bus["details"]["unpublished"] == 1
        assert event_bus["details"]["relay_active"] is False

        relay = Relay(relay_settings, poll_s=0.2)
        async with running(relay):
            await eventually(lambda: relay.published == 1, what="the event published")
            body = await ready()
            assert body["status"] == "ready"
            assert body["checks"]["broker"]["details"] == {"exchange": relay_settings.amqp_exchange}
            assert body["checks"]["event_bus"]["details"] == {
                "unpublished": 0,
                "oldest_unpublished_s": None,
                "relay_active": True,
            }


async def test_a_broker_that_does_not_answer_is_degraded_and_its_password_never_shown(
    db: Database, settings: Settings, names: Names
) -> None:
    url = f"amqp://hackops:s3cret-pw@127.0.0.1:{free_port()}/events"
    async with readiness(bus_settings(settings, names, url), db) as ready:
        body = await ready()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"]["state"] == "degraded"
    assert body["checks"]["broker"]["error"] == (
        f"the broker at amqp://hackops:***@{url.partition('@')[2]} does not answer"
        " (AMQPConnectionError)"
    )
    assert "s3cret" not in str(body)


async def test_without_amqp_url_readiness_has_no_bus_checks(
    db: Database, settings: Settings
) -> None:
    assert settings.amqp_url is None
    async with readiness(settings, db) as ready:
        body = await ready()
    assert "broker" not in body["checks"]
    assert "event_bus" not in body["checks"]
