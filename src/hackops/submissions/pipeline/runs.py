"""What a pipeline step's run is given and gives back, shared by the runner (`tasks.py`) and the
steps (`steps.py`, `duplicates.py`).

- `StepInput`: what the claim transaction read (plain values, no session), with the run token.
- `StepEnv`: settings and the object store, for the work done outside any transaction.
- The work returns a `Record`, which the runner calls inside the step's record transaction; it
  writes the effect idempotently and returns the summary stored in `pipeline_steps.result`.
- `StepFailed` is retried with backoff; `PermanentStepFailure` fails the step at once. Their
  `reason` is shown to the team and the organizers.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hackops.config import Settings

#: The snapshot fields holding links, in the order they are checked and reported.
LINK_FIELDS = ("repository_url", "demo_url", "video_url")
#: Link pages whose text describes the project (a video page's text is the video host's).
TEXT_LINK_FIELDS = ("repository_url", "demo_url")


class StepFailed(Exception):
    """The step did not complete; it is retried with backoff. `reason` is shown to people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentStepFailure(StepFailed):
    """Trying again cannot help (the stored bytes changed): the step fails at once."""


@dataclass(frozen=True, slots=True)
class StepInput:
    """What a claimed step works on, read in the claim transaction (plain values, no session).

    `token` is the step's `attempts` after the claim: the run may record its effect only while
    the row still shows this run (state running, same attempts), so a superseded run (a rerun,
    a stalled job taken over) changes nothing.
    """

    step_id: uuid.UUID
    step: str
    token: int
    org_id: uuid.UUID
    event_id: uuid.UUID
    submission_id: uuid.UUID
    team_id: uuid.UUID
    version_id: uuid.UUID
    version_number: int
    snapshot: dict[str, Any]
    files: list[dict[str, Any]]

    @property
    def title(self) -> str:
        return str(self.snapshot.get("title") or "your project")

    def link_urls(self, fields: tuple[str, ...] = LINK_FIELDS) -> list[str]:
        """The submitted URLs of `fields`, without blanks or repeats, in field order."""
        urls: list[str] = []
        for name in fields:
            value = self.snapshot.get(name)
            if isinstance(value, str) and value.strip() and value.strip() not in urls:
                urls.append(value.strip())
        return urls


@dataclass(frozen=True, slots=True)
class StepEnv:
    settings: Settings
    store: Any  # an obstore ObjectStore


Record = Callable[[AsyncSession], Awaitable[dict[str, Any]]]
StepWork = Callable[[StepEnv, StepInput], Awaitable[Record]]
