"""Stored responses of writes sent with an `Idempotency-Key` (see `hackops.idempotency`)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hackops.models.base import Base, EnumText, IdMixin


class IdempotencyState(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class IdempotencyKey(IdMixin, Base):
    """One key of one person: claimed while its first request runs, then its stored response.

    `claim` is the random id of the request that holds the key; only that request may complete
    or release it (a fence against a request that outlived its claim). Not tenant data (no
    `org_id`, no row-level security): only `hackops.idempotency` reads it, always by
    (user_id, key), like `auth_tokens`.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        CheckConstraint("state IN ('in_progress', 'completed')", name="state_valid"),
        CheckConstraint(
            "(state = 'completed') = (response_status IS NOT NULL)", name="completed_has_response"
        ),
        Index("uq_idempotency_keys_user_id_key", "user_id", "key", unique=True),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 (hex) of method, path with query and body: a retry must be the same request.
    fingerprint: Mapped[str] = mapped_column(String(64))
    request_method: Mapped[str] = mapped_column(String(10))
    request_path: Mapped[str] = mapped_column(Text)
    claim: Mapped[uuid.UUID]
    state: Mapped[IdempotencyState] = mapped_column(EnumText(IdempotencyState, 16))
    response_status: Mapped[int | None] = mapped_column(default=None)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # When the current claim was made: the 24 h window and the 60 s claim timeout start here.
    created_at: Mapped[datetime] = mapped_column(server_default=text("app_now()"), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
