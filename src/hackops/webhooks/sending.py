"""One HTTP attempt to an endpoint, with its limits, described for people.

- Every connection goes through the SSRF guard's `GuardedTransport` (host resolved, every
  address checked, the checked address connected to), with no proxy and nothing from the
  environment. Redirects are not followed: a 3xx is a failed attempt that names where it
  pointed (the endpoint's address is what the organization saved and we checked).
- `policy.timeout` (WEBHOOK_TIMEOUT_SECONDS, 10 s) bounds the whole attempt: connecting,
  sending, the answer's headers and the part of its body we read.
- At most `MAX_RESPONSE_BYTES` (64 KiB) of the answer are read (raw bytes off the wire,
  `Accept-Encoding: identity` asked for, so nothing inflates before it is counted); the rest is
  dropped with the connection. The log keeps the first `EXCERPT_CHARS` characters.
- 2xx is delivered; anything else, or any failure to get an answer, is an `Outcome` whose
  `error` is a sentence an organization's admin can act on. This function never raises for
  what the remote side does.

The clients are kept per event loop (a worker runs one), so connections to a busy endpoint are
reused (keep-alive) and the TLS context is built once.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

import httpx2

from hackops.submissions.pipeline.ssrf import GuardedTransport, HostNotFound, TargetRefused
from hackops.webhooks.urls import TargetPolicy, refusal_sentence

MAX_RESPONSE_BYTES = 64 * 1024
EXCERPT_CHARS = 1000
USER_AGENT = "HackOps-Webhooks/1.0"
_ERROR_CHARS = 500

_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[bool, float, int], httpx2.AsyncClient]
] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt got: the answer's status (None when there was none), how long it took,
    the start of the answer's body, and why it failed ("" when delivered)."""

    status_code: int | None
    latency_ms: int
    excerpt: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return not self.error and self.status_code is not None and 200 <= self.status_code < 300


def client_for(policy: TargetPolicy) -> httpx2.AsyncClient:
    """The guarded client of this event loop for `policy` (made on first use)."""
    loop = asyncio.get_running_loop()
    per_loop = _clients.setdefault(loop, {})
    key = (policy.allow_loopback, policy.timeout, id(policy.resolver))
    client = per_loop.get(key)
    if client is None or client.is_closed:
        client = httpx2.AsyncClient(
            transport=GuardedTransport(
                resolver=policy.resolver, allow_loopback=policy.allow_loopback
            ),
            timeout=httpx2.Timeout(policy.timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
        )
        per_loop[key] = client
    return client


async def close_clients() -> None:
    """Close this loop's clients (a worker shutting down, the end of a test)."""
    per_loop = _clients.pop(asyncio.get_running_loop(), {})
    for client in per_loop.values():
        await client.aclose()


async def post(url: str, body: bytes, headers: dict[str, str], policy: TargetPolicy) -> Outcome:
    """POST `body` to `url` under `policy`; never raises for what the endpoint does."""
    started = time.monotonic()
    client = client_for(policy)

    def took() -> int:
        return max(0, round((time.monotonic() - started) * 1000))

    try:
        async with asyncio.timeout(policy.timeout):
            request = client.build_request(
                "POST", url, content=body, headers={"Content-Type": "application/json", **headers}
            )
            response = await client.send(request, stream=True)
            try:
                raw = await _read_capped(response)
            finally:
                await response.aclose()
    except TimeoutError:
        return Outcome(
            None, took(), error=f"The endpoint did not answer within {_seconds(policy.timeout)}."
        )
    except (TargetRefused, HostNotFound, httpx2.TransportError) as exc:
        return Outcome(None, took(), error=_describe(url, exc, policy)[:_ERROR_CHARS])
    excerpt = raw.decode("utf-8", "replace").replace("\x00", "")[:EXCERPT_CHARS]
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(status, took(), excerpt)
    return Outcome(status, took(), excerpt, _status_error(response)[:_ERROR_CHARS])


async def _read_capped(response: httpx2.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_RESPONSE_BYTES:
            break
    return b"".join(chunks)[:MAX_RESPONSE_BYTES]


def _seconds(value: float) -> str:
    return f"{value:g} second" + ("" if value == 1 else "s")


def _status_text(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _status_error(response: httpx2.Response) -> str:
    status = response.status_code
    if 300 <= status < 400:
        location = response.headers.get("location", "")
        target = f" to {location[:200]}" if location else ""
        return (
            f"The endpoint answered {_status_text(status)}, a redirect{target}; webhooks do not "
            "follow redirects: save the final address as the endpoint's URL."
        )
    if status >= 500:
        advice = "the receiver has a problem of its own; it is tried again later."
    elif status in {401, 403}:
        advice = "the receiver refused the request; check that it verifies with this secret."
    elif status in {404, 405, 410}:
        advice = "nothing receives webhooks at this address; check the endpoint's URL."
    else:
        advice = "only a 2xx answer counts as delivered."
    return f"The endpoint answered {_status_text(status)}: {advice}"


def _describe(url: str, exc: Exception, policy: TargetPolicy) -> str:
    host = (urlsplit(url).hostname or "").rstrip(".")
    if isinstance(exc, TargetRefused):
        return refusal_sentence(host, exc)
    if isinstance(exc, HostNotFound):
        return f"The host name {host} could not be found; check the endpoint's address."
    if isinstance(exc, httpx2.ConnectTimeout):
        return f"The endpoint did not accept a connection within {_seconds(policy.timeout)}."
    if isinstance(exc, httpx2.TimeoutException):
        return f"The endpoint did not answer within {_seconds(policy.timeout)}."
    if isinstance(exc, httpx2.ConnectError):
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return f"The HTTPS certificate of {host} is not valid for this address."
        return f"{host} could not be reached: the connection was refused or failed."
    return "The connection broke off before the endpoint's answer arrived."
