"""What the submissions domain asks the results domain (`hackops.hooks`, a lookup).

A submission's responses carry its standing once the event's results are published
(`router.submission_out`), which only the results domain can read; `results.service.standing_asked`
answers (connected in `hackops.wiring`). A lookup changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from hackops.hooks import Hook


@dataclass(frozen=True)
class StandingAsked:
    """Where a submission stands in its event's published results."""

    name: ClassVar[str] = "submissions.standing_asked"
    event_id: uuid.UUID
    submission_id: uuid.UUID


#: Answers the standing as `schemas.StandingOut` reads it (its breakdown only while the event
#: shows it), or None: results not published, or the submission has no place in them.
standing: Hook[StandingAsked, dict[str, Any] | None] = Hook(StandingAsked)
