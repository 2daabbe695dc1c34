"""Every model has a factory, and every factory makes a row the database accepts."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hackops.models import Base
from tests.factories import MODEL_FACTORIES

MODELS = sorted((mapper.class_ for mapper in Base.registry.mappers), key=lambda m: m.__name__)


def test_every_model_has_a_factory() -> None:
    missing = [model.__name__ for model in MODELS if model not in MODEL_FACTORIES]
    assert missing == []
    assert len(MODEL_FACTORIES) == len(MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
async def test_the_factory_makes_a_row_the_database_accepts(
    session: AsyncSession, model: type[Any]
) -> None:
    factory = MODEL_FACTORIES[model]
    rows = [await factory(session), await factory(session)]  # twice: the defaults never collide
    # Deferred constraints are checked now, not at a commit the test never makes.
    await session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    await session.execute(text("SELECT set_config('hackops.platform_admin', 'on', true)"))
    mapper = inspect(model)
    for row in rows:
        assert isinstance(row, model)
        key = mapper.primary_key_from_instance(row)
        condition = [column == value for column, value in zip(mapper.primary_key, key, strict=True)]
        found = await session.scalar(
            select(text("1")).select_from(mapper.local_table).where(*condition)
        )
        assert found == 1, (model.__name__, key)
