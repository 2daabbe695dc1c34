"""Fault harness: what users meet when a dependency dies or a client misbehaves (issue 11).

    make bench-faults                                   # every scenario, full length
    .venv/bin/python bench/faults.py --quick            # short version (~7 min)
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
import json
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import psycopg
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults_edges import big_bodies, redis_kill, slow_uploads
from faults_infra import (
    EVENT,
    ROOT,
    WRITERS,
    App,
    Cluster,
    Recorder,
    team_ids,
)
from faults_load import (
    FULL,
    QUICK,
    Ctx,
    bearer,
    client,
    finish,
    loop_until,
    memory_sampler,
    probes,
    warm_up,
)

console = Console(width=190)
THINK_S = 0.2  # each writer's pause between writes (bounds the load during an outage)
JOBS_WAIT_S = 30.0


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
