"""The optional Redis connection (cache, rate limits, leaderboard) when REDIS_URL is set."""

from __future__ import annotations

from redis.asyncio import Redis

from hackops.config import Settings


def make_redis(settings: Settings) -> Redis | None:
    if settings.redis_url is None:
        return None
    return Redis.from_url(
        settings.redis_url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
    )
