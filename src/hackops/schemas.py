"""Base classes for request and response models shared by every domain."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """Every request body: unknown fields are rejected, surrounding whitespace is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputModel(BaseModel):
    """Every response body: built from ORM objects."""

    model_config = ConfigDict(from_attributes=True)
