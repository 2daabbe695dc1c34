"""A small closed-loop HTTP/1.1 load generator (keep-alive connections, asyncio streams).

Each of `concurrency` connections sends one GET, reads the whole response, and sends the next,
for `duration` seconds. The same generator drives both sides of a comparison, so its own cost
cancels out of the ratio. A response outside `expected` (2xx unless told, e.g. 304 for a
conditional GET) counts as an error.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Container
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
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def p99(self) -> float:
        return self.percentile(99)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """The status and headers (names in lower case) of one response; its body read and dropped."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if status in (204, 304):  # no body, whatever Content-Length says (RFC 9110, 8.6)
        return status, headers
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length := int(headers.get("content-length", "0")):
        await reader.readexactly(length)
    return status, headers


async def fetch_once(host: str, port: int, request: bytes) -> tuple[int, dict[str, str]]:
    """Send one request on a new connection: the response's status and headers."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        return await _read_response(reader)
    finally:
        writer.close()


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
    expected: Container[int],
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
            status, _ = await _read_response(reader)
            latencies.append((time.perf_counter() - started) * 1000)
            counts[0] += 1
            if status not in expected:
                counts[1] += 1
    finally:
        writer.close()


SUCCESS = range(200, 300)


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
    expected: Container[int] = SUCCESS,
) -> Result:
    """Send what `make_request` gives (None: stop) in a closed loop on `concurrency` connections."""
    latencies: list[float] = []
    counts = [0, 0]
    started = time.perf_counter()
    stop_at = started + duration
    await asyncio.gather(
        *(
            _connection(host, port, make_request, stop_at, latencies, counts, expected)
            for _ in range(concurrency)
        )
    )
    return Result(counts[0], counts[1], time.perf_counter() - started, latencies)
