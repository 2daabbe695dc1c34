"""Request and response bodies of the public voting API."""

import uuid

from hackops.schemas import InputModel, OutputModel


class VoteIn(InputModel):
    # judging.pairwise has a VoteIn too, so the OpenAPI component name is module-qualified:
    # pinned to the module it was published under, so the document does not change.
    __module__ = "hackops.judging.voting"

    submission_id: uuid.UUID
    track_id: uuid.UUID | None = None


class VoteOut(OutputModel):
    id: uuid.UUID
    submission_id: uuid.UUID
    track_id: uuid.UUID | None
    flagged: bool


class VoteCount(OutputModel):
    track_id: str | None
    submission_id: str
    votes: int
    flagged: int | None
