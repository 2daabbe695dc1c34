"""What cancelling a registration tells the domains above it (`hackops.hooks`).

Sent by `service._free` (a participant cancels, an organizer removes) in its transaction, under
the event lock, after the registration row was updated and audited and before the freed seat
goes to the waitlist; handled by `teams.release.registration_cancelled` (connected in
`hackops.wiring`), which takes the person out of their team. Lock order: event row, registration
row, then team row, the order of every team change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from hackops.hooks import Hook


@dataclass(frozen=True)
class RegistrationCancelled:
    """A person's registration for an event was cancelled (by them) or removed (by an
    organizer) at `at`, the transaction's database time."""

    name: ClassVar[str] = "registrations.registration_cancelled"
    event_id: uuid.UUID
    user_id: uuid.UUID
    at: datetime


registration_cancelled: Hook[RegistrationCancelled, None] = Hook(RegistrationCancelled)
