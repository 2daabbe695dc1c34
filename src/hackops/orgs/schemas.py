from __future__ import annotations

import uuid
from datetime import datetime

from hackops.schemas import OutputModel


class OrganizationPublic(OutputModel):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime
