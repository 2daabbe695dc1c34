"""Fixtures of the bus tests: the broker names of one test (removed afterwards), a relay's
settings, the test database with an empty outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hackops.bus.topology import Names
from hackops.config import Settings
from hackops.db import Database
from tests.bus.helpers import bus_settings, clear_outbox, remove_names, unique_names


@pytest.fixture
async def names() -> AsyncIterator[Names]:
    chosen = unique_names()
    try:
        yield chosen
    finally:
        await remove_names(chosen)


@pytest.fixture
def relay_settings(settings: Settings, names: Names) -> Settings:
    return bus_settings(settings, names)


@pytest.fixture
async def db(committed_db: Database) -> Database:
    """Committed transactions on the test database, starting from an empty outbox."""
    await clear_outbox(committed_db)
    return committed_db
