"""Rate limits with `limits` (its asyncio API): Redis when REDIS_URL is set, in-process otherwise.

Rules are named and counted per key (an account, an address, an IP). `check` tells whether one
more event is allowed without counting it; `hit` counts one. Refusals are 429 with Retry-After.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from hackops.config import Settings
from hackops.errors import RateLimited


@dataclass(frozen=True)
class Rule:
    name: str
    limit: RateLimitItem


FAILED_LOGIN_PER_ACCOUNT = Rule("failed-login-account", parse("100/hour"))
FAILED_LOGIN_PER_IP = Rule("failed-login-ip", parse("300/hour"))
REGISTER_PER_IP = Rule("register-ip", parse("20/hour"))
RESET_MAIL_PER_ADDRESS = Rule("reset-mail-address", parse("5/hour"))
VERIFY_MAIL_PER_ADDRESS = Rule("verify-mail-address", parse("5/hour"))
MAIL_PER_IP = Rule("mail-ip", parse("30/hour"))


class Limiter:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limiter:
        if settings.redis_url:
            storage: Storage = RedisStorage(
                settings.redis_url.replace("redis://", "async+redis://", 1).replace(
                    "rediss://", "async+rediss://", 1
                ),
                implementation="redispy",
            )
        else:
            storage = MemoryStorage()
        return cls(storage)

    async def check(self, rule: Rule, key: str) -> None:
        """Raise 429 if the rule's budget for `key` is spent (counts nothing)."""
        if not await self.strategy.test(rule.limit, rule.name, key):
            stats = await self.strategy.get_window_stats(rule.limit, rule.name, key)
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise RateLimited(
                "Too many attempts; try again later.",
                details={"rule": rule.name, "retry_after": retry_after},
                headers={"Retry-After": str(retry_after)},
            )

    async def hit(self, rule: Rule, key: str) -> None:
        await self.strategy.hit(rule.limit, rule.name, key)

    async def consume(self, rule: Rule, key: str) -> None:
        """Check and count in one step (for budgets spent by every attempt)."""
        await self.check(rule, key)
        await self.hit(rule, key)

    async def clear(self, rule: Rule, key: str) -> None:
        await self.strategy.clear(rule.limit, rule.name, key)

    async def reset(self) -> None:
        await self.storage.reset()
