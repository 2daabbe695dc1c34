"""Sign-in limits: atomic budgets (N concurrent attempts, exactly L checked), counted per
(account, address) with IPv6 per /64, and a stranger's failures slow an account down without
ever locking its owner out."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest

from hackops.config import Settings
from hackops.db import Database
from hackops.main import create_app
from hackops.ratelimit import (
    FAILED_LOGIN_PER_ACCOUNT,
    LOGIN_PER_ACCOUNT_ADDRESS,
    LOGIN_PER_ACCOUNT_ADDRESS_SLOW,
    address_key,
)
from tests.accounts.helpers import PASSWORD, sign_up
from tests.outage import throwaway_redis

PER_PAIR = LOGIN_PER_ACCOUNT_ADDRESS.limit.amount
SLOW = LOGIN_PER_ACCOUNT_ADDRESS_SLOW.limit.amount
UNDER_ATTACK = FAILED_LOGIN_PER_ACCOUNT.limit.amount


@asynccontextmanager
async def app_at(app: Any) -> AsyncIterator[Any]:
    async with app.router.lifespan_context(app):
        yield app


def client_from(app: Any, address: str) -> httpx2.AsyncClient:
    """An HTTP client whose requests come from `address`."""
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 4000))
    return httpx2.AsyncClient(transport=transport, base_url="http://testserver")


async def attempt(http: httpx2.AsyncClient, email: str, password: str) -> int:
    response = await http.post("/api/v1/auth/token", data={"username": email, "password": password})
    return response.status_code


async def test_a_strangers_failures_never_lock_the_owner_out(
    client: httpx2.AsyncClient, app: Any
) -> None:
    owner = "owner@example.com"
    await sign_up(client, owner)
    # Strangers from many addresses: each address has its own budget, then 429 ...
    for n in range(UNDER_ATTACK // PER_PAIR):
        async with client_from(app, f"198.51.100.{n + 1}") as stranger:
            codes = [await attempt(stranger, owner, "guess!") for _ in range(PER_PAIR + 2)]
        assert codes == [401] * PER_PAIR + [429] * 2, codes
    # ... and once that many failed, every address gets a smaller one.
    async with client_from(app, "198.51.100.200") as stranger:
        codes = [await attempt(stranger, owner, "guess!") for _ in range(SLOW + 2)]
    assert codes == [401] * SLOW + [429] * 2, codes
    # The owner, from their own address, signs in: slowed (a smaller budget), never locked.
    async with client_from(app, "203.0.113.9") as home:
        assert await attempt(home, owner, PASSWORD) == 200
        codes = [await attempt(home, owner, "typo!") for _ in range(SLOW + 1)]
        assert codes == [401] * SLOW + [429]
    async with client_from(app, "203.0.113.10") as phone:
        assert await attempt(phone, owner, PASSWORD) == 200


async def test_ipv6_addresses_are_counted_per_64(client: httpx2.AsyncClient, app: Any) -> None:
    await sign_up(client, "six@example.com")
    codes = []
    for n in range(PER_PAIR + 1):  # every attempt from another address of the same /64
        async with client_from(app, f"2001:db8:1:2::{n + 1:x}") as hop:
            codes.append(await attempt(hop, "six@example.com", "guess!"))
    assert codes == [401] * PER_PAIR + [429]
    async with client_from(app, "2001:db8:1:3::1") as neighbour:  # another /64
        assert await attempt(neighbour, "six@example.com", PASSWORD) == 200


def test_address_keys() -> None:
    assert address_key("192.0.2.7") == "192.0.2.7"
    assert address_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("testclient") == "testclient"
    assert address_key(None) == "unknown"


@pytest.mark.parametrize("shared", [False, True], ids=["in-process", "redis"])
async def test_concurrent_attempts_spend_the_budget_exactly(
    settings: Settings, committed_db: Database, shared: bool
) -> None:
    """Many wrong passwords released together through the real pool: exactly the budget's
    worth are checked, the rest refused (in process and in Redis alike)."""
    with throwaway_redis() as server:
        redis_url = server.url if shared else None
        app = create_app(
            settings.model_copy(update={"redis_url": redis_url}), database=committed_db
        )
        async with app_at(app), client_from(app, "192.0.2.50") as http:
            await sign_up(http, "race@example.com")
            for _ in range(3):
                await app.state.limiter.reset()
                codes = await asyncio.gather(
                    *(attempt(http, "race@example.com", "guess!") for _ in range(4 * PER_PAIR))
                )
                assert Counter(codes) == Counter({401: PER_PAIR, 429: 3 * PER_PAIR})
