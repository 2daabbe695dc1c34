"""The lean request path (issue 15, the framework floor): the middleware does less work per
request but says the same things — the access log line, request ids, metrics, security headers,
body limits and `url_for` — checked here with raw ASGI calls, no database needed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from starlette.responses import JSONResponse

from hackops.bodylimit import BodyLimitMiddleware
from hackops.browser import PAGE_CSP, BrowserStateMiddleware
from hackops.config import Settings
from hackops.observability import (
    ACCESS_LOGGER,
    HTTP_REQUESTS,
    RequestContextMiddleware,
    configure_logging,
)
from tests.conftest import make_settings


@contextmanager
def production_logs(level: str = "INFO") -> Iterator[None]:
    """Production logging (JSON lines) into the captured stderr, then the tests' own again.
    Configured inside the test: the logs are bound to the stderr of that moment."""
    configure_logging(level, json=True)
    try:
        yield
    finally:
        configure_logging("WARNING", json=False)


class _App:
    """What the error renderer reads from `scope["app"]` (no templates: the JSON envelope)."""

    class state:  # noqa: N801 - stands for Starlette's app.state
        templates = None


APP = _App()


def http_scope(path: str = "/probe", *, method: str = "GET", headers: Any = ()) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "app": APP,
    }


async def call(app: Any, scope: dict[str, Any], body: list[bytes] | None = None) -> list[Any]:
    """Run one request; the messages the app sent."""
    chunks = list(body or [b""])
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def ok(scope: Any, receive: Any, send: Any) -> None:
    await JSONResponse({"ok": True})(scope, receive, send)


async def test_the_access_line_is_what_structlog_writes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with production_logs():
        sent = await call(
            RequestContextMiddleware(ok),
            http_scope('/probe/ü"x', headers=[(b"x-request-id", b"trace-1")]),
        )
        assert dict(sent[0]["headers"])[b"x-request-id"] == b"trace-1"
        line = capsys.readouterr().err.strip()
        ours = json.loads(line)

        # The same event through the configured structlog chain (a fresh, uncached logger).
        structlog.contextvars.bind_contextvars(request_id="trace-1")
        try:
            structlog.get_logger(ACCESS_LOGGER).info(
                "request",
                method="GET",
                path='/probe/ü"x',
                route="<unmatched>",
                status=200,
                duration_ms=ours["duration_ms"],
            )
        finally:
            structlog.contextvars.clear_contextvars()
        reference = json.loads(capsys.readouterr().err.strip())
    assert list(ours) == list(reference)  # same fields in the same order
    assert {k: v for k, v in ours.items() if k != "timestamp"} == {
        k: v for k, v in reference.items() if k != "timestamp"
    }
    assert ours["timestamp"].endswith("Z")
    assert "\\u00fc" in line  # ASCII, as json.dumps writes it


async def test_values_bound_during_the_request_reach_the_access_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def binds(scope: Any, receive: Any, send: Any) -> None:
        structlog.contextvars.bind_contextvars(user_id="u-1")
        await ok(scope, receive, send)

    with production_logs():
        await call(RequestContextMiddleware(binds), http_scope())
        line = json.loads(capsys.readouterr().err.strip())
    assert line["user_id"] == "u-1"
    assert len(line["request_id"]) == 32
    assert line["event"] == "request"
    assert line["status"] == 200


async def test_no_access_line_above_info(capsys: pytest.CaptureFixture[str]) -> None:
    with production_logs("WARNING"):
        await call(RequestContextMiddleware(ok), http_scope())
        assert capsys.readouterr().err == ""


async def test_metrics_count_each_request_once() -> None:
    before = HTTP_REQUESTS.labels("GET", "<unmatched>", "200")._value.get()
    for _ in range(3):
        await call(RequestContextMiddleware(ok), http_scope())
    after = HTTP_REQUESTS.labels("GET", "<unmatched>", "200")._value.get()
    assert after - before == 3


def browser_settings(tmp_path: Any, **overrides: Any) -> Settings:
    return make_settings("postgresql://nobody@127.0.0.1:1/none", tmp_path, **overrides)


async def test_security_headers_unless_the_response_set_its_own(tmp_path: Any) -> None:
    async def framed(scope: Any, receive: Any, send: Any) -> None:
        await JSONResponse({}, headers={"X-Frame-Options": "SAMEORIGIN"})(scope, receive, send)

    settings = browser_settings(tmp_path)
    plain = dict((await call(BrowserStateMiddleware(ok, settings), http_scope()))[0]["headers"])
    assert plain[b"content-security-policy"] == PAGE_CSP.encode()
    assert plain[b"x-frame-options"] == b"DENY"
    own = (await call(BrowserStateMiddleware(framed, settings), http_scope()))[0]["headers"]
    assert [v for k, v in own if k == b"x-frame-options"] == [b"SAMEORIGIN"]
    assert b"content-security-policy" in dict(own)


async def test_a_reused_response_object_gains_no_headers(tmp_path: Any) -> None:
    """A response kept and sent again (a cache) is never changed by the middleware."""
    kept = JSONResponse({"cached": True})
    headers_before = list(kept.raw_headers)

    async def cached(scope: Any, receive: Any, send: Any) -> None:
        scope.setdefault("state", {})["set_csrf_cookie"] = "token"
        await kept(scope, receive, send)

    app = RequestContextMiddleware(BrowserStateMiddleware(cached, browser_settings(tmp_path)))
    for _ in range(2):
        sent = await call(app, http_scope())
        assert len([k for k, _ in sent[0]["headers"] if k == b"set-cookie"]) == 1
        assert len([k for k, _ in sent[0]["headers"] if k == b"x-request-id"]) == 1
    assert kept.raw_headers == headers_before


def limited(app: Any) -> BodyLimitMiddleware:
    return BodyLimitMiddleware(app, max_body_bytes=10, timeout_seconds=5)


async def read_all(scope: Any, receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body"):
            break
    await ok(scope, receive, send)


async def test_a_get_with_a_chunked_body_is_still_counted() -> None:
    """Only a request that says no body follows skips the counting."""
    chunked = http_scope(headers=[(b"transfer-encoding", b"chunked")])
    sent = await call(limited(read_all), chunked, [b"x" * 8, b"x" * 8])
    assert sent[0]["status"] == 413
    bodiless = await call(limited(read_all), http_scope(), [b""])
    assert bodiless[0]["status"] == 200
    declared = http_scope(headers=[(b"content-length", b"11")])
    assert (await call(limited(read_all), declared, [b"x" * 11]))[0]["status"] == 413
