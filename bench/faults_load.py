"""The load side of bench/faults.py: phase timings, the scenario context (cluster, apps), the
clients, the ordinary requests (GET /api/v1/me) and the per-phase report."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults_infra import (
    PROBE_USER,
    TOKEN,
    App,
    Cluster,
    Recorder,
    p99,
    seed,
    tally,
    window,
)


@dataclass(frozen=True)
class Timing:
    baseline: float
    outage: float  # pg-kill: PostgreSQL down; redis-kill: Redis down
    after: float  # load kept after recovery
    redis_after: float  # redis-kill: load kept after Redis is back
    drip: float  # slow-uploads: how long each upload trickles
    big_mb: int


FULL = Timing(baseline=10, outage=20, after=20, redis_after=45, drip=60, big_mb=500)
QUICK = Timing(baseline=8, outage=15, after=10, redis_after=15, drip=30, big_mb=500)


@dataclass
class Ctx:
    root: Path
    timing: Timing
    cluster: Cluster | None = None
    apps: list[App] = field(default_factory=list)
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def get_cluster(self) -> Cluster:
        if self.cluster is None:
            self.cluster = Cluster(self.root)
            self.cluster.start()
            self.cleanups.append(self.cluster.stop)
        return self.cluster

    async def new_app(self, name: str, **env: str) -> tuple[App, str]:
        """A fresh database `faults_<name>` and the app on it (migrated, demo, seeded)."""
        cluster = await asyncio.to_thread(self.get_cluster)
        admin = await asyncio.to_thread(cluster.create_database, f"faults_{name.replace('-', '_')}")
        folder = self.root / name
        folder.mkdir()
        app = App(
            folder,
            {
                "DATABASE_URL": cluster.url(f"faults_{name.replace('-', '_')}", "hackops_app"),
                "DATABASE_ADMIN_URL": admin,
                **env,
            },
        )
        self.apps.append(app)
        await asyncio.to_thread(app.start, first=True)
        await asyncio.to_thread(seed, admin)
        return app, admin


def client(app: App, *, timeout: float = 30, **kwargs: Any) -> httpx2.AsyncClient:
    limits = httpx2.Limits(max_connections=200, max_keepalive_connections=200)
    return httpx2.AsyncClient(base_url=app.base_url, limits=limits, timeout=timeout, **kwargs)


def bearer(n: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN.format(n=n)}"}


async def loop_until(
    stop: asyncio.Event, pause: float, body: Callable[[], Awaitable[None]]
) -> None:
    while not stop.is_set():
        await body()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)


async def warm_up(http: httpx2.AsyncClient) -> None:
    """A few unrecorded requests first, so the baseline does not measure a cold process."""
    for _ in range(20):
        await http.get("/api/v1/me", headers=bearer(PROBE_USER))


def probes(
    http: httpx2.AsyncClient, rec: Recorder, stop: asyncio.Event
) -> list[asyncio.Task[None]]:
    """The ordinary requests: GET /api/v1/me, open loop at 5 per second (a slow answer does not
    slow the arrivals, as with real users), at most 200 in flight."""

    async def arrivals() -> None:
        in_flight: set[asyncio.Task[Any]] = set()
        while not stop.is_set():
            if len(in_flight) < 200:
                task = asyncio.create_task(
                    rec.send(http, "me", "GET", "/api/v1/me", headers=bearer(PROBE_USER))
                )
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)
        await asyncio.gather(*in_flight)

    return [asyncio.create_task(arrivals())]


async def memory_sampler(apps: list[App], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for app in apps:
            app.memory()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)


def spans(marks: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Phases by when requests ended: before the fault, during it, from recovery on."""
    return {
        "baseline": (marks["start"], marks["fault"]),
        "fault": (marks["fault"], marks["recovered"]),
        "after": (marks["recovered"], float("inf")),  # with requests still in flight at the end
    }


def phases(rec: Recorder, marks: dict[str, float]) -> dict[str, Any]:
    """Counts and ordinary-request p99 per phase: baseline, fault, after (recovery to end)."""
    out: dict[str, Any] = {}
    for name, (a, b) in spans(marks).items():
        me = window(rec.records, a, b, "me")
        out[name] = {
            "seconds": round(min(b, marks["end"]) - a, 1),
            **tally(window(rec.records, a, b)),
            "me_p99_ms": p99([r.ms for r in me]),
            "me_errors": sum(r.outcome != "2xx" for r in me),
        }
    return out


def finish(rec: Recorder, marks: dict[str, float], apps: list[App], **extra: Any) -> dict[str, Any]:
    per_phase = phases(rec, marks)
    base, fault = per_phase["baseline"]["me_p99_ms"], per_phase["fault"]["me_p99_ms"]
    after = per_phase["after"]["me_p99_ms"]
    return {
        "status": "ran",
        "requests": tally(rec.records),
        "phases": per_phase,
        "me_p99_ms": {"baseline": base, "fault": fault, "after": after},
        "me_p99_ratio": {
            "fault": round(fault / base, 1) if base and fault else None,
            "after": round(after / base, 1) if base and after else None,
        },
        "peak_rss_mb": max((a.peak_mb for a in apps), default=None),
        **extra,
    }
