"""Request bodies are capped before anything parses them (bodylimit.py), through the real app:
a declared length over the limit is refused unread, a chunked body is cut at the limit, upload
routes take more (up to the event's own limit), and the CSRF check reads no body it refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.submissions.filehelpers import png_bytes
from tests.submissions.test_api import scene

MiB = 1024 * 1024
CHUNK = 64 * 1024


@dataclass
class Tap:
    """A request body that counts how much of it the server pulled."""

    total: int
    pulled: int = 0

    async def stream(self) -> AsyncIterator[bytes]:
        sent = 0
        while sent < self.total:
            size = min(CHUNK, self.total - sent)
            self.pulled += size
            sent += size
            yield b"{" + b" " * (size - 1) if sent == size else b" " * size


def envelope(response: httpx2.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]  # type: ignore[no-any-return]


async def test_a_declared_length_over_the_limit_is_refused_without_reading(
    client: httpx2.AsyncClient,
) -> None:
    tap = Tap(total=500 * MiB)
    response = await client.post(
        "/api/v1/auth/register",
        content=tap.stream(),
        headers={"content-type": "application/json", "content-length": str(tap.total)},
    )
    assert response.status_code == 413
    error = envelope(response)
    assert error["code"] == "payload_too_large"
    assert error["details"] == {"max_bytes": MiB}
    assert tap.pulled == 0


async def test_a_chunked_body_is_cut_at_the_limit(client: httpx2.AsyncClient) -> None:
    tap = Tap(total=50 * MiB)
    response = await client.post(
        "/api/v1/auth/register",
        content=tap.stream(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert envelope(response)["code"] == "payload_too_large"
    assert tap.pulled <= MiB + CHUNK


async def test_a_body_under_the_limit_still_reaches_the_route(client: httpx2.AsyncClient) -> None:
    padded = b'{"email": "x", "password": "y"' + b" " * (MiB - 100) + b"}"
    response = await client.post(
        "/api/v1/auth/register", content=padded, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422  # parsed and validated: not cut


async def test_pages_get_the_error_page(client: httpx2.AsyncClient) -> None:
    tap = Tap(total=3 * MiB)
    response = await client.post(
        "/login",
        content=tap.stream(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "content-length": str(tap.total),
        },
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "larger than the 1 MiB" in response.text
    assert tap.pulled == 0


async def test_uploads_may_exceed_the_json_limit_up_to_the_events_own(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    s, _team, url = await scene(session, file_max_bytes=3 * MiB)
    big = png_bytes() + b"\x00" * (2 * MiB)
    accepted = await client.post(
        url + "/files", params={"name": "big.png"}, headers=s.auth("alice"), content=big
    )
    assert accepted.status_code == 201, accepted.text
    tap = Tap(total=4 * MiB)
    refused = await client.post(
        url + "/files", params={"name": "huge.png"}, headers=s.auth("alice"), content=tap.stream()
    )
    assert (refused.status_code, envelope(refused)["code"]) == (413, "file_too_large")
    assert tap.pulled <= 3 * MiB + CHUNK


async def test_the_csrf_check_reads_no_body_it_refuses(client: httpx2.AsyncClient) -> None:
    """Same origin, but no CSRF cookie: refused from the headers, the multipart body unread."""
    tap = Tap(total=MiB // 2)
    response = await client.post(
        "/logout",
        content=tap.stream(),
        headers={
            "content-type": "multipart/form-data; boundary=xyz",
            "origin": "http://testserver",
        },
    )
    assert response.status_code == 403
    assert tap.pulled == 0
