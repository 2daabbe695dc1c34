"""Where rendered public pages wait: the process's LRU (bounded by bytes) and, when REDIS_URL is
set, Redis (shared by the processes; while it cannot answer, the LRU alone — `cache.Fallback`).

An `Entry` is a whole response (status, the route's own headers, body) and what it was rendered
from: each scope's version (`tags`) and the moment the clock alone may change it (`expires`). An
entry is good while every tag is at least the version this process knows and `expires` has not
passed; a key (the page's path and query) holds one entry, the newest rendering replacing it.
Entries go to Redis as a JSON head line and the body (never pickled).
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

from redis.asyncio import Redis

from hackops.cache import Fallback

#: Seconds an entry lives in Redis (a new version makes it unused long before).
REDIS_TTL_SECONDS = 3600
REDIS_PREFIX = "hackops:pc:"


@dataclass(frozen=True, slots=True)
class Entry:
    tags: tuple[tuple[str, int], ...]
    expires: float  # wall clock (time.time()); inf: never by the clock
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    etag: bytes
    route: str

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 256

    def encode(self) -> bytes:
        head = {
            "tags": self.tags,
            "expires": None if math.isinf(self.expires) else self.expires,
            "status": self.status,
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in self.headers],
            "etag": self.etag.decode("latin-1"),
            "route": self.route,
        }
        return json.dumps(head, separators=(",", ":")).encode() + b"\n" + self.body

    @classmethod
    def decode(cls, raw: bytes) -> Entry | None:
        head_raw, sep, body = raw.partition(b"\n")
        if not sep:
            return None
        try:
            head: Any = json.loads(head_raw)
            return cls(
                tags=tuple((str(s), int(v)) for s, v in head["tags"]),
                expires=math.inf if head["expires"] is None else float(head["expires"]),
                status=int(head["status"]),
                headers=tuple(
                    (k.encode("latin-1"), v.encode("latin-1")) for k, v in head["headers"]
                ),
                body=body,
                etag=str(head["etag"]).encode("latin-1"),
                route=str(head["route"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


def etag_of(key: str, tags: tuple[tuple[str, int], ...], expires: float) -> bytes:
    """The version-derived validator: the same page, versions and clock window, the same tag
    (weak: two renderings of one version may differ in a byte, never in what they say)."""
    digest = blake2b(repr((key, tags, expires)).encode(), digest_size=12).hexdigest()
    return f'W/"{digest}"'.encode()


class LocalStore:
    """A least-recently-used map of entries, at most `max_bytes` in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.items: OrderedDict[str, Entry] = OrderedDict()

    def get(self, key: str) -> Entry | None:
        entry = self.items.get(key)
        if entry is not None:
            self.items.move_to_end(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        if entry.size > self.max_bytes // 8:
            return  # one page may not push out most of the others
        self.discard(key)
        self.items[key] = entry
        self.bytes += entry.size
        while self.bytes > self.max_bytes:
            _, old = self.items.popitem(last=False)
            self.bytes -= old.size

    def discard(self, key: str) -> None:
        old = self.items.pop(key, None)
        if old is not None:
            self.bytes -= old.size

    def clear(self) -> None:
        self.items.clear()
        self.bytes = 0


class SharedStore:
    """Redis for entries another process rendered; the LRU is consulted first by the caller."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.fallback = Fallback("public_cache")

    @staticmethod
    def _key(key: str) -> str:
        return REDIS_PREFIX + blake2b(key.encode(), digest_size=16).hexdigest()

    async def get(self, key: str) -> Entry | None:
        async def missing() -> Any:
            return None

        raw: Any = await self.fallback.attempt(lambda: self.redis.get(self._key(key)), missing)
        if not isinstance(raw, bytes):
            return None
        return Entry.decode(raw)

    async def put(self, key: str, entry: Entry) -> None:
        ttl = REDIS_TTL_SECONDS
        if not math.isinf(entry.expires):
            ttl = max(1, min(ttl, int(entry.expires - time.time()) + 1))

        async def skipped() -> Any:
            return None

        await self.fallback.attempt(
            lambda: self.redis.set(self._key(key), entry.encode(), ex=ttl), skipped
        )
