"""Fault harness: what users meet when a dependency dies or a client misbehaves (issue 11).

    make bench-faults                                   # every scenario, full length
    .venv/bin/python bench/faults.py --quick            # short version (~6 min)
    .venv/bin/python bench/faults.py pg-kill redis-kill --out /tmp/faults.json

Everything runs on 127.0.0.1 and is started here, on free ports, and removed afterwards: a
throwaway PostgreSQL 15 cluster (the system binaries, FAULTS_PG_BIN; owned by the `postgres`
user when run as root), a redis-server (redis-kill only) and the app itself as a real process
(`hackops serve --with-worker`, dev mode, demo data, one fresh database per scenario) so that it
can be killed. The shared services on 5432/6379 are never touched. Seed: the demo organization
plus an event `faults` with 40 teams, each captained by a user with a bearer token.

Scenarios (each bounded in time and in requests; pick them by name):

- pg-kill: 40 writers (each captain adds tasks to its board and, every 4th write, submits its
  submission, which enqueues the processing pipeline), PostgreSQL stopped in immediate mode for
  ~15-20 s, started again, writes go on; then acknowledged writes missing from the database,
  jobs still todo/doing 30 s after the load ended, requests closed without a response.
- app-kill: the same writers; the app is killed with SIGKILL and started again.
- redis-kill: the app with REDIS_URL; sign-in (API and page) and live-leaderboard readers;
  redis-server killed, load kept, started again: 5xx during the outage and after recovery.
- slow-uploads: 40 clients upload a PNG to their submission at 1 byte every 5 s (~60 s) while
  the ordinary requests are measured.
- big-bodies: a 500 MB JSON body (POST /api/v1/auth/register) and a 500 MB multipart body
  (POST /login, no CSRF token), streamed from generators: status and time of the reply, the
  app's RSS before/peak/after and the bytes it spooled to its temp folder.

"Ordinary requests" are GET /api/v1/me by a signed-in user, two loops throughout every scenario;
their p99 is reported for the baseline (before the fault, same run, same load), during the fault
and after it, and as a ratio to the baseline. Counts per scenario: requests sent, 2xx (3xx
included), 4xx, 5xx, and no response (closed without one / connection refused / timed out).
Prints a Rich table, writes JSON (--out, default bench/results/faults-<time>.json). A scenario
that cannot run (no redis-server, no PostgreSQL binaries) says so and the others go on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import struct
import sys
import tempfile
import time
import traceback
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import psycopg
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults_infra import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    EVENT,
    PROBE_USER,
    ROOT,
    TOKEN,
    WRITERS,
    App,
    Cluster,
    Recorder,
    RedisServer,
    p99,
    seed,
    tally,
    team_ids,
    window,
)

console = Console(width=190)
MiB = 1024 * 1024
THINK_S = 0.2  # each writer's pause between writes (bounds the load during an outage)
JOBS_WAIT_S = 30.0


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


# --- writes that must survive -----------------------------------------------------------------


async def writers(
    http: httpx2.AsyncClient, rec: Recorder, teams: dict[int, str], stop: asyncio.Event
) -> dict[str, list[str]]:
    """40 captains writing until `stop`; every acknowledged (201) write's id, by table."""
    acks: dict[str, list[str]] = {"tasks": [], "submission_versions": []}

    async def one(n: int) -> None:
        base = f"{EVENT}/teams/{teams[n]}"
        i = 0

        async def write() -> None:
            nonlocal i
            i += 1
            if rec.full:
                stop.set()
            elif i % 4 == 0:
                r = await rec.send(
                    http, "submit", "POST", f"{base}/submission/submit", headers=bearer(n)
                )
                if r is not None and r.status_code == 201:
                    acks["submission_versions"].append(r.json()["id"])
            else:
                body = {"title": f"writer {n} task {i}"}
                r = await rec.send(
                    http, "task", "POST", f"{base}/tasks", json=body, headers=bearer(n)
                )
                if r is not None and r.status_code == 201:
                    acks["tasks"].append(r.json()["id"])

        await loop_until(stop, THINK_S, write)

    await asyncio.gather(*(one(n) for n in range(1, WRITERS + 1)))
    return acks


def missing_writes(admin: str, acks: dict[str, list[str]]) -> int:
    with psycopg.connect(admin) as conn:
        found = sum(
            conn.execute(
                f"SELECT count(*) FROM {table} WHERE id = ANY(%s::uuid[])", (ids,)
            ).fetchone()[0]  # type: ignore[index]
            for table, ids in acks.items()
        )
    return sum(len(ids) for ids in acks.values()) - int(found)


def undone_jobs(admin: str) -> dict[str, int]:
    with psycopg.connect(admin) as conn:
        rows = conn.execute(
            "SELECT task_name || ':' || status, count(*) FROM procrastinate_jobs"
            " WHERE status IN ('todo', 'doing') GROUP BY 1 ORDER BY 1"
        ).fetchall()
    return {name: int(n) for name, n in rows}


async def write_scenario(
    ctx: Ctx, name: str, fault: Callable[[App, Cluster], Awaitable[None]]
) -> dict[str, Any]:
    """Writers under a fault: baseline, `fault` (returns once things are back), after; checks."""
    app, admin = await ctx.new_app(name)
    teams = await asyncio.to_thread(team_ids, admin)
    assert ctx.cluster is not None
    rec, stop, marks = Recorder(), asyncio.Event(), {"start": time.monotonic()}
    sampler_stop = asyncio.Event()
    sampler = asyncio.create_task(memory_sampler(ctx.apps, sampler_stop))
    async with client(app) as http:
        await warm_up(http)
        marks["start"] = time.monotonic()
        loops = probes(http, rec, stop)
        writing = asyncio.create_task(writers(http, rec, teams, stop))
        await asyncio.sleep(ctx.timing.baseline)
        marks["fault"] = time.monotonic()
        await fault(app, ctx.cluster)
        marks["recovered"] = time.monotonic()
        await asyncio.sleep(ctx.timing.after)
        marks["end"] = time.monotonic()
        stop.set()
        acks = await writing
        await asyncio.gather(*loops)
        backlog = await asyncio.to_thread(undone_jobs, admin)
        await asyncio.sleep(JOBS_WAIT_S)
        ready = await http.get("/health/ready")
    sampler_stop.set()
    await sampler
    left = await asyncio.to_thread(undone_jobs, admin)
    log = app.log.read_text(errors="replace")
    return finish(
        rec,
        marks,
        [app],
        acked_writes=sum(len(v) for v in acks.values()),
        acked_missing=await asyncio.to_thread(missing_writes, admin, acks),
        jobs_undone_at_load_end=sum(backlog.values()),
        jobs_undone_30s=sum(left.values()),
        jobs_undone_30s_detail=left,
        ready_after_30s={"status": ready.status_code, "body": ready.text[:500]},
        app_log={k: log.count(k) for k in ("Stopped worker", "worker_stopped", "Traceback")},
        outage_s=round(marks["recovered"] - marks["fault"], 1),
    )


async def pg_kill(ctx: Ctx) -> dict[str, Any]:
    async def fault(app: App, cluster: Cluster) -> None:
        await asyncio.to_thread(cluster.kill)
        await asyncio.sleep(ctx.timing.outage)
        await asyncio.to_thread(cluster.start)

    return await write_scenario(ctx, "pg-kill", fault)


async def app_kill(ctx: Ctx) -> dict[str, Any]:
    restart: dict[str, float] = {}

    async def fault(app: App, cluster: Cluster) -> None:
        await asyncio.to_thread(app.kill9)
        await asyncio.sleep(1)
        restart["seconds"] = round(await asyncio.to_thread(app.start, first=False), 1)

    result = await write_scenario(ctx, "app-kill", fault)
    return {**result, "restart_s": restart.get("seconds")}


# --- Redis ------------------------------------------------------------------------------------


async def redis_kill(ctx: Ctx) -> dict[str, Any]:
    redis = RedisServer(ctx.root)  # RuntimeError (skipped) when redis-server is missing
    redis.start()
    ctx.cleanups.append(redis.kill)
    app, _ = await ctx.new_app("redis-kill", REDIS_URL=redis.url)
    rec, stop, marks = Recorder(), asyncio.Event(), {"start": time.monotonic()}
    board = "/api/v1/organizations/demo/events/demo-judging-2026/judging/leaderboard"
    login = {"username": DEMO_EMAIL, "password": DEMO_PASSWORD}
    async with client(app) as http:
        token = (await http.post("/api/v1/auth/token", data=login)).json()["access_token"]

        async def api_sign_in() -> None:
            await rec.send(http, "sign-in-api", "POST", "/api/v1/auth/token", data=login)

        async def leaderboard() -> None:
            headers = {"Authorization": f"Bearer {token}"}
            await rec.send(http, "leaderboard", "GET", board, headers=headers)

        async def page_signer() -> None:
            async with client(app, follow_redirects=False) as browser:
                await rec.send(browser, "login-page", "GET", "/login")
                csrf = browser.cookies.get("hackops_csrf") or ""
                form = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrf_token": csrf}

                async def sign_in() -> None:
                    await rec.send(browser, "sign-in-page", "POST", "/login", data=form)

                await loop_until(stop, 0.5, sign_in)

        await warm_up(http)
        await http.get(board, headers={"Authorization": f"Bearer {token}"})  # computed once
        marks["start"] = time.monotonic()
        tasks = probes(http, rec, stop)
        tasks += [asyncio.create_task(loop_until(stop, 0.5, api_sign_in)) for _ in range(2)]
        tasks += [asyncio.create_task(page_signer()) for _ in range(2)]
        tasks += [asyncio.create_task(loop_until(stop, 0.05, leaderboard)) for _ in range(6)]
        await asyncio.sleep(ctx.timing.baseline)
        marks["fault"] = time.monotonic()
        redis.kill()
        await asyncio.sleep(ctx.timing.outage)
        await asyncio.to_thread(redis.start)
        marks["recovered"] = time.monotonic()
        await asyncio.sleep(ctx.timing.redis_after)
        marks["end"] = time.monotonic()
        stop.set()
        await asyncio.gather(*tasks)
        ready = await http.get("/health/ready")
    app.memory()
    result = finish(rec, marks, [app], ready_at_end={"status": ready.status_code})
    by_kind = {
        kind: {
            p: tally(window(rec.records, *span, kind))["5xx"] for p, span in spans(marks).items()
        }
        for kind in ("sign-in-api", "sign-in-page", "leaderboard", "me")
    }
    return {**result, "five_xx_by_kind": by_kind, "acked_missing": None, "jobs_undone_30s": None}


# --- slow and big bodies ----------------------------------------------------------------------


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def slow_uploads(ctx: Ctx) -> dict[str, Any]:
    app, admin = await ctx.new_app("slow-uploads")
    teams = await asyncio.to_thread(team_ids, admin)
    rec, stop, marks = Recorder(), asyncio.Event(), {"start": time.monotonic()}
    png = tiny_png()
    drip_bytes = int(ctx.timing.drip // 5)

    async def trickle() -> AsyncIterator[bytes]:
        for i in range(drip_bytes):
            yield png[i : i + 1]
            await asyncio.sleep(5)
        yield png[drip_bytes:]

    async def upload(http: httpx2.AsyncClient, n: int) -> None:
        url = f"{EVENT}/teams/{teams[n]}/submission/files?name=shot-{n}.png"
        headers = {**bearer(n), "Content-Type": "image/png", "Content-Length": str(len(png))}
        await rec.send(http, "upload", "POST", url, content=trickle(), headers=headers)

    sampler_stop = asyncio.Event()
    sampler = asyncio.create_task(memory_sampler([app], sampler_stop))
    async with client(app) as http, client(app, timeout=ctx.timing.drip + 90) as uploads:
        await warm_up(http)
        marks["start"] = time.monotonic()
        loops = probes(http, rec, stop)
        await asyncio.sleep(ctx.timing.baseline)
        marks["fault"] = time.monotonic()
        await asyncio.gather(*(upload(uploads, n) for n in range(1, WRITERS + 1)))
        marks["recovered"] = time.monotonic()
        await asyncio.sleep(ctx.timing.after)
        marks["end"] = time.monotonic()
        stop.set()
        await asyncio.gather(*loops)
    sampler_stop.set()
    await sampler
    uploaded = tally([r for r in rec.records if r.kind == "upload"])
    return {
        **finish(rec, marks, [app]),
        "uploads": uploaded,
        "acked_missing": None,
        "jobs_undone_30s": None,
    }


def spooled_mb(app: App) -> int:
    """Bytes (MB) the app holds in files under its TMPDIR, deleted ones included (via /proc)."""
    total = 0
    tmp = str(app.root / "tmp")
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{app.pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if Path(fd).readlink().as_posix().startswith(tmp):
                    total += fd.stat().st_size
    return total // MiB


async def big_body(
    http: httpx2.AsyncClient,
    app: App,
    rec: Recorder,
    kind: str,
    url: str,
    head: bytes,
    tail: bytes,
    size: int,
    content_type: str,
) -> dict[str, Any]:
    chunk = b"a" * MiB

    async def body() -> AsyncIterator[bytes]:
        yield head
        for _ in range(size // MiB):
            yield chunk
        yield tail

    before = app.memory()
    peak = {"rss": before.get("VmRSS", 0), "spool": 0}
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            peak["rss"] = max(peak["rss"], app.memory().get("VmRSS", 0))
            peak["spool"] = max(peak["spool"], spooled_mb(app))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 0.05)

    sampler = asyncio.create_task(sample())
    headers = {"Content-Type": content_type, "Content-Length": str(len(head) + size + len(tail))}
    started = time.monotonic()
    response = await rec.send(http, kind, "POST", url, content=body(), headers=headers)
    seconds = time.monotonic() - started
    await asyncio.sleep(1)
    done.set()
    await sampler
    after = app.memory()
    last = next((r for r in reversed(rec.records) if r.kind == kind), None)
    return {
        "status": response.status_code if response is not None else None,
        "outcome": last.outcome if last else None,
        "seconds": round(seconds, 2),
        "rss_before_mb": before.get("VmRSS"),
        "rss_peak_mb": peak["rss"],
        "rss_after_mb": after.get("VmRSS"),
        "spooled_peak_mb": peak["spool"],
    }


async def big_bodies(ctx: Ctx) -> dict[str, Any]:
    app, _ = await ctx.new_app("big-bodies")
    size = ctx.timing.big_mb * MiB
    rec, stop, marks = Recorder(), asyncio.Event(), {"start": time.monotonic()}
    async with client(app) as http, client(app, timeout=300) as hostile:
        await warm_up(http)
        marks["start"] = time.monotonic()
        loops = probes(http, rec, stop)
        await asyncio.sleep(ctx.timing.baseline)
        marks["fault"] = time.monotonic()
        head = b'{"email": "big@example.com", "password": "big-body-2026", "name": "'
        as_json = await big_body(
            hostile,
            app,
            rec,
            "json",
            "/api/v1/auth/register",
            head,
            b'"}',
            size,
            "application/json",
        )
        boundary = "faultsboundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\n'
            "big@example.com\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        multipart = await big_body(
            hostile,
            app,
            rec,
            "multipart",
            "/login",
            head,
            f"\r\n--{boundary}--\r\n".encode(),
            size,
            f"multipart/form-data; boundary={boundary}",
        )
        marks["recovered"] = time.monotonic()
        await asyncio.sleep(ctx.timing.after / 2)
        marks["end"] = time.monotonic()
        stop.set()
        await asyncio.gather(*loops)
    app.memory()
    return {
        **finish(rec, marks, [app]),
        "body_mb": ctx.timing.big_mb,
        "json_body": as_json,
        "multipart_body": multipart,
        "acked_missing": None,
        "jobs_undone_30s": None,
    }


SCENARIOS: dict[str, Callable[[Ctx], Awaitable[dict[str, Any]]]] = {
    "pg-kill": pg_kill,
    "app-kill": app_kill,
    "redis-kill": redis_kill,
    "slow-uploads": slow_uploads,
    "big-bodies": big_bodies,
}


# --- running and reporting --------------------------------------------------------------------


async def run(names: list[str], ctx: Ctx) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in names:
        console.rule(f"[bold]{name}")
        started = time.monotonic()
        try:
            results[name] = await SCENARIOS[name](ctx)
        except RuntimeError as exc:  # a missing binary, an app that would not start
            console.print(f"[yellow]{name} skipped: {exc}")
            results[name] = {"status": "skipped", "reason": str(exc)}
        except Exception as exc:
            console.print(f"[red]{name} failed: {exc!r}")
            results[name] = {
                "status": "failed",
                "reason": repr(exc),
                "trace": traceback.format_exc(),
            }
        finally:
            for app in ctx.apps:
                await asyncio.to_thread(app.stop)
            ctx.apps.clear()
        results[name]["wall_s"] = round(time.monotonic() - started, 1)
        console.print_json(data={k: v for k, v in results[name].items() if k != "trace"})
    return results


def dash(value: Any) -> str:
    return "—" if value is None else str(value)


def table(results: dict[str, Any]) -> Table:
    t = Table(title="Fault harness (bench/faults.py)")
    for column in ("scenario", "sent", "2xx", "4xx", "5xx", "no resp", "acked missing",
                   "jobs undone 30 s", "p99 /me base ms", "p99 fault ms", "ratio", "p99 after ms",
                   "peak RSS MB"):  # fmt: skip
        t.add_column(column, justify="left" if column == "scenario" else "right")
    for name, r in results.items():
        if r.get("status") != "ran":
            t.add_row(name, f"[yellow]{r.get('status')}: {r.get('reason', '')[:60]}")
            continue
        q, me = r["requests"], r["me_p99_ms"]
        no_response = f"{q['closed']} closed / {q['refused']} refused / {q['timeout']} t/o"
        t.add_row(
            name, str(q["sent"]), str(q["2xx"]), str(q["4xx"]), str(q["5xx"]), no_response,
            dash(r.get("acked_missing")), dash(r.get("jobs_undone_30s")),
            dash(me["baseline"]), dash(me["fault"]), dash(r["me_p99_ratio"]["fault"]),
            dash(me["after"]), dash(r.get("peak_rss_mb")),
        )  # fmt: skip
    return t


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)} (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="shorter phases (same shape)")
    parser.add_argument(
        "--out", type=Path, help="JSON file (default bench/results/faults-<time>.json)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (logs, data)"
    )
    args = parser.parse_args()
    names = args.scenarios or list(SCENARIOS)
    if unknown := [n for n in names if n not in SCENARIOS]:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or ROOT / "bench" / "results" / f"faults-{stamp}.json"
    root = Path(tempfile.mkdtemp(prefix="hackops-faults-"))
    ctx = Ctx(root=root, timing=QUICK if args.quick else FULL)
    try:
        results = asyncio.run(run(names, ctx))
    finally:
        for app in ctx.apps:
            app.stop()
        for cleanup in reversed(ctx.cleanups):
            cleanup()
        if args.keep:
            console.print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    report = {"when": stamp, "quick": args.quick, "command": " ".join(sys.argv), "results": results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    console.print(table(results))
    console.print(f"JSON: {out}")


if __name__ == "__main__":
    main()
