"""Mail links lead where the server answers: `hackops serve --port P` in dev mode, with no
BASE_URL set, writes `http://127.0.0.1:P/…` into its mail (it wrote port 8000 whatever the port,
issue 14); a BASE_URL that is set is kept."""

from __future__ import annotations

import asyncio
import secrets
import sys
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hackops.cli import served_url
from hackops.config import Settings
from tests.conftest import _free_port
from tests.health.cluster import inherited_env


def test_the_address_served_is_the_one_a_browser_here_uses() -> None:
    assert served_url("127.0.0.1", 8500) == "http://127.0.0.1:8500"
    assert served_url("0.0.0.0", 8500) == "http://127.0.0.1:8500"
    assert served_url("::", 9000) == "http://127.0.0.1:9000"
    assert served_url("::1", 9000) == "http://[::1]:9000"
    assert served_url("hack.example.org", 80) == "http://hack.example.org:80"


async def registration_mail(
    settings: Settings, admin_engine: AsyncEngine, tmp_path: Path, **extra: str
) -> tuple[int, str]:
    """Serve on a free port (dev mode, `extra` environment), register an address, and return
    the port and the verification mail's text."""
    port = _free_port()
    env = {
        "HACKOPS_ENV": "dev",
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "DATABASE_URL": str(settings.database_url),
        "DATABASE_READ_POOL_SIZE": "0",
        "DATA_DIR": str(tmp_path),
        "STORAGE_URL": f"file://{tmp_path / 'files'}",
        "LOG_LEVEL": "WARNING",
        "LOG_JSON": "false",
        **extra,
    }
    environment = {"PATH": "/usr/bin:/bin", **inherited_env(), **env}
    if "BASE_URL" not in extra:
        environment.pop("BASE_URL", None)  # as on a newcomer's machine
    server = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "hackops", "serve", "--no-migrate", "--no-worker"),
        *("--port", str(port)),
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    email = f"links-{secrets.token_hex(4)}@example.org"
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(150):
                try:
                    if (await http.get("/health")).status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                await asyncio.sleep(0.2)
            registered = await http.post(
                "/api/v1/auth/register",
                json={"email": email, "password": "a long enough password 2026", "name": "Lin"},
            )
            assert registered.status_code == 202, registered.text
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
    async with admin_engine.connect() as conn:
        body = await conn.scalar(
            text("SELECT body_text FROM outbound_emails WHERE to_address = :to"), {"to": email}
        )
    assert body is not None
    return port, body


@pytest.mark.slow
async def test_mail_links_follow_the_port_served_in_dev(
    settings: Settings, admin_engine: AsyncEngine, tmp_path: Path
) -> None:
    port, body = await registration_mail(settings, admin_engine, tmp_path)
    assert f"http://127.0.0.1:{port}/verify-email" in body
    assert ":8000/" not in body


@pytest.mark.slow
async def test_a_base_url_that_is_set_is_kept(
    settings: Settings, admin_engine: AsyncEngine, tmp_path: Path
) -> None:
    _, body = await registration_mail(
        settings, admin_engine, tmp_path, BASE_URL="https://hack.example.org"
    )
    assert "https://hack.example.org/verify-email" in body
