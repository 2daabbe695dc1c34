"""Keeping the link fetcher out of private networks (SSRF guard).

Teams choose the URLs we fetch, so every URL is treated as hostile. Two walls:

1. `validate_submission_url` rejects what can never be a public web page (other schemes,
   credentials, control characters) and rewrites odd IPv4 notations (`2130706433`, `0x7f.0.0.1`,
   `0177.0.0.1`) to dotted quads, so later checks see the address the OS would use.
2. `GuardedBackend` is the httpcore2 network backend of the fetcher's client. It resolves the host
   itself, refuses the connection when ANY resolved address is not public, and then connects to the
   exact address it checked. Checking and connecting in one place means DNS rebinding (a name that
   answers "public" to the check and "private" to the connect) cannot slip through, and every
   connection — first hop, redirect hop, robots.txt — passes the same gate. The URL keeps the
   host name, so the Host header, TLS SNI and certificate verification stay on the real name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit

import httpcore2
import httpx2

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Awaitable[Sequence[str]]]
"""Maps a host name to the IP addresses (as strings) a connection may use."""

MAX_URL_LENGTH = 2000

_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_SHARED_NAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# What C's inet_aton accepts: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x).
_NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}$", re.I)
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\s]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class TargetRefused(Exception):
    """The target is not a public web address; `reason` is meant for the team. When an address
    was refused, `problem` (a noun phrase) and `address` say which, so another caller (the
    webhooks) can word its own sentence."""

    def __init__(self, reason: str, *, problem: str | None = None, address: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.problem = problem
        self.address = address


class HostNotFound(Exception):
    """The host name does not resolve to any address."""

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} could not be resolved")
        self.host = host


async def system_resolver(host: str) -> list[str]:
    """Resolve with the OS (asyncio's getaddrinfo), keeping each address once, in order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a literal host denotes, in any notation the OS would accept, else None."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition address routes to (6to4, Teredo, NAT64, compat)."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64_PREFIXES) or (
        ip in _IPV4_COMPATIBLE and int(ip) > 1  # not :: or ::1, which are judged as they are
    ):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why a connection to `ip` is refused, as a noun phrase; None for a public address.

    `allow_loopback` exists for tests that serve pages from 127.0.0.1; it never opens private,
    link-local or metadata ranges.
    """
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADATA_ADDRESSES:
        return "a cloud metadata service address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED_NAT:
        return "a shared (carrier-grade NAT) address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            # Even the loopback exception does not extend to tunnelled forms.
            inner = address_problem(embedded)
            return f"{inner} embedded in an IPv6 address" if inner else None
        if ip.is_site_local:
            return "a private network address"
    if ip.is_reserved:
        return "a reserved, non-public address"
    if ip.is_private:
        return "a private network address"
    if not ip.is_global:
        return "a reserved, non-public address"
    return None


def refusal_reason(host: str, ip: IPAddress, problem: str) -> str:
    """The sentence shown to the team when `host` leads to a refused address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # shown as the IPv4 address it really is
    literal = parse_ip_literal(host)
    subject = "The link points to" if literal is not None else f"The address {host} resolves to"
    return f"{subject} {problem} ({ip}); only public web pages can be checked."


async def resolve_public(
    host: str, *, resolver: Resolver, allow_loopback: bool = False
) -> list[IPAddress]:
    """Every address of `host`, provided all of them are public; else TargetRefused.

    One bad address refuses the whole host: a name with a public and a private answer could reach
    the private one on a later connection or through a retry on another address.
    """
    literal = parse_ip_literal(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            answers = await resolver(host)
        except (socket.gaierror, UnicodeError) as exc:
            raise HostNotFound(host) from exc
        addresses = [ipaddress.ip_address(answer) for answer in answers]
        if not addresses:
            raise HostNotFound(host)
    for ip in addresses:
        problem = address_problem(ip, allow_loopback=allow_loopback)
        if problem is not None:
            shown = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
            raise TargetRefused(
                refusal_reason(host, ip, problem), problem=problem, address=str(shown or ip)
            )
    return [
        ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
        for ip in addresses
    ]


class GuardedBackend(httpcore2.AsyncNetworkBackend):
    """An httpcore2 backend that only opens TCP connections to checked public addresses."""

    def __init__(self, *, resolver: Resolver, allow_loopback: bool = False) -> None:
        self._resolver = resolver
        self._allow_loopback = allow_loopback
        self._inner = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's backend interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve_public(
                    host, resolver=self._resolver, allow_loopback=self._allow_loopback
                )
        except TimeoutError as exc:
            raise httpcore2.ConnectTimeout(f"resolving {host} timed out") from exc
        last_error: httpcore2.ConnectError | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore2.ConnectError as exc:
                last_error = exc
        assert last_error is not None  # resolve_public never returns an empty list
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's backend interface
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise TargetRefused("Links can only point to web addresses, not local sockets.")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx2.AsyncHTTPTransport):
    """httpx2's transport with its connection pool rebuilt on `GuardedBackend`.

    httpx2 exposes no network_backend option, so the pool is replaced (httpx2 is pinned; the
    pinning tests fail if this stops taking effect). The parent's request/response mapping and
    exception translation stay as they are. No proxy and nothing from the environment: a proxy
    would make the connection on our behalf, past the guard.
    """

    def __init__(self, *, resolver: Resolver, allow_loopback: bool = False) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(resolver=resolver, allow_loopback=allow_loopback),
        )


def validate_submission_url(url: str) -> str:
    """The normalised form of a URL a team submits; ValueError with a readable message if unfit.

    Normalising: surrounding whitespace dropped, scheme and host lower-cased, a default port
    dropped, an empty path written "/", numeric IPv4 hosts written as dotted quads. Whether the
    host is public is decided at fetch time, after DNS, not here.
    """
    candidate = url.strip()
    if not candidate:
        raise ValueError("The link is empty.")
    if len(candidate) > MAX_URL_LENGTH:
        raise ValueError(f"The link is longer than {MAX_URL_LENGTH} characters.")
    if _FORBIDDEN_CHARS.search(candidate):
        raise ValueError("The link contains spaces or control characters; encode them first.")
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"The link is not a valid web address ({exc}).") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("Only http:// and https:// links are accepted.")
    if parts.username is not None or parts.password is not None:
        raise ValueError("Links must not contain a user name or password.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError("The link has no host name.")
    literal = parse_ip_literal(host)
    if literal is not None:
        host = f"[{literal}]" if literal.version == 6 else str(literal)
    elif not _valid_hostname(host):
        raise ValueError(f"{host!r} is not a valid host name.")
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment))


def _valid_hostname(host: str) -> bool:
    """A DNS name (international names allowed) with labels of legal length and characters."""
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.split(".")
    return len(ascii_host) <= 253 and all(
        0 < len(label) <= 63 and re.fullmatch(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?", label, re.I)
        for label in labels
    )
