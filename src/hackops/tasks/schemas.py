"""Task board request and response models (team boards and personal lists share them)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from hackops.models import TaskPriority, TaskStatus
from hackops.schemas import InputModel, OutputModel

Title = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=2000)]

#: The hard maximum of a list page.
MAX_PAGE = 200


class TaskSort(enum.StrEnum):
    POSITION = "position"
    CREATED = "created"
    DUE = "due"
    PRIORITY = "priority"
    TITLE = "title"


class SortOrder(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


class TaskIn(InputModel):
    title: Title
    description: Description = ""
    priority: TaskPriority = TaskPriority.MEDIUM
    status: TaskStatus = TaskStatus.TODO
    assignee_id: uuid.UUID | None = None
    due_date: date | None = None


class TaskUpdate(InputModel):
    """Only the fields sent change; `assignee_id` and `due_date` may be null (cleared)."""

    title: Title | None = None
    description: Description | None = None
    priority: TaskPriority | None = None
    status: TaskStatus | None = None
    assignee_id: uuid.UUID | None = None
    due_date: date | None = None

    @field_validator("title", "description", "priority", "status", mode="before")
    @classmethod
    def not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out but not null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (what the service applies)."""
        return self.model_dump(exclude_unset=True)


class TaskMove(InputModel):
    """`{"before": id}` puts the task just before that one; `{"before": null}` (or `{}`) at the
    end; `{"direction": "up"|"down"}` swaps it with its neighbour of the same status (column)."""

    before: uuid.UUID | None = None
    direction: Literal["up", "down"] | None = None

    @model_validator(mode="after")
    def one_target(self) -> TaskMove:
        if self.direction is not None and "before" in self.model_fields_set:
            raise ValueError("give either before or direction, not both")
        return self


class TaskOut(OutputModel):
    id: uuid.UUID
    team_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    title: str
    description: str
    status: TaskStatus
    priority: TaskPriority
    assignee_id: uuid.UUID | None
    due_date: date | None
    position: int
    created_by_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class TaskPage(OutputModel):
    items: list[TaskOut]
    total: int
    limit: int
    offset: int
