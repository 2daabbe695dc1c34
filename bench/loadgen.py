"""A small closed-loop HTTP/1.1 load generator (keep-alive connections, asyncio streams).

Each of `concurrency` connections sends one GET, reads the whole response, and sends the next,
for `duration` seconds. The same generator drives both sides of a comparison, so its own cost
cancels out of the ratio.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))
        return ordered[index]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        return self.percentile(99)


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length = 0
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


def http_request(
    method: str,
    path: str,
    host: str,
    port: int,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> bytes:
    """One HTTP/1.1 request, as bytes (keep-alive)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: */*"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method in {"POST", "PUT", "PATCH"}:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _connection(
    host: str,
    port: int,
    make_request: Callable[[], bytes | None],
    stop_at: float,
    latencies: list[float],
    counts: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            request = make_request()
            if request is None:  # the request source is exhausted
                break
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status = await _read_response(reader)
            latencies.append((time.perf_counter() - started) * 1000)
            counts[0] += 1
            if not 200 <= status < 300:
                counts[1] += 1
    finally:
        writer.close()


async def run(host: str, port: int, path: str, *, concurrency: int, duration: float) -> Result:
    """GET `path` in a closed loop."""
    request = http_request("GET", path, host, port)
    return await run_requests(
        host, port, lambda: request, concurrency=concurrency, duration=duration
    )


async def run_requests(
    host: str,
    port: int,
    make_request: Callable[[], bytes | None],
    *,
    concurrency: int,
    duration: float,
) -> Result:
    """Send what `make_request` gives (None: stop) in a closed loop on `concurrency` connections."""
    latencies: list[float] = []
    counts = [0, 0]
    started = time.perf_counter()
    stop_at = started + duration
    await asyncio.gather(
        *(
            _connection(host, port, make_request, stop_at, latencies, counts)
            for _ in range(concurrency)
        )
    )
    return Result(counts[0], counts[1], time.perf_counter() - started, latencies)
