"""The declarative base, its naming convention and the column mixins every model shares."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, Dialect, FetchedValue, MetaData, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator
from uuid_utils.compat import uuid7

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
    }


def new_id() -> uuid.UUID:
    """A time-ordered UUIDv7: index-friendly primary keys that reveal no counts."""
    return uuid7()


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


class TimestampMixin:
    """`created_at` and `updated_at` are set by the database clock (`app_now()`); a trigger
    (`set_updated_at`, added per table in its migration) keeps `updated_at`."""

    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"))
    updated_at: Mapped[datetime] = mapped_column(
        server_default=text("app_now()"), server_onupdate=FetchedValue()
    )


class SoftDeleteMixin:
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


E = TypeVar("E", bound=enum.StrEnum)


class EnumText(TypeDecorator[E]):
    """A `StrEnum` in a plain text column: Python sees the enum member, the database its value.

    The set of values is held by the table's CHECK constraint (`…_valid`), not by a PostgreSQL
    enum type, so adding a value is one constraint swap in a migration. Binding accepts a member
    or its string (queries compare either way) and does not validate: a value outside the set
    reaches the CHECK constraint, which reports it as every other constraint does."""

    impl = String
    cache_ok = True

    def __init__(self, enum_type: type[E], length: int) -> None:
        super().__init__(length)
        self.enum_type = enum_type

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_type(value)

    @property
    def python_type(self) -> type[E]:
        return self.enum_type
