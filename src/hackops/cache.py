"""The optional Redis connection (cache, rate limits, leaderboard) when REDIS_URL is set.

Redis is optional, and so is its being up: every part that uses it has an in-process fallback
(rate limits: the in-process limiter; the leaderboard: the process's LRU and the database path).
`Fallback.attempt` runs the Redis call and, when Redis cannot answer, the fallback instead; after a
failure Redis is left alone for `RETRY_AFTER_S` (so an outage costs one failed call per part and
interval, not a timeout per request), then tried again. The outage is logged once when it starts
and once when it ends, and every call served by a fallback counts in
`hackops_redis_fallbacks_total{part}`.

The pool checks its connections: one idle longer than `health_check_interval` is pinged before
use, and a connection error is retried once on a fresh connection, so connections left over from
before a Redis restart do not fail requests afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from limits.errors import StorageError
from prometheus_client import Counter
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from hackops.config import Settings
from hackops.observability import REGISTRY

log = structlog.get_logger("hackops.redis")

T = TypeVar("T")

#: After a failed call, how long a part uses its fallback before trying Redis again.
RETRY_AFTER_S = 2.0
#: What "Redis cannot answer" looks like (limits wraps the client's errors in StorageError).
REDIS_ERRORS = (RedisError, StorageError, OSError, asyncio.TimeoutError)

REDIS_FALLBACKS = Counter(
    "hackops_redis_fallbacks_total",
    "Calls served by the in-process fallback because Redis could not answer, by part.",
    ["part"],
    registry=REGISTRY,
)


def make_redis(settings: Settings) -> Redis | None:
    if settings.redis_url is None:
        return None
    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=1,
        socket_timeout=1,
        health_check_interval=5,
        # One quick retry on a fresh connection (the default waits up to seconds, three times).
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=1),
    )


class Fallback:
    """Whether one part (`ratelimit`, `leaderboard`) uses Redis right now, and its fallback."""

    def __init__(self, part: str, *, retry_after: float = RETRY_AFTER_S) -> None:
        self.part = part
        self.retry_after = retry_after
        self.down = False
        self.down_until = 0.0
        REDIS_FALLBACKS.labels(part)  # the series exists (at 0) from the start

    async def attempt(
        self, call: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]
    ) -> T:
        if time.monotonic() >= self.down_until:
            try:
                result = await call()
            except REDIS_ERRORS as exc:
                self._failed(exc)
            else:
                if self.down:
                    self.down = False
                    log.info("redis_back", part=self.part)
                return result
        REDIS_FALLBACKS.labels(self.part).inc()
        return await fallback()

    def _failed(self, exc: BaseException) -> None:
        self.down_until = time.monotonic() + self.retry_after
        if not self.down:
            self.down = True
            log.warning(
                "redis_unavailable_using_fallback",
                part=self.part,
                error=type(exc).__name__,
                detail=str(exc)[:200],
            )
