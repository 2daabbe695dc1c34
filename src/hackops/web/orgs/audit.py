"""An organization's audit log page: who did what, filtered by person, action, kind of
resource and time, newest first, a page at a time (the API's `audit.service.list_entries`).

Who may: the organization's organizers and up (`OrgOrganizerPageDep`); members get 403.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from hackops.audit.service import list_entries
from hackops.db import SessionDep
from hackops.errors import AppError
from hackops.models import AuditEntry, OrgRole, User
from hackops.orgs import service
from hackops.web import kit
from hackops.web.deps import OrgOrganizerPageDep, page_router

router = page_router()

AUDIT_PAGE_SIZE = 50
AUDIT_ACTIONS = (
    "organization.created",
    "organization.updated",
    "organization.plan_changed",
    "membership.role_changed",
    "membership.removed",
    "membership.left",
    "invitation.created",
    "invitation.revoked",
    "invitation.accepted",
    "webhook_endpoint.created",
    "webhook_endpoint.updated",
    "webhook_endpoint.enabled",
    "webhook_endpoint.disabled",
    "webhook_endpoint.disabled_automatically",
    "webhook_endpoint.secret_rotated",
    "webhook_endpoint.test_sent",
    "webhook_endpoint.deleted",
    "webhook_delivery.redelivered",
)
AUDIT_RESOURCE_TYPES = ("organization", "membership", "invitation", "webhook_endpoint")


# --- the audit log ---------------------------------------------------------------------------


def _moment(value: str) -> datetime:
    """A datetime-local value (or any ISO 8601 time); without an offset it is UTC."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/orgs/{slug}/audit", name="organization_audit")
async def organization_audit(
    request: Request,
    session: SessionDep,
    access: OrgOrganizerPageDep,
    actor_id: Annotated[str, Query(alias="actor", max_length=64)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    resource_type: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[str, Query(max_length=40)] = "",
    until: Annotated[str, Query(max_length=40)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    filters = {
        "actor": actor_id.strip(),
        "action": action.strip(),
        "resource_type": resource_type.strip(),
        "since": since.strip(),
        "until": until.strip(),
    }
    form = kit.Form(values=filters)
    parsed: dict[str, Any] = {}
    try:
        parsed["actor_id"] = uuid.UUID(filters["actor"]) if filters["actor"] else None
    except ValueError:
        form.errors["actor"] = "Choose someone from the list."
    for key in ("since", "until"):
        try:
            parsed[key] = _moment(filters[key]) if filters[key] else None
        except ValueError:
            form.errors[key] = "A date and time like 2026-11-23T07:30."
    entries: list[AuditEntry] = []
    next_cursor: str | None = None
    status_code = 200
    if form.errors:
        status_code = 422
    else:
        try:
            entries, next_cursor = await list_entries(
                session,
                org_id=access.org.id,
                action=filters["action"] or None,
                resource_type=filters["resource_type"] or None,
                cursor=cursor or None,
                limit=AUDIT_PAGE_SIZE,
                **parsed,
            )
        except AppError as exc:
            status_code = kit.refuse(form, exc)
    members = await service.list_members(session, access.org)
    people = {user.id: user.name or user.email for _, user in members}
    unknown = {e.actor_id for e in entries if e.actor_id is not None} - people.keys()
    if unknown:
        rows = await session.execute(
            select(User.id, User.name, User.email).where(User.id.in_(unknown))
        )
        people.update({row.id: row.name or row.email for row in rows})
    active = {k: v for k, v in filters.items() if v}
    context = {
        "org": access.org,
        "role": access.role,
        "is_admin": service.rank(access.role) >= service.rank(OrgRole.ADMIN),
        "can_audit": True,
        "tab": "audit",
        "form": form,
        "entries": entries,
        "people": people,
        "members": [(user.id, user.name or user.email) for _, user in members],
        "actions": AUDIT_ACTIONS,
        "resource_types": AUDIT_RESOURCE_TYPES,
        "details": {e.id: json.dumps(e.details, ensure_ascii=False) for e in entries},
        "older_url": (f"?{urlencode({**active, 'cursor': next_cursor})}" if next_cursor else None),
        "newest_url": f"?{urlencode(active)}" if cursor else None,
        "filtered": bool(active),
    }
    return kit.render(request, "orgs/audit.html", context, status_code=status_code)
