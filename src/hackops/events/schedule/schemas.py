"""Request and response models of an event's schedule (agenda).

Every message a person can meet is written for them: a start and an end are whole moments with
a zone ("2026-12-12T09:00:00+01:00") and a link is a web address starting with http:// or
https://. That an end comes after its start is the service's check (`check_times`), as an
update may send only one of the two.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, field_validator

from hackops.events.schemas import Moment
from hackops.models import ScheduleKind
from hackops.schemas import InputModel, OutputModel

MAX_URL = 2000
KIND_HINT = "Choose one of: talk, workshop, meal, deadline, other."


def _web_address(value: str) -> str:
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("must be a web address starting with http:// or https://")
    if any(c.isspace() for c in value):
        raise ValueError("must be a web address without spaces")
    return value


def _kind(value: Any) -> Any:
    if isinstance(value, str) and value not in ScheduleKind.__members__.values():
        raise ValueError(KIND_HINT)
    return value


Title = Annotated[str, Field(min_length=1, max_length=200)]
Place = Annotated[str, Field(max_length=300)]
Url = Annotated[str, Field(max_length=MAX_URL), AfterValidator(_web_address)]
Description = Annotated[str, Field(max_length=2000)]
Kind = Annotated[ScheduleKind, BeforeValidator(_kind)]


class ScheduleItemIn(InputModel):
    title: Title
    kind: Kind = ScheduleKind.OTHER
    starts_at: Moment
    ends_at: Moment | None = None
    place: Place = ""
    url: Url = ""
    description: Description = ""

    def values(self) -> dict[str, Any]:
        """The item's fields as the model stores them."""
        return self.model_dump()


class ScheduleItemUpdate(InputModel):
    """Only the fields sent change; `ends_at: null` clears the end."""

    title: Title | None = None
    kind: Kind | None = None
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    place: Place | None = None
    url: Url | None = None
    description: Description | None = None

    @field_validator("title", "kind", "starts_at", "place", "url", "description")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out but not null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as the model stores them."""
        return self.model_dump(exclude_unset=True)


class ScheduleEntryOut(OutputModel):
    """One entry of the agenda: a stored item (`id` set, `window` null), or one of the event's
    own dates (`derived`: true, `id` null, `window` the event's field, e.g.
    `submissions_close_at`), which change on the event's settings, not here."""

    id: uuid.UUID | None
    key: str
    title: str
    kind: ScheduleKind
    starts_at: datetime
    ends_at: datetime | None
    place: str
    url: str
    description: str
    derived: bool
    window: str | None


class ScheduleItemOut(OutputModel):
    id: uuid.UUID
    title: str
    kind: ScheduleKind
    starts_at: datetime
    ends_at: datetime | None
    place: str
    url: str
    description: str
    created_at: datetime
    updated_at: datetime
