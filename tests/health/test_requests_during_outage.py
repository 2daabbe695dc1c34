"""A request in flight while the database restarts gets an answer: never a dropped connection."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from pathlib import Path

import httpx2
import pytest

from hackops.main import create_app
from tests.conftest import _free_port, make_settings
from tests.health.cluster import throwaway_cluster
from tests.helpers import uvicorn_in_thread

pytestmark = pytest.mark.slow

CLIENTS = 40


async def test_requests_in_flight_during_a_database_restart_get_a_response(
    storage_dir: Path,
) -> None:
    outcomes: Counter[str] = Counter()
    async with throwaway_cluster() as cluster:
        settings = make_settings(cluster.url, storage_dir, database_pool_size=10)
        with uvicorn_in_thread(create_app(settings), _free_port()) as base:
            stop = asyncio.Event()
            async with httpx2.AsyncClient(base_url=base, timeout=30) as http:
                email = f"writer-{secrets.token_hex(4)}@example.org"
                signed_up = await http.post(
                    "/api/v1/auth/register",
                    json={"email": email, "password": "a long passphrase 1"},
                )
                assert signed_up.status_code < 300, signed_up.text
                signed_in = await http.post(
                    "/api/v1/auth/token",
                    data={"username": email, "password": "a long passphrase 1"},
                )
                assert signed_in.status_code == 200, signed_in.text
                auth = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}

            async def client(n: int) -> None:
                async with httpx2.AsyncClient(base_url=base, timeout=30) as http:
                    for i in range(10_000):
                        if stop.is_set():
                            return
                        try:
                            if i % 4 == 0:
                                response = await http.get("/")
                            elif i % 4 == 1:
                                response = await http.get("/api/v1/me", headers=auth)
                            else:
                                response = await http.patch(
                                    "/api/v1/me", json={"name": f"Writer {n} {i}"}, headers=auth
                                )
                        except httpx2.TransportError as exc:
                            outcomes[f"dropped: {type(exc).__name__}"] += 1
                            continue
                        if response.status_code >= 500:
                            body = (
                                response.json()
                                if "json" in response.headers.get("content-type", "")
                                else {}
                            )
                            code = body.get("error", {}).get("code", "html")
                            outcomes[f"{response.status_code} {code}"] += 1
                        else:
                            outcomes[str(response.status_code)] += 1

            clients = [asyncio.create_task(client(n)) for n in range(CLIENTS)]
            await asyncio.sleep(2)
            await asyncio.to_thread(cluster.crash)
            await asyncio.sleep(3)
            await asyncio.to_thread(cluster.start)
            await asyncio.sleep(3)
            stop.set()
            await asyncio.gather(*clients)
    # Every request got an answer; the ones the outage hit say so (503, the error envelope under
    # /api, the error page elsewhere), none is a 500.
    assert {key for key in outcomes if not key.startswith("2")} <= {
        "503 database_unavailable",
        "503 html",
    }, dict(outcomes)
    assert outcomes["503 database_unavailable"] > 0, dict(outcomes)
