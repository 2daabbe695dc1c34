from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from limits import parse

from hackops.errors import RateLimited
from hackops.ratelimit import Limiter, Rule
from tests.conftest import make_settings, redis_url


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
