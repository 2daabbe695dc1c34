"""Rate limits with `limits` (its asyncio API, moving windows): Redis when REDIS_URL is set,
in-process otherwise — and in-process too while Redis cannot answer (`cache.Fallback`).

Rules are named and counted per key (an account, an address, both). `consume` spends one unit
of a budget or refuses with 429 (Retry-After) in one atomic step: `limits`' `hit()` alone (a Lua
script in Redis, a per-key lock in process), never a `test()` and then a `hit()`, which lets N
concurrent requests through a budget of one. Rules keyed by a network address count IPv4 per
address and IPv6 per /64 (what one household or machine is given), so hopping within a prefix
does not buy a new budget.

Signing in (`accounts.service.authenticate`) spends, before the password is checked: the
address's budget, and the (account, address) pair's budget, which a successful sign-in restores.
A stranger thus spends only their own pair's budget and can never lock the owner out; failures
for an account from all addresses together only shrink every pair's budget (`slow` rule), a
slowdown instead of a lockout.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.util import WindowStats
from redis.asyncio import Redis

from hackops.cache import Fallback, make_redis
from hackops.config import Settings
from hackops.errors import RateLimited

T = TypeVar("T")


@dataclass(frozen=True)
class Rule:
    name: str
    limit: RateLimitItem
    #: The key is a network address: counted per IPv4 address, per IPv6 /64.
    by_address: bool = False


#: Every sign-in attempt from one address (a venue's shared address signs many people in).
LOGIN_PER_ADDRESS = Rule("login-address", parse("600/hour"), by_address=True)
#: Every attempt at one account from one address; a successful sign-in restores it.
LOGIN_PER_ACCOUNT_ADDRESS = Rule("login-account-address", parse("10/15 minutes"))
#: Failures at one account from every address; once spent, the account is under attack ...
FAILED_LOGIN_PER_ACCOUNT = Rule("failed-login-account", parse("50/hour"))
#: ... and each (account, address) pair also spends this smaller budget: a slowdown, not a lock.
LOGIN_PER_ACCOUNT_ADDRESS_SLOW = Rule("login-account-address-slow", parse("3/15 minutes"))
REGISTER_PER_IP = Rule("register-ip", parse("20/hour"), by_address=True)
RESET_MAIL_PER_ADDRESS = Rule("reset-mail-address", parse("5/hour"))
VERIFY_MAIL_PER_ADDRESS = Rule("verify-mail-address", parse("5/hour"))
MAIL_PER_IP = Rule("mail-ip", parse("30/hour"), by_address=True)


def address_key(ip: str | None) -> str:
    """The unit an address is counted in: the IPv4 address, or the IPv6 /64."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return ip or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def account_address_key(account: str, ip: str | None) -> str:
    return f"{account}|{address_key(ip)}"


class Limiter:
    def __init__(self, shared: RedisStorage | None = None) -> None:
        self.local_storage = MemoryStorage()
        self.local = MovingWindowRateLimiter(self.local_storage)
        self.shared_storage = shared
        self.shared = MovingWindowRateLimiter(shared) if shared is not None else None
        self.redis = Fallback("ratelimit")

    @classmethod
    def from_settings(cls, settings: Settings, redis: Redis | None = None) -> Limiter:
        """In-process without REDIS_URL; else on `redis`'s pool (one made when not given)."""
        client = redis if redis is not None else make_redis(settings)
        if client is None:
            return cls()
        # The pool carries the address and its health checks; the URI only names the driver.
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            wrap_exceptions=True,
            connection_pool=client.connection_pool,  # type: ignore[arg-type]  # typed too narrowly
        )
        return cls(storage)

    def _key(self, rule: Rule, key: str) -> str:
        return address_key(key) if rule.by_address else key

    async def _on_store(self, call: Callable[[MovingWindowRateLimiter], Awaitable[T]]) -> T:
        """`call` on Redis when configured and answering, else on the in-process limiter."""
        if self.shared is None:
            return await call(self.local)
        shared = self.shared
        return await self.redis.attempt(lambda: call(shared), lambda: call(self.local))

    async def hit(self, rule: Rule, key: str) -> bool:
        """Count one event; False (and nothing counted) when the budget was already spent."""
        key = self._key(rule, key)
        return await self._on_store(lambda limiter: limiter.hit(rule.limit, rule.name, key))

    async def consume(self, rule: Rule, key: str) -> None:
        """Spend one unit of the rule's budget for `key`, or raise 429 (atomic)."""
        if not await self.hit(rule, key):
            raise await self._refusal(rule, self._key(rule, key))

    async def spent(self, rule: Rule, key: str) -> bool:
        """Whether the budget is used up now: a reading to choose a budget by, never a gate."""
        return (await self._stats(rule, self._key(rule, key))).remaining <= 0

    async def _stats(self, rule: Rule, key: str) -> WindowStats:
        return await self._on_store(
            lambda limiter: limiter.get_window_stats(rule.limit, rule.name, key)
        )

    async def _refusal(self, rule: Rule, key: str) -> RateLimited:
        stats = await self._stats(rule, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        return RateLimited(
            "Too many attempts; try again later.",
            details={"rule": rule.name, "retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )

    async def clear(self, rule: Rule, key: str) -> None:
        key = self._key(rule, key)
        await self.local.clear(rule.limit, rule.name, key)
        if self.shared is not None:
            shared = self.shared
            await self.redis.attempt(lambda: shared.clear(rule.limit, rule.name, key), _nothing)

    async def reset(self) -> None:
        await self.local_storage.reset()
        if self.shared_storage is not None:
            shared = self.shared_storage
            await self.redis.attempt(shared.reset, _nothing_count)


async def _nothing() -> None:
    return None


async def _nothing_count() -> int | None:
    return None
