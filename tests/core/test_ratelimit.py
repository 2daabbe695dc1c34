from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest
from limits import parse

from hackops.errors import RateLimited
from hackops.ratelimit import Limiter, Rule
from tests.conftest import make_settings, redis_url
from tests.outage import throwaway_redis


async def exercise(limiter: Limiter) -> None:
    rule = Rule(f"test-{secrets.token_hex(4)}", parse("3/hour"))
    for _ in range(3):
        await limiter.consume(rule, "key")
    with pytest.raises(RateLimited) as refused:
        await limiter.consume(rule, "key")
    assert 3500 <= int(refused.value.headers["Retry-After"]) <= 3600
    await limiter.consume(rule, "another-key")  # budgets are per key
    await limiter.clear(rule, "key")
    await limiter.consume(rule, "key")


async def test_in_process_limiter(database_url: str, storage_dir: Path) -> None:
    await exercise(Limiter.from_settings(make_settings(database_url, storage_dir)))


@pytest.mark.redis
async def test_redis_limiter_is_shared_between_processes(
    database_url: str, storage_dir: Path
) -> None:
    settings = make_settings(database_url, storage_dir, redis_url=redis_url())
    await exercise(Limiter.from_settings(settings))
    rule = Rule(f"shared-{secrets.token_hex(4)}", parse("2/hour"))
    first, second = Limiter.from_settings(settings), Limiter.from_settings(settings)
    await first.consume(rule, "k")
    await second.consume(rule, "k")
    with pytest.raises(RateLimited):
        await first.consume(rule, "k")


async def admitted(limiter: Limiter, rule: Rule, key: str) -> bool:
    try:
        await limiter.consume(rule, key)
    except RateLimited:
        return False
    return True


@pytest.mark.parametrize("shared", [False, True], ids=["in-process", "redis"])
async def test_concurrent_consumes_admit_exactly_the_limit(
    database_url: str, storage_dir: Path, shared: bool
) -> None:
    """50 consumers released together against a budget of 5: exactly 5 admitted, every round
    (a `test()` then `hit()` lets them all through the check before any counts)."""
    with throwaway_redis() as server:
        settings = make_settings(
            database_url, storage_dir, redis_url=server.url if shared else None
        )
        limiter = Limiter.from_settings(settings)
        for round_ in range(5):
            rule = Rule(f"race-{round_}-{secrets.token_hex(4)}", parse("5/hour"))
            results = await asyncio.gather(*(admitted(limiter, rule, "k") for _ in range(50)))
            assert results.count(True) == 5, round_
