"""Judges' flags API: a judge flags a project of their queue to the organizers and reads their
own flags of it (or withdraws one); organizers list the event's flags and resolve them.

Who may: the judge routes go through `flags.flag_submission` / `my_flags` / `withdraw`
(`require_judge`, `assigned_submission`: participants and the public get 404, organizers who
are not judges 403, an unassigned or conflicted project 404); the organizer routes through
`EventOrganizerDep` (404 to the public, 403 to judges and mentors) — as the other judging routes.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request, status

from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.events.deps import EventDep, EventOrganizerDep
from hackops.judging.flags import service as flags
from hackops.judging.flags.schemas import FlagIn, FlagOut, OrganizerFlagOut, ResolveIn
from hackops.models import FlagState
from hackops.routing import Router

router = Router(
    prefix="/organizations/{slug}/events/{event_slug}",
    tags=["judging"],
)
READ_ERRORS = error_responses(401, 403, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=100_000)]


@router.post(
    "/judging/submissions/{submission_id}/flags",
    status_code=status.HTTP_201_CREATED,
    response_model=FlagOut,
    summary="Flag a project of my queue to the organizers (judges); they are emailed",
    responses=WRITE_ERRORS,
)
async def flag_submission(
    submission_id: uuid.UUID,
    body: FlagIn,
    request: Request,
    session: SessionDep,
    access: EventDep,
) -> FlagOut:
    flag = await flags.flag_submission(
        session,
        access,
        submission_id,
        reason=body.reason,
        note=body.note,
        base_url=request.app.state.settings.base_url,
    )
    return FlagOut.model_validate(flag)


@router.get(
    "/judging/submissions/{submission_id}/flags",
    response_model=list[FlagOut],
    summary="My flags of a project in my queue, newest first (judges)",
    responses=READ_ERRORS,
)
async def my_flags(
    submission_id: uuid.UUID, session: SessionDep, access: EventDep
) -> list[FlagOut]:
    return [FlagOut.model_validate(f) for f in await flags.my_flags(session, access, submission_id)]


@router.post(
    "/judging/flags/{flag_id}/withdraw",
    response_model=FlagOut,
    summary="Withdraw my open flag (judges); it is kept, resolved as withdrawn",
    responses=WRITE_ERRORS,
)
async def withdraw_flag(flag_id: uuid.UUID, session: SessionDep, access: EventDep) -> FlagOut:
    return FlagOut.model_validate(await flags.withdraw(session, access, flag_id))


@router.get(
    "/judging/flags",
    response_model=list[OrganizerFlagOut],
    summary="The judges' flags of the event, open first (organizers)",
    responses=READ_ERRORS,
)
async def list_flags(
    session: SessionDep,
    access: EventOrganizerDep,
    status_: Annotated[FlagState | None, Query(alias="status")] = None,
    submission_id: uuid.UUID | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[OrganizerFlagOut]:
    rows = await flags.list_flags(
        session, access, status=status_, submission_id=submission_id, limit=limit, offset=offset
    )
    return [OrganizerFlagOut.of(row) for row in rows]


@router.post(
    "/judging/flags/{flag_id}/resolve",
    response_model=OrganizerFlagOut,
    summary="Resolve an open flag with a note the judge reads (organizers); once",
    responses=WRITE_ERRORS,
)
async def resolve_flag(
    flag_id: uuid.UUID, body: ResolveIn, session: SessionDep, access: EventOrganizerDep
) -> OrganizerFlagOut:
    await flags.resolve(session, access, flag_id, resolution=body.resolution)
    return OrganizerFlagOut.of(await flags.flag_row(session, access, flag_id))
