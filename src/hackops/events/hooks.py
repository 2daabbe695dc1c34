"""What editing an event tells the domains above it (`hackops.hooks`).

Sent by `service.update_event` in its transaction, after the edit and its audit record; handled
by `registrations.waitlist.capacity_changed` (connected in `hackops.wiring`), which gives the
seats a larger (or no) capacity frees to the waitlist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import ClassVar

from hackops.hooks import Hook


@dataclass(frozen=True)
class CapacityChanged:
    """An event's capacity was changed: raised, removed (no limit) or lowered (a lowered one
    frees no seat, so its follow-up finds nothing to do)."""

    name: ClassVar[str] = "events.capacity_changed"
    event_id: uuid.UUID


capacity_changed: Hook[CapacityChanged, None] = Hook(CapacityChanged)
