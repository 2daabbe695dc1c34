"""Fetching the pages teams link to, politely and without reaching into private networks.

`fetch_link` is what the fetch-links pipeline step calls once per submitted URL. It never raises for
anything the remote side does: every outcome is a `LinkResult` whose `status` and `reason` can be
shown to the team ("unreachable links are reported before the deadline, not silently ignored").

How the limits apply:
- Every TCP connection goes through `ssrf.GuardedBackend`: the host is resolved once, refused when
  any address is not public, and the checked address is the one connected to (no DNS rebinding).
  Redirects are followed here, one hop at a time (at most `max_redirects`), so each hop's URL is
  validated again and its connection is guarded again.
- robots.txt is fetched through the same guarded client, cached per origin in a `RobotsCache`; a
  4xx robots.txt means no rules, a 5xx or 429 means "fetch nothing" (RFC 9309), and a robots.txt
  whose origin cannot be reached makes the page itself unreachable.
- Bodies are streamed and cut at `max_body`. For HTML and other text the first `max_body` bytes are
  kept and used (status ok, `truncated` set): a big page still yields its title and text. For other
  types (PDF, images, archives) a cut file is worthless, so the status is `too_large`, no body is
  kept, and a Content-Length above the cap stops the download before it starts. The cap counts
  decoded bytes; "Accept-Encoding: identity" is sent so a small compressed chunk cannot inflate
  into a large buffer before it is counted.
- `total_timeout` bounds the whole fetch (robots.txt, redirects and body); parsing runs afterwards
  in a worker thread so a large page does not stall the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import weakref
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from http import HTTPStatus
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx2
import structlog
from protego import Protego

from hackops.submissions.pipeline.extract import (
    PageData,
    RepositoryFacts,
    decode_html,
    extract_page,
    is_html,
    parse_content_type,
    parse_repository,
)
from hackops.submissions.pipeline.robots import ROBOT_NAME, RobotsCache, RobotsRules
from hackops.submissions.pipeline.ssrf import (
    GuardedTransport,
    HostNotFound,
    Resolver,
    TargetRefused,
    system_resolver,
    validate_submission_url,
)

__all__ = [
    "ROBOT_NAME",
    "LinkPolicy",
    "LinkResult",
    "LinkStatus",
    "PageData",
    "RepositoryFacts",
    "RobotsCache",
    "fetch_link",
    "guarded_client",
    "parse_repository",
    "validate_submission_url",
]

log = structlog.get_logger(__name__)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MIB = 1024 * 1024


class LinkStatus(StrEnum):
    OK = "ok"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    HTTP_ERROR = "http_error"
    ROBOTS_DISALLOWED = "robots_disallowed"
    TOO_LARGE = "too_large"


@dataclass(frozen=True, kw_only=True)
class LinkPolicy:
    """The limits of one fetch. `allow_loopback` is for tests serving pages on 127.0.0.1 only."""

    base_url: str
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 20.0
    max_body: int = 2 * _MIB
    max_robots_body: int = 512 * 1024
    max_redirects: int = 5
    respect_robots: bool = True
    allow_loopback: bool = False
    resolver: Resolver = system_resolver
    max_text_chars: int = 50_000
    max_links: int = 200

    @property
    def user_agent(self) -> str:
        return f"{ROBOT_NAME}/1.0 (+{self.base_url.rstrip('/')}/bot)"


@dataclass(kw_only=True)
class LinkResult:
    """The outcome of fetching one link; `body` is the snapshot to store, kept out of the JSON."""

    url: str
    final_url: str
    status: LinkStatus
    reason: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    body: bytes = field(default=b"", repr=False)
    sha256: str | None = None
    truncated: bool = False
    elapsed_ms: int = 0
    title: str | None = None
    description: str | None = None
    text: str | None = None
    links: list[str] = field(default_factory=list)
    repository: RepositoryFacts | None = None

    def to_json(self) -> dict[str, Any]:
        repository = self.repository
        return {
            "url": self.url,
            "final_url": self.final_url,
            "status": str(self.status),
            "reason": self.reason,
            "http_status": self.http_status,
            "content_type": self.content_type,
            "size": len(self.body),
            "sha256": self.sha256,
            "truncated": self.truncated,
            "elapsed_ms": self.elapsed_ms,
            "title": self.title,
            "description": self.description,
            "text": self.text,
            "links": list(self.links),
            "repository": None if repository is None else asdict(repository),
        }


_GUARDED_CLIENTS: weakref.WeakKeyDictionary[httpx2.AsyncClient, LinkPolicy] = (
    weakref.WeakKeyDictionary()
)


def guarded_client(policy: LinkPolicy) -> httpx2.AsyncClient:
    """A client whose every connection is SSRF-checked; the only kind `fetch_link` accepts.

    Reuse one for the links of a run (`async with guarded_client(policy) as client:`).
    """
    client = httpx2.AsyncClient(
        transport=GuardedTransport(resolver=policy.resolver, allow_loopback=policy.allow_loopback),
        timeout=httpx2.Timeout(
            connect=policy.connect_timeout,
            read=policy.read_timeout,
            write=policy.read_timeout,
            pool=policy.connect_timeout,
        ),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": policy.user_agent, "Accept-Encoding": "identity"},
    )
    _GUARDED_CLIENTS[client] = policy
    return client


@dataclass(slots=True)
class _Response:
    """A final (non-redirect) answer, or a redirect with its Location."""

    url: str
    status: int
    content_type: str | None = None
    charset: str | None = None
    location: str | None = None
    body: bytes = b""
    truncated: bool = False
    too_large: bool = False


@dataclass(slots=True)
class _Failure:
    """Why the fetch stopped; `hop` is how many redirects had been followed."""

    url: str
    status: LinkStatus
    reason: str
    hop: int = 0


async def fetch_link(
    url: str,
    *,
    policy: LinkPolicy,
    client: httpx2.AsyncClient | None = None,
    robots_cache: RobotsCache | None = None,
) -> LinkResult:
    """Fetch `url` under `policy` and extract what the page says; never raises for remote problems.

    `client`, when given, must come from `guarded_client(policy)` (a plain client would bypass the
    SSRF guard, so anything else is a programming error and raises ValueError).
    """
    if client is not None and _GUARDED_CLIENTS.get(client) != policy:
        raise ValueError("fetch_link needs a client made by guarded_client() with the same policy")
    started = time.monotonic()
    try:
        target = validate_submission_url(url)
    except ValueError as exc:
        return LinkResult(url=url, final_url=url, status=LinkStatus.REFUSED, reason=str(exc))
    run = _Fetch(policy, robots_cache if robots_cache is not None else RobotsCache())
    active = guarded_client(policy) if client is None else client
    try:
        async with asyncio.timeout(policy.total_timeout):
            outcome = await run.follow(active, target, robots_file=False)
    except TimeoutError:
        outcome = _Failure(
            run.current_url,
            LinkStatus.TIMEOUT,
            f"The site did not finish answering within {policy.total_timeout:g} seconds; "
            "check that it is online and responds quickly.",
        )
    finally:
        if client is None:
            await active.aclose()
    result = await _result(url, outcome, policy)
    result.elapsed_ms = round((time.monotonic() - started) * 1000)
    return result


class _Fetch:
    """The state of one fetch: which URL is in flight, and where robots.txt rules come from."""

    def __init__(self, policy: LinkPolicy, robots: RobotsCache) -> None:
        self.policy = policy
        self.robots = robots
        self.current_url = ""

    async def follow(
        self, client: httpx2.AsyncClient, url: str, *, robots_file: bool
    ) -> _Response | _Failure:
        """GET `url`, following redirects one validated, guarded hop at a time."""
        policy = self.policy
        check_robots = policy.respect_robots and not robots_file
        for hop in range(policy.max_redirects + 1):
            if not robots_file:
                self.current_url = url
            if check_robots:
                robots = await self._robots_for(client, url)
                if isinstance(robots, _Failure):
                    return _Failure(url, robots.status, robots.reason, hop)
                if not robots.allows(url):
                    reason = robots.refusal or (
                        f"The site's robots.txt does not allow {ROBOT_NAME} to read this page; "
                        "allow it there or link a page that is open to robots."
                    )
                    return _Failure(url, LinkStatus.ROBOTS_DISALLOWED, reason, hop)
            try:
                response = await self._get(client, url, robots_file=robots_file)
            except (
                TargetRefused,
                HostNotFound,
                httpx2.TransportError,
                httpx2.DecodingError,
            ) as exc:
                return _Failure(url, *_describe(exc, policy), hop)
            if response.location is None:
                return response
            if hop == policy.max_redirects:
                return _Failure(
                    url,
                    LinkStatus.REFUSED,
                    f"The address redirects more than {policy.max_redirects} times; "
                    "link the final page directly.",
                    hop,
                )
            try:
                url = validate_submission_url(urljoin(url, response.location))
            except ValueError as exc:
                return _Failure(
                    url,
                    LinkStatus.REFUSED,
                    f"The site redirects to {response.location[:200]!r}, which cannot be "
                    f"checked: {exc}",
                    hop + 1,
                )
        raise AssertionError("the last hop always returns")

    async def _get(self, client: httpx2.AsyncClient, url: str, *, robots_file: bool) -> _Response:
        """One GET; the body is read, capped, only for a 2xx answer."""
        limit = self.policy.max_robots_body if robots_file else self.policy.max_body
        accept = "text/plain" if robots_file else "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
        request = client.build_request("GET", url, headers={"Accept": accept})
        response = await client.send(request, stream=True)
        try:
            media_type, charset = parse_content_type(response.headers.get("content-type"))
            result = _Response(url, response.status_code, media_type, charset)
            if response.status_code in _REDIRECTS:
                result.location = response.headers.get("location")
            if not 200 <= response.status_code < 300:
                return result
            # A cut HTML or text page is still useful; a cut PDF or image is not.
            keep_prefix = robots_file or media_type is None or media_type.startswith("text/")
            keep_prefix = keep_prefix or is_html(media_type)
            declared = response.headers.get("content-length", "")
            if not keep_prefix and declared.isdigit() and int(declared) > limit:
                result.too_large = True
                return result
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    if not keep_prefix:
                        result.too_large = True
                        return result
                    result.truncated = True
                    break
            result.body = b"".join(chunks)[:limit]
            return result
        finally:
            await response.aclose()

    async def _robots_for(self, client: httpx2.AsyncClient, url: str) -> RobotsRules | _Failure:
        """The robots.txt rules of `url`'s origin, fetched once per origin through the guard.

        A robots.txt whose own origin fails (refused, unreachable, timeout) fails the page too: the
        page lives on the same host. A robots.txt that redirects somewhere that fails counts as
        absent, as the standard treats an unavailable file.
        """
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        cached = self.robots.get(origin)
        if cached is not None:
            return cached
        answer = await self.follow(client, f"{origin}/robots.txt", robots_file=True)
        if isinstance(answer, _Failure):
            if answer.hop == 0:
                return answer
            robots = RobotsRules()
        elif 200 <= answer.status < 300:
            robots = RobotsRules(parser=Protego.parse(answer.body.decode("utf-8", "replace")))
        elif answer.status == 429 or answer.status >= 500:
            # RFC 9309: an unreachable robots.txt means "disallow all". Not cached: it may recover.
            return RobotsRules(
                refusal=f"The site's robots.txt answered {_status_text(answer.status)}, which "
                "under the robots.txt standard forbids reading any page; try again when the "
                "site is healthy."
            )
        else:
            robots = RobotsRules()  # 4xx (or a redirect without a target): no rules
        self.robots.put(origin, robots)
        return robots


def _describe(exc: Exception, policy: LinkPolicy) -> tuple[LinkStatus, str]:
    """A status and a sentence a team can act on, for an exception of the network layer."""
    if isinstance(exc, TargetRefused):
        return LinkStatus.REFUSED, exc.reason
    if isinstance(exc, HostNotFound):
        return (
            LinkStatus.UNREACHABLE,
            f"The host name {exc.host} could not be found; check the spelling of the address.",
        )
    if isinstance(exc, httpx2.ConnectTimeout):
        return (
            LinkStatus.TIMEOUT,
            f"The site did not accept a connection within {policy.connect_timeout:g} seconds.",
        )
    if isinstance(exc, httpx2.TimeoutException):
        return (
            LinkStatus.TIMEOUT,
            f"The site stopped answering for more than {policy.read_timeout:g} seconds.",
        )
    if isinstance(exc, httpx2.ConnectError):
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return (
                LinkStatus.UNREACHABLE,
                "The site's HTTPS certificate is not valid for this address.",
            )
        return LinkStatus.UNREACHABLE, "The site could not be reached (the connection failed)."
    if isinstance(exc, httpx2.UnsupportedProtocol):
        return LinkStatus.REFUSED, "Only http:// and https:// links can be checked."
    if isinstance(exc, httpx2.DecodingError):
        return LinkStatus.UNREACHABLE, "The site sent a compressed body that could not be decoded."
    return LinkStatus.UNREACHABLE, "The connection to the site broke off before the page arrived."


async def _result(url: str, outcome: _Response | _Failure, policy: LinkPolicy) -> LinkResult:
    if isinstance(outcome, _Failure):
        return LinkResult(
            url=url, final_url=outcome.url, status=outcome.status, reason=outcome.reason
        )
    result = LinkResult(
        url=url,
        final_url=outcome.url,
        status=LinkStatus.OK,
        http_status=outcome.status,
        content_type=outcome.content_type,
    )
    if outcome.status >= 300:
        result.status = LinkStatus.HTTP_ERROR
        result.reason = _http_error_reason(outcome.status)
        return result
    if outcome.too_large:
        result.status = LinkStatus.TOO_LARGE
        result.reason = (
            f"The file is larger than {_size_text(policy.max_body)}, the most that is fetched; "
            "link a page about it instead, or upload the file."
        )
        return result
    result.body = outcome.body
    result.sha256 = hashlib.sha256(outcome.body).hexdigest()
    if outcome.truncated:
        result.truncated = True
        result.reason = f"Only the first {_size_text(policy.max_body)} of the page were read."
    if is_html(outcome.content_type):
        html = decode_html(outcome.body, outcome.charset)
        try:
            page = await asyncio.to_thread(
                extract_page,
                html,
                url=outcome.url,
                max_text_chars=policy.max_text_chars,
                max_links=policy.max_links,
            )
        except Exception:
            # Extraction is a bonus on top of a successful fetch; a parser bug on some page must
            # not turn the link into a failure (the step would be retried forever). Logged.
            log.exception("link_extraction_failed", url=outcome.url)
            return result
        result.title, result.description, result.text = page.title, page.description, page.text
        result.links, result.repository = page.links, page.repository
    return result


def _http_error_reason(status: int) -> str:
    if status in _REDIRECTS or status < 200:
        return f"The site answered {_status_text(status)} without a usable target address."
    if status in {401, 403}:
        advice = "the page is not public; make it public or link a page that is."
    elif status in {404, 410}:
        advice = "the page does not exist; check the address."
    elif status >= 500:
        advice = "the site has a server problem; try again later."
    else:
        advice = "check the address and that the page is public."
    return f"The site answered {_status_text(status)}: {advice}"


def _status_text(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _size_text(size: int) -> str:
    return f"{size / _MIB:g} MiB" if size >= _MIB else f"{size // 1024} KiB"
