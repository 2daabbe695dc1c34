"""/metrics: served to the allowed addresses or with the token; right with several processes."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest

from hackops.cli.processes import usable_cpus
from hackops.config import Settings
from hackops.main import create_app
from tests.conftest import _free_port, make_settings
from tests.health.cluster import inherited_env

TOKEN = "metrics-" + "t" * 32


@asynccontextmanager
async def client_from(app: object, address: str) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_metrics_are_served_to_allowed_addresses_or_with_the_token(
    database_url: str, storage_dir: Path
) -> None:
    settings = make_settings(database_url, storage_dir, metrics_token=TOKEN)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with client_from(app, "203.0.113.7") as stranger:
            refused = await stranger.get("/metrics")
            wrong = await stranger.get("/metrics", headers={"Authorization": "Bearer nope"})
            with_token = await stranger.get(
                "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
            )
        async with client_from(app, "::1") as local_v6:
            local = await local_v6.get("/metrics")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "metrics_forbidden"
    assert "hackops_" not in refused.text
    assert wrong.status_code == 403
    assert with_token.status_code == 200
    assert "hackops_http_requests_total" in with_token.text
    assert local.status_code == 200


async def test_an_empty_allow_list_needs_the_token_even_from_this_machine(
    database_url: str, storage_dir: Path
) -> None:
    settings = make_settings(database_url, storage_dir, metrics_allow_from="")
    app = create_app(settings)
    async with app.router.lifespan_context(app), client_from(app, "127.0.0.1") as http:
        assert (await http.get("/metrics")).status_code == 403


REQUESTS = re.compile(r"^hackops_http_requests_total\{(.*)\} (\S+)$", re.MULTILINE)


def requests_counted(exposition: str) -> float:
    """Requests counted, of every route but /metrics (the scrapes themselves)."""
    return sum(
        float(value) for labels, value in REQUESTS.findall(exposition) if '"/metrics"' not in labels
    )


PRODUCTION_DEFAULT = "production default"


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["2", PRODUCTION_DEFAULT])
async def test_counters_of_several_web_processes_add_up(
    settings: Settings, tmp_path: Path, workers: str
) -> None:
    """`serve --workers 2`, and `serve` in production without `--workers` (one process per
    usable core: cli/processes.py): every scrape counts every process's requests once."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    if workers == PRODUCTION_DEFAULT:
        expected = usable_cpus()
        if expected < 2:
            pytest.skip("one usable core: the production default is one process")
        options: tuple[str, ...] = ()
        mode = {"HACKOPS_ENV": "prod", "BASE_URL": base}
    else:
        expected, options, mode = int(workers), ("--workers", workers), {"HACKOPS_ENV": "test"}
    env = {
        **mode,
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "DATABASE_URL": str(settings.database_url),
        "DATABASE_POOL_SIZE": "2",
        "DATABASE_READ_POOL_SIZE": "0",
        "DATA_DIR": str(tmp_path),
        "STORAGE_URL": f"file://{tmp_path / 'files'}",
        "LOG_LEVEL": "WARNING",
        "LOG_JSON": "false",
    }
    stale = tmp_path / "prometheus"
    stale.mkdir()
    (stale / "counter_1.db").write_bytes(b"left by an earlier run")
    environ = {"PATH": "/usr/bin:/bin", **inherited_env(), **env}
    environ.pop("WEB_CONCURRENCY", None)
    server = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "hackops", "serve", *options, "--no-migrate"),
        *("--port", str(port)),
        env=environ,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    sent = 0
    try:
        async with httpx2.AsyncClient(base_url=base, timeout=10) as http:
            for _ in range(300):  # every process started (each made its pool gauge file)
                if len(list(stale.glob("gauge_livesum_*.db"))) == expected:
                    break
                await asyncio.sleep(0.2)
            for _ in range(50):  # and listen
                try:
                    if (await http.get("/health")).status_code == 200:
                        sent += 1
                        break
                except httpx2.TransportError:
                    await asyncio.sleep(0.2)
            assert sent == 1, "the server did not start"

            async def one(path: str) -> int:
                # A new connection per request, so either process may take it.
                response = await http.get(path, headers={"Connection": "close"})
                assert response.status_code == 200
                return 1

            # The first OpenAPI document a process builds keeps its event loop busy for a
            # while: the requests sent meanwhile go to the other process.
            for _ in range(10):
                burst = [one("/openapi.json"), *(one("/health") for _ in range(10))]
                sent += sum(await asyncio.gather(*burst))
                if len(counting_processes(stale)) == expected:
                    break
            assert len(counting_processes(stale)) == expected, "every web process served"
            assert len(list(stale.glob("gauge_livesum_*.db"))) == expected
            scrapes = [(await http.get("/metrics")).text for _ in range(4)]
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)

    # Every scrape, whichever process answers it, counts every process's requests, once.
    assert [requests_counted(text) for text in scrapes] == [sent] * 4


def counting_processes(folder: Path) -> set[str]:
    return {path.stem.rsplit("_", 1)[1] for path in folder.glob("counter_*.db")}
