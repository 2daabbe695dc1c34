"""bench/faults.py scenarios without writers: Redis killed under sign-ins and leaderboard readers,
40 slow uploads, 500 MB bodies."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import sys
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults_infra import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    EVENT,
    WRITERS,
    App,
    Recorder,
    RedisServer,
    tally,
    team_ids,
    window,
)
from faults_load import (
    Ctx,
    bearer,
    client,
    finish,
    loop_until,
    memory_sampler,
    probes,
    spans,
    warm_up,
)

MiB = 1024 * 1024


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
