"""The link fetcher against a real HTTP server on 127.0.0.1 (offline; no internet needed).

Pages are served by uvicorn in a thread; the server records every request (path, Host, User-Agent)
so tests can show what was and was not fetched. A bare TCP listener (the canary) counts accepted
connections, to show that refused targets are never connected to. Host names are resolved by a
test resolver, which lets a name point at the local server or at a private address.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from hackops.submissions.pipeline.extract import decode_html, extract_page
from hackops.submissions.pipeline.links import (
    LinkPolicy,
    LinkStatus,
    RobotsCache,
    fetch_link,
    guarded_client,
    parse_repository,
    validate_submission_url,
)
from hackops.submissions.pipeline.ssrf import address_problem

MIB = 1024 * 1024
ROBOTS = "User-agent: HackOpsBot\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n"
PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>  Solar Sprout </title>
<meta name="description" content="A garden sensor that waters plants when the sun is out.">
<meta property="og:description" content="OG text that loses to the plain description.">
</head><body><nav><a href="/about">About</a></nav><main><article><h1>Solar Sprout</h1>
<p>Solar Sprout measures soil moisture every ten minutes and opens a valve when the soil is dry
and the panel produces enough power. The firmware runs on a small microcontroller and reports to a
dashboard that the whole allotment can read.</p>
<p>We built the enclosure from recycled bottles and the valve from a washing machine part.</p>
</article></main><footer><a href="/about#team">Team</a> <a href="https://example.org/docs">Docs</a>
<a href="https://example.org/docs">Docs again</a> <a href="mailto:team@example.org">Mail</a>
<a href="javascript:void(0)">Nothing</a> <a href="sub/page?x=1">Sub</a></footer></body></html>"""


# --- the local server ------------------------------------------------------------------------


@dataclass
class Seen:
    path: str
    host: str
    user_agent: str


@dataclass
class LocalSite:
    port: int
    requests: list[Seen] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]


def _site_app(site: LocalSite) -> ASGIApp:
    async def robots(request: Request) -> Response:
        host = request.headers.get("host", "")
        if host.startswith("norobots.test"):
            return PlainTextResponse("no robots here", status_code=404)
        if host.startswith("brokenrobots.test"):
            return PlainTextResponse("down", status_code=503)
        return PlainTextResponse(ROBOTS)

    async def page(request: Request) -> Response:
        return Response(PAGE, media_type="text/html; charset=utf-8")

    async def charset(request: Request) -> Response:
        """The page under a hostile or unknown charset (a header Response would not rewrite)."""
        name = request.path_params["name"]
        return Response(PAGE, headers={"content-type": f"text/html; charset={name}"})

    async def big_html(request: Request) -> Response:
        words = b"lorem ipsum dolor sit amet " * (3 * MIB // 27)
        html = b"<html><head><title>Big page</title></head><body><main><p>" + words + b"</p>"
        return Response(html + b"</main></body></html>", media_type="text/html")

    async def big_stream(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(48):  # 3 MiB in 64 KiB chunks, no Content-Length
                yield b"\0" * 65536

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    async def big_declared(request: Request) -> Response:
        return Response(b"%PDF-1.7\n" + b"\0" * (3 * MIB), media_type="application/pdf")

    async def small_pdf(request: Request) -> Response:
        return Response(b"%PDF-1.7\n%%EOF\n", media_type="application/pdf")

    async def redirect(request: Request) -> Response:
        left = int(request.path_params["left"])
        if left == 0:
            return Response(PAGE, media_type="text/html")
        return RedirectResponse(f"/redirect/{left - 1}", status_code=302)

    async def slow(request: Request) -> Response:
        await asyncio.sleep(1.5)
        return PlainTextResponse("finally")

    async def drip(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(40):
                yield b"x"
                await asyncio.sleep(0.1)

        return StreamingResponse(chunks(), media_type="text/plain")

    def redirect_to(location: str) -> Route:
        async def endpoint(request: Request) -> Response:
            return RedirectResponse(location, status_code=302)

        return Route(f"/to/{location.split(':')[0]}", endpoint)

    inner = Starlette(
        routes=[
            Route("/robots.txt", robots),
            Route("/page", page),
            Route("/charset/{name}", charset),
            Route("/private/page", page),
            Route("/big.html", big_html),
            Route("/big.bin", big_stream),
            Route("/big.pdf", big_declared),
            Route("/doc.pdf", small_pdf),
            Route("/redirect/{left:int}", redirect),
            Route("/slow", slow),
            Route("/drip", drip),
            redirect_to("http://10.0.0.1/"),
            redirect_to("file:///etc/passwd"),
        ]
    )

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            site.requests.append(
                Seen(scope["path"], headers.get("host", ""), headers.get("user-agent", ""))
            )
        await inner(scope, receive, send)

    return recording


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    local = LocalSite(port=sock.getsockname()[1])
    config = uvicorn.Config(
        _site_app(local), log_config=None, access_log=False, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.02)
    assert server.started, "test site did not start"
    yield local
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()


@dataclass
class Canary:
    """A TCP listener on 127.0.0.1 that counts connections and closes them unanswered."""

    port: int
    accepted: int = 0


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    state = Canary(port=listener.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            state.accepted += 1
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield state
    stop.set()
    thread.join(timeout=2)
    listener.close()


class Resolver:
    """Test DNS: a fixed table; records every name it is asked about."""

    def __init__(self, table: dict[str, Sequence[str]] | None = None) -> None:
        self.table = dict(table or {})
        self.asked: list[str] = []

    async def __call__(self, host: str) -> Sequence[str]:
        self.asked.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


@pytest.fixture
def resolver() -> Resolver:
    return Resolver(
        {
            "project.test": ["127.0.0.1"],
            "norobots.test": ["127.0.0.1"],
            "brokenrobots.test": ["127.0.0.1"],
            "internal.test": ["192.168.1.5"],
            "mixed.test": ["93.184.216.34", "10.1.2.3"],
        }
    )


@pytest.fixture
def local_policy(resolver: Resolver) -> LinkPolicy:
    """Loopback allowed (the test server), everything else as in production."""
    return LinkPolicy(base_url="https://hackops.test", allow_loopback=True, resolver=resolver)


@pytest.fixture
def strict_policy(resolver: Resolver) -> LinkPolicy:
    return LinkPolicy(base_url="https://hackops.test", resolver=resolver)


# --- fetching pages --------------------------------------------------------------------------


async def test_html_page_is_fetched_and_extracted(
    site: LocalSite, local_policy: LinkPolicy
) -> None:
    result = await fetch_link(site.url("/page"), policy=local_policy)

    assert result.status == LinkStatus.OK, result.reason
    assert (result.http_status, result.content_type) == (200, "text/html")
    assert result.body == PAGE
    assert result.sha256 == hashlib.sha256(PAGE).hexdigest()
    assert result.truncated is False
    assert result.title == "Solar Sprout"
    assert result.description == "A garden sensor that waters plants when the sun is out."
    assert result.text is not None
    assert "opens a valve when the soil is dry" in result.text
    assert result.links == [
        site.url("/about"),
        "https://example.org/docs",
        site.url("/sub/page?x=1"),
    ]
    assert result.repository is None
    assert site.requests[-1].user_agent == "HackOpsBot/1.0 (+https://hackops.test/bot)"
    document = result.to_json()
    assert "body" not in document
    assert document["size"] == len(PAGE)
    assert json.loads(json.dumps(document))["status"] == "ok"


@pytest.mark.parametrize("charset", ["rot13", "zlib", "base64", "idna", "utf-7", "no-such-thing"])
async def test_a_hostile_charset_falls_back_and_the_page_is_still_read(
    site: LocalSite, local_policy: LinkPolicy, charset: str
) -> None:
    result = await fetch_link(site.url(f"/charset/{charset}"), policy=local_policy)

    assert result.status == LinkStatus.OK, result.reason
    assert result.title == "Solar Sprout"


async def test_connection_is_pinned_to_the_checked_address_with_the_real_host_name(
    site: LocalSite, local_policy: LinkPolicy, resolver: Resolver
) -> None:
    result = await fetch_link(site.url("/page", host="project.test"), policy=local_policy)

    assert result.status == LinkStatus.OK, result.reason
    assert result.final_url == site.url("/page", host="project.test")
    assert resolver.asked == ["project.test"]  # robots.txt and page share one checked connection
    assert [(s.path, s.host) for s in site.requests[-2:]] == [
        ("/robots.txt", f"project.test:{site.port}"),
        ("/page", f"project.test:{site.port}"),
    ]


def _self_signed_certificate(name: str, directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_keeps_sni_and_certificate_checks_on_the_host_name(
    local_policy: LinkPolicy, tmp_path: Path
) -> None:
    """The connection goes to the checked 127.0.0.1, but TLS still speaks to `project.test`."""
    cert_path, key_path = _self_signed_certificate("project.test", tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    server_names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: server_names.append(name)

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await fetch_link(f"https://project.test:{port}/", policy=local_policy)

    assert server_names == ["project.test"]
    assert result.status == LinkStatus.UNREACHABLE  # self-signed: verification stayed on
    assert result.reason == "The site's HTTPS certificate is not valid for this address."


async def test_non_html_content_is_kept_without_extraction(
    site: LocalSite, local_policy: LinkPolicy
) -> None:
    result = await fetch_link(site.url("/doc.pdf"), policy=local_policy)

    assert (result.status, result.content_type) == (LinkStatus.OK, "application/pdf")
    assert result.body == b"%PDF-1.7\n%%EOF\n"
    assert (result.title, result.text, result.links) == (None, None, [])


async def test_a_missing_page_is_an_http_error(site: LocalSite, local_policy: LinkPolicy) -> None:
    result = await fetch_link(site.url("/nothing-here"), policy=local_policy)

    assert (result.status, result.http_status) == (LinkStatus.HTTP_ERROR, 404)
    assert result.reason == (
        "The site answered HTTP 404 Not Found: the page does not exist; check the address."
    )
    assert result.body == b""
    assert result.sha256 is None


# --- size limits -----------------------------------------------------------------------------


async def test_a_big_html_page_is_cut_at_the_cap_and_still_extracted(
    site: LocalSite, local_policy: LinkPolicy
) -> None:
    result = await fetch_link(site.url("/big.html"), policy=local_policy)

    assert result.status == LinkStatus.OK
    assert result.truncated is True
    assert len(result.body) == 2 * MIB
    assert result.reason == "Only the first 2 MiB of the page were read."
    assert result.title == "Big page"
    assert result.text is not None
    assert len(result.text) == 50_000


@pytest.mark.parametrize("path", ["/big.bin", "/big.pdf"])  # streamed, and Content-Length declared
async def test_a_big_file_is_too_large(
    site: LocalSite, local_policy: LinkPolicy, path: str
) -> None:
    result = await fetch_link(site.url(path), policy=local_policy)

    assert result.status == LinkStatus.TOO_LARGE
    assert result.body == b""
    assert result.sha256 is None
    assert result.reason is not None
    assert "larger than 2 MiB" in result.reason


# --- redirects -------------------------------------------------------------------------------


async def test_five_redirects_are_followed(site: LocalSite, local_policy: LinkPolicy) -> None:
    result = await fetch_link(site.url("/redirect/5"), policy=local_policy)

    assert result.status == LinkStatus.OK
    assert result.final_url == site.url("/redirect/0")
    assert result.title == "Solar Sprout"


async def test_a_sixth_redirect_is_refused(site: LocalSite, local_policy: LinkPolicy) -> None:
    site.requests.clear()
    result = await fetch_link(site.url("/redirect/6"), policy=local_policy)

    assert result.status == LinkStatus.REFUSED
    assert result.reason == "The address redirects more than 5 times; link the final page directly."
    assert result.final_url == site.url("/redirect/1")
    assert [p for p in site.paths() if p.startswith("/redirect/")] == [
        f"/redirect/{n}" for n in (6, 5, 4, 3, 2, 1)
    ]


async def test_a_redirect_to_a_private_address_is_refused(
    site: LocalSite, local_policy: LinkPolicy
) -> None:
    result = await fetch_link(site.url("/to/http"), policy=local_policy)

    assert result.status == LinkStatus.REFUSED
    assert result.final_url == "http://10.0.0.1/"
    assert result.reason == (
        "The link points to a private network address (10.0.0.1); only public web pages can be "
        "checked."
    )


async def test_a_redirect_to_another_scheme_is_refused(
    site: LocalSite, local_policy: LinkPolicy
) -> None:
    result = await fetch_link(site.url("/to/file"), policy=local_policy)

    assert result.status == LinkStatus.REFUSED
    assert result.reason is not None
    assert "Only http:// and https:// links" in result.reason


# --- robots.txt ------------------------------------------------------------------------------


async def test_robots_txt_is_respected_and_cached(
    site: LocalSite, local_policy: LinkPolicy
) -> None:
    site.requests.clear()
    cache = RobotsCache()
    async with guarded_client(local_policy) as client:
        blocked = await fetch_link(
            site.url("/private/page"), policy=local_policy, client=client, robots_cache=cache
        )
        allowed = await fetch_link(
            site.url("/page"), policy=local_policy, client=client, robots_cache=cache
        )

    assert blocked.status == LinkStatus.ROBOTS_DISALLOWED
    assert blocked.reason is not None
    assert "robots.txt does not allow HackOpsBot" in blocked.reason
    assert allowed.status == LinkStatus.OK  # "User-agent: *" disallows all; our group wins
    assert site.paths() == ["/robots.txt", "/page"]


async def test_robots_can_be_ignored_by_policy(site: LocalSite, local_policy: LinkPolicy) -> None:
    site.requests.clear()
    policy = replace(local_policy, respect_robots=False)
    result = await fetch_link(site.url("/private/page"), policy=policy)

    assert result.status == LinkStatus.OK
    assert site.paths() == ["/private/page"]


async def test_a_missing_robots_txt_allows_everything(
    site: LocalSite, local_policy: LinkPolicy
) -> None:
    result = await fetch_link(site.url("/private/page", host="norobots.test"), policy=local_policy)

    assert result.status == LinkStatus.OK


async def test_a_failing_robots_txt_forbids_fetching(
    site: LocalSite, local_policy: LinkPolicy
) -> None:
    url = site.url("/page", host="brokenrobots.test")
    result = await fetch_link(url, policy=local_policy)

    assert result.status == LinkStatus.ROBOTS_DISALLOWED
    assert result.reason is not None
    assert "HTTP 503 Service Unavailable" in result.reason


# --- timeouts --------------------------------------------------------------------------------


async def test_a_slow_answer_times_out(site: LocalSite, local_policy: LinkPolicy) -> None:
    policy = replace(local_policy, read_timeout=0.3)
    result = await fetch_link(site.url("/slow"), policy=policy)

    assert result.status == LinkStatus.TIMEOUT
    assert result.reason == "The site stopped answering for more than 0.3 seconds."


async def test_a_trickling_body_hits_the_total_deadline(
    site: LocalSite, local_policy: LinkPolicy
) -> None:
    policy = replace(local_policy, total_timeout=0.8)
    result = await fetch_link(site.url("/drip"), policy=policy)

    assert result.status == LinkStatus.TIMEOUT
    assert result.final_url == site.url("/drip")
    assert result.reason is not None
    assert "within 0.8 seconds" in result.reason
    assert result.elapsed_ms < 2000


# --- SSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ("http://127.0.0.1:{port}/", "a loopback address (127.0.0.1)"),
        ("http://2130706433:{port}/", "a loopback address (127.0.0.1)"),
        ("http://0x7f.0.0.1:{port}/", "a loopback address (127.0.0.1)"),
        ("http://0177.0.0.1:{port}/", "a loopback address (127.0.0.1)"),
        ("http://[::1]:{port}/", "a loopback address (::1)"),
        ("http://[::ffff:127.0.0.1]:{port}/", "a loopback address (127.0.0.1)"),
        ("http://10.0.0.1/", "a private network address (10.0.0.1)"),
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata service address"),
        ("http://[fd00:ec2::254]/", "a cloud metadata service address"),
        ("http://0.0.0.0:{port}/", "an unspecified address (0.0.0.0)"),
    ],
)
async def test_literal_private_targets_are_refused_without_connecting(
    canary: Canary, strict_policy: LinkPolicy, resolver: Resolver, template: str, shown: str
) -> None:
    before = canary.accepted
    result = await fetch_link(template.format(port=canary.port), policy=strict_policy)

    assert result.status == LinkStatus.REFUSED
    assert result.reason is not None
    assert result.reason.startswith(f"The link points to {shown}")
    assert result.reason.endswith("only public web pages can be checked.")
    assert canary.accepted == before
    assert resolver.asked == []


async def test_the_canary_does_see_connections_that_are_allowed(
    canary: Canary, local_policy: LinkPolicy
) -> None:
    """Control for the test above: with loopback allowed the same URL reaches the listener."""
    before = canary.accepted
    result = await fetch_link(f"http://127.0.0.1:{canary.port}/", policy=local_policy)

    assert result.status == LinkStatus.UNREACHABLE  # the canary hangs up without answering
    assert canary.accepted > before


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("internal.test", "a private network address (192.168.1.5)"),
        ("mixed.test", "a private network address (10.1.2.3)"),
        ("project.test", "a loopback address (127.0.0.1)"),  # loopback refused without the flag
    ],
)
async def test_host_names_resolving_to_private_addresses_are_refused(
    canary: Canary, strict_policy: LinkPolicy, resolver: Resolver, host: str, shown: str
) -> None:
    before = canary.accepted
    result = await fetch_link(f"http://{host}:{canary.port}/", policy=strict_policy)

    assert result.status == LinkStatus.REFUSED
    assert result.reason == (
        f"The address {host} resolves to {shown}; only public web pages can be checked."
    )
    assert resolver.asked == [host]
    assert canary.accepted == before


async def test_loopback_permission_does_not_open_private_names(local_policy: LinkPolicy) -> None:
    result = await fetch_link("http://internal.test/", policy=local_policy)

    assert result.status == LinkStatus.REFUSED


async def test_an_unknown_host_is_unreachable(strict_policy: LinkPolicy) -> None:
    result = await fetch_link("https://nowhere.test/", policy=strict_policy)

    assert result.status == LinkStatus.UNREACHABLE
    assert result.reason == (
        "The host name nowhere.test could not be found; check the spelling of the address."
    )


async def test_urls_with_credentials_or_other_schemes_are_refused(
    strict_policy: LinkPolicy, resolver: Resolver
) -> None:
    with_credentials = await fetch_link("http://user:pw@project.test/", policy=strict_policy)
    ftp = await fetch_link("ftp://project.test/file", policy=strict_policy)

    assert with_credentials.status == ftp.status == LinkStatus.REFUSED
    assert with_credentials.reason == "Links must not contain a user name or password."
    assert ftp.reason == "Only http:// and https:// links are accepted."
    assert resolver.asked == []


async def test_only_guarded_clients_are_accepted(local_policy: LinkPolicy) -> None:
    async with httpx2.AsyncClient() as plain:
        with pytest.raises(ValueError, match="guarded_client"):
            await fetch_link("http://project.test/", policy=local_policy, client=plain)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("172.16.5.4", "a private network address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("240.0.0.1", "a reserved, non-public address"),
        ("fc00::5", "a private network address"),
        ("::ffff:10.0.0.1", "a private network address"),
        ("2002:7f00:1::", "a loopback address embedded in an IPv6 address"),
        ("2002:c0a8:105::", "a private network address embedded in an IPv6 address"),
        ("64:ff9b::a00:1", "a private network address embedded in an IPv6 address"),
        ("::7f00:1", "a loopback address embedded in an IPv6 address"),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
        ("2002:808:808::", None),
    ],
)
def test_address_classification(address: str, problem: str | None) -> None:
    assert address_problem(ipaddress.ip_address(address)) == problem


# --- URL validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  HTTPS://GitHub.com/Team/Repo  ", "https://github.com/Team/Repo"),
        ("http://example.org:80", "http://example.org/"),
        ("https://example.org:8443/a?b=1#c", "https://example.org:8443/a?b=1#c"),
        ("http://0x7f.0.0.1/x", "http://127.0.0.1/x"),
        ("http://[::1]:8000/", "http://[::1]:8000/"),
        ("https://bücher.example/", "https://bücher.example/"),
    ],
)
def test_submission_urls_are_normalised(raw: str, normalised: str) -> None:
    assert validate_submission_url(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "The link is empty."),
        ("javascript:alert(1)", "Only http:// and https:// links are accepted."),
        ("ftp://example.org/", "Only http:// and https:// links are accepted."),
        ("https://user:secret@example.org/", "Links must not contain a user name or password."),
        ("https://example.org/a b", "The link contains spaces or control characters"),
        ("https://example.org/\x00", "The link contains spaces or control characters"),
        ("https:///path", "The link has no host name."),
        ("https://exa$mple.org/", "is not a valid host name"),
        ("https://example.org:99999/", "The link is not a valid web address"),
        ("https://example.org/" + "a" * 2000, "The link is longer than 2000 characters."),
    ],
)
def test_unfit_submission_urls_are_rejected(raw: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        validate_submission_url(raw)
    assert message in str(caught.value)


# --- code hosts ------------------------------------------------------------------------------

GITHUB_HTML = """<html><head><title>GitHub - solar/sprout: Garden sensor</title>
<meta property="og:description" content="Waters plants when the sun is out. Contribute to
solar/sprout development by creating an account on GitHub.">
</head><body>
<a href="/solar/sprout/stargazers"><span id="repo-stars-counter-star" title="1,234">1.2k</span></a>
<h2>Languages</h2><ul><li><a href="/solar/sprout/search?l=rust">
<span class="color-fg-default text-bold mr-1">Rust</span><span>81.3%</span></a></li>
<li><a href="/solar/sprout/search?l=python"><span class="text-bold">Python</span></a></li></ul>
</body></html>"""


def test_github_page_facts_are_parsed() -> None:
    facts = parse_repository("https://github.com/solar/sprout/tree/main", GITHUB_HTML)

    assert facts is not None
    assert (facts.host, facts.owner, facts.name) == ("github.com", "solar", "sprout")
    assert facts.description == "Waters plants when the sun is out."
    assert (facts.language, facts.stars) == ("Rust", 1234)


def test_gitlab_and_bitbucket_urls_are_recognised() -> None:
    gitlab_html = (
        '<meta name="description" content="Firmware"><span itemprop="programmingLanguage">C'
        '</span><a href="/g/sub/fw/-/starrers" class="star-count">17</a>'
    )
    gitlab = parse_repository("https://gitlab.com/g/sub/fw/-/blob/main/README.md", gitlab_html)
    bitbucket = parse_repository("https://bitbucket.org/team/app.git")

    assert gitlab is not None
    assert (gitlab.owner, gitlab.name, gitlab.description) == ("g/sub", "fw", "Firmware")
    assert (gitlab.language, gitlab.stars) == ("C", 17)
    assert bitbucket is not None
    assert (bitbucket.owner, bitbucket.name) == ("team", "app")
    assert bitbucket.stars is None


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/features/actions",
        "https://github.com/solar",
        "https://example.org/solar/sprout",
        "https://gitlab.com/explore/projects",
    ],
)
def test_other_pages_are_not_repositories(url: str) -> None:
    assert parse_repository(url, GITHUB_HTML) is None


def test_unparseable_counts_leave_stars_empty() -> None:
    html = '<span id="repo-stars-counter-star" title="lots">many</span>'
    facts = parse_repository("https://github.com/a/b", html)

    assert facts is not None
    assert facts.stars is None
    assert facts.description is None


def test_broken_markup_still_yields_what_can_be_read() -> None:
    html = (
        "<html><head><base href='http://[zz'><title>Odd</title>"
        "<meta name=description></head><body><a href='http://[::1'>bad</a>"
        "<a href='/fine'>fine</a>\x00\udcff</body></html>"
    )
    page = extract_page(html, url="https://example.org/x/")

    assert page.title == "Odd"
    assert page.description is None
    assert page.links == ["https://example.org/fine"]


def test_declared_and_sniffed_charsets_decode_the_page() -> None:
    latin = "<title>Café</title>".encode("latin-1")
    sniffed = b'<meta charset="windows-1252"><title>Caf\xe9</title>'

    assert decode_html(latin, "iso-8859-1") == "<title>Café</title>"
    assert "Café" in decode_html(sniffed)
    assert "Caf\ufffd" in decode_html(latin, "no-such-charset")
