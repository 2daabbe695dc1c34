"""Request and response bodies of the judges' flags API."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from hackops.judging.flags.service import NOTE_MAX, FlagRow
from hackops.models import FlagReason
from hackops.schemas import InputModel, OutputModel


class FlagIn(InputModel):
    reason: FlagReason
    # Required for code_of_conduct and other (the service says so: 422 flag_note_required).
    note: Annotated[str, Field(max_length=NOTE_MAX)] = ""


class ResolveIn(InputModel):
    resolution: Annotated[str, Field(min_length=1, max_length=NOTE_MAX)]


class FlagOut(OutputModel):
    """A flag as the judge who raised it sees it (with the organizers' resolution note)."""

    # submissions.schemas has a FlagOut too, so the OpenAPI component name is module-qualified:
    # pinned to the module it was published under, so the document does not change.
    __module__ = "hackops.judging.flags_schemas"

    id: uuid.UUID
    submission_id: uuid.UUID
    reason: FlagReason
    note: str
    status: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str


class OrganizerFlagOut(FlagOut):
    """A flag as organizers see it: the project, its team, the judge, who resolved it."""

    submission_title: str
    team_id: uuid.UUID
    team_name: str
    judge_id: uuid.UUID
    judge_name: str
    resolved_by: uuid.UUID | None
    resolved_by_name: str | None

    @classmethod
    def of(cls, row: FlagRow) -> "OrganizerFlagOut":
        flag = row.flag
        return cls(
            **FlagOut.model_validate(flag).model_dump(),
            submission_title=row.submission_title,
            team_id=row.team_id,
            team_name=row.team_name,
            judge_id=flag.judge_id,
            judge_name=row.judge_name,
            resolved_by=flag.resolved_by,
            resolved_by_name=row.resolver_name,
        )
