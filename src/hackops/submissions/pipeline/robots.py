"""robots.txt of the sites teams link to: one origin's rules, and a small LRU cache with a TTL so
a site's robots.txt is fetched once per run (`links.fetch_link` reads and fills it)."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from protego import Protego

ROBOT_NAME = "HackOpsBot"


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """One origin's robots.txt: rules (None = no rules), or a refusal to fetch anything."""

    parser: Protego | None = None
    refusal: str | None = None

    def allows(self, url: str) -> bool:
        if self.refusal is not None:
            return False
        return self.parser is None or bool(self.parser.can_fetch(url, ROBOT_NAME))


class RobotsCache:
    """robots.txt per origin ("https://host:port"), least recently used first out, with a TTL.

    Share one across the links of a run so a site's robots.txt is fetched once.
    """

    def __init__(self, *, max_entries: int = 512, ttl_seconds: float = 3600.0) -> None:
        self._entries: OrderedDict[str, tuple[float, RobotsRules]] = OrderedDict()
        self._max_entries = max_entries
        self._ttl = ttl_seconds

    def get(self, origin: str) -> RobotsRules | None:
        entry = self._entries.get(origin)
        if entry is None or time.monotonic() - entry[0] > self._ttl:
            self._entries.pop(origin, None)
            return None
        self._entries.move_to_end(origin)
        return entry[1]

    def put(self, origin: str, robots: RobotsRules) -> None:
        self._entries[origin] = (time.monotonic(), robots)
        self._entries.move_to_end(origin)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
