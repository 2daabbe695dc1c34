"""Platform admins: the mail that has not gone out, and why (`GET /api/v1/admin/mail`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel

from hackops.accounts.deps import PlatformAdminDep
from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.mail import service
from hackops.routing import Router

admin = Router(prefix="/admin", tags=["platform admin"])


class UnsentMailPage(BaseModel):
    items: list[service.UnsentMail]


@admin.get(
    "/mail",
    response_model=UnsentMailPage,
    summary="Mail not sent yet, oldest first, with why its last attempt failed (platform admins)",
    description=(
        "`state`: `waiting` (for its first attempt or a retry at `next_attempt_at`), `sending`"
        " or `given_up` (a permanent refusal, or two days of failures). `last_error` says why"
        " the SMTP server did not take it, e.g. `connection refused by smtp.example:25`."
    ),
    responses=error_responses(401, 403, 422),
)
async def unsent_mail(
    session: SessionDep,
    admin_user: PlatformAdminDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> UnsentMailPage:
    rows = await service.list_unsent(session, limit=limit)
    return UnsentMailPage(items=rows)
