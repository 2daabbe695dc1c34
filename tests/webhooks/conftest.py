"""The webhooks tests' app settings: dev mode with loopback endpoints allowed, so endpoints can
be the test's own receiver on 127.0.0.1 (as tests/submissions do for the link checker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from hackops.config import Environment


@pytest.fixture
async def dev_client(app: Any, client: httpx2.AsyncClient) -> AsyncIterator[httpx2.AsyncClient]:
    """`client`, with the app in dev mode and WEBHOOK_ALLOW_LOOPBACK on for this test."""
    original = app.state.settings
    app.state.settings = original.model_copy(
        update={"hackops_env": Environment.DEV, "webhook_allow_loopback": True}
    )
    try:
        yield client
    finally:
        app.state.settings = original
