"""Registrations API: register, my registration and its QR code, cancel; organizers list,
import (CSV) and remove; check-in by code, the desk's search, check-in from its list and undo;
the waitlist and manual promotion; approval of pending registrations; my registrations
everywhere. (The CSV export at `…/registrations/export.csv` is routed by
`hackops.exports.router`, above this domain.)"""

from __future__ import annotations

import io
import uuid
from typing import Annotated

import segno
from fastapi import Query, Request, Response, status

from hackops.accounts.deps import CurrentUserDep
from hackops.db import FinalWriteSessionDep, SessionDep
from hackops.errors import Conflict, PayloadTooLarge, error_responses
from hackops.events.deps import EventDep, EventOrganizerDep
from hackops.models import Registration, RegistrationStatus, User
from hackops.registrations import approval, checkin, csv_io, listing, service, waitlist
from hackops.registrations.schemas import (
    MAX_PAGE,
    CheckinIn,
    CheckinOut,
    DeskOut,
    ImportOut,
    MyRegistrationOut,
    PersonOut,
    PromoteIn,
    RegistrationAdminOut,
    RegistrationIn,
    RegistrationOut,
    RegistrationPage,
    SortName,
    StatusName,
    UndoCheckinIn,
    WaitlistEntryOut,
)
from hackops.registrations.waitlist import waitlist_position
from hackops.routing import Router

EVENT = "/organizations/{slug}/events/{event_slug}"
router = Router(prefix=EVENT, tags=["registrations"])
mine = Router(prefix="/me", tags=["me"])

READ_ERRORS = error_responses(401, 403, 404, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 422)
#: Registrations whose holder is shown no check-in code: awaiting approval, or declined.
# No check-in code is shown to a person who cannot be checked in: a waitlisted person (the code
# appears with the seat), one awaiting approval, one declined.
NO_CODE = (RegistrationStatus.WAITLISTED, RegistrationStatus.PENDING, RegistrationStatus.DECLINED)


class NoCheckinCode(Conflict):
    code = "no_checkin_code"
    message = (
        "Your registration has no check-in code: it comes with a seat (you are on the waitlist, "
        "or your registration awaits the organizers' approval or was declined)."
    )


def registration_out(registration: Registration) -> RegistrationOut:
    """The holder's view: no check-in code while pending or declined."""
    out = RegistrationOut.model_validate(registration)
    if registration.status in NO_CODE:
        out.checkin_code = None
    return out


async def own_out(session: SessionDep, registration: Registration) -> RegistrationOut:
    out = registration_out(registration)
    out.waitlist_position = await waitlist_position(session, registration)
    return out


def admin_out(registration: Registration, user: User) -> RegistrationAdminOut:
    return RegistrationAdminOut.model_validate(
        {
            **{
                k: getattr(registration, k)
                for k in RegistrationAdminOut.model_fields
                if k != "user"
            },
            "user": PersonOut.model_validate(user),
        }
    )


@router.post(
    "/registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=RegistrationOut,
    summary="Register for the event (a seat if one is free, else the waitlist)",
    responses=WRITE_ERRORS,
)
async def register(
    body: RegistrationIn, session: FinalWriteSessionDep, access: EventDep
) -> RegistrationOut:
    # The write is the route's last statement: it commits with it (`db.final_write_session`),
    # which releases the event's seat lock at once. No waitlist position here (GET .../me).
    registration = await service.register(session, access, answers=body.answers)
    return registration_out(registration)


@router.get(
    "/registrations",
    response_model=RegistrationPage,
    summary="Registrations, filtered, sorted and paginated (organizers)",
    responses=READ_ERRORS,
)
async def list_registrations(
    session: SessionDep,
    access: EventOrganizerDep,
    status_: Annotated[StatusName | None, Query(alias="status")] = None,
    checked_in: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: SortName = "created",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "asc",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> RegistrationPage:
    rows, total = await listing.list_for_organizer(
        session,
        access.event,
        status=status_,
        checked_in=checked_in,
        q=q,
        sort=sort,
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )
    return RegistrationPage(
        items=[admin_out(r, u) for r, u in rows], total=total, limit=limit, offset=offset
    )


@router.post(
    "/registrations/import",
    response_model=ImportOut,
    summary="Import participants from CSV (email,name[,status]); all or nothing unless partial",
    description=(
        "The body is the CSV file itself (`Content-Type: text/csv`, UTF-8, header row "
        "`email,name[,status]`, at most 5 MB). Every row is validated first. Without "
        "`partial=true`, any bad row refuses the whole import (422 `import_invalid` with "
        "`details.errors`: row, column, message) and nothing is written; with `partial=true` the "
        "good rows are imported and the bad ones are reported in `errors`. Missing users are "
        "created without a password (unverified); seats are given in file order, then the "
        "waitlist."
    ),
    responses=error_responses(401, 403, 404, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def import_registrations(
    request: Request,
    session: SessionDep,
    access: EventOrganizerDep,
    partial: bool = False,
) -> ImportOut:
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > csv_io.MAX_IMPORT_BYTES:
            raise PayloadTooLarge("The CSV file is larger than 5 MB; split it.")
    report = await csv_io.import_rows(session, access, bytes(data), partial=partial)
    return ImportOut.model_validate(report)


@router.get(
    "/registrations/me",
    response_model=RegistrationOut,
    summary="My registration for this event, with my check-in code",
    responses=READ_ERRORS,
)
async def my_registration(session: SessionDep, access: EventDep) -> RegistrationOut:
    return await own_out(session, await service.get_own(session, access))


@router.get(
    "/registrations/me/qr.svg",
    summary="My check-in code as a QR code (SVG)",
    responses={**READ_ERRORS, 200: {"content": {"image/svg+xml": {}}, "description": "SVG"}},
    response_class=Response,
)
async def my_qr_code(session: SessionDep, access: EventDep) -> Response:
    registration = await service.get_own(session, access)
    if registration.status == RegistrationStatus.CANCELLED:
        raise service.RegistrationNotFound
    if registration.status in NO_CODE:
        raise NoCheckinCode
    buffer = io.BytesIO()
    # a full QR code with its 4-module quiet zone: segno.make picks a Micro QR for a short
    # code, which many phone cameras cannot read
    segno.make_qr(registration.checkin_code, error="m").save(
        buffer, kind="svg", scale=8, border=4, xmldecl=False, title="Check-in code"
    )
    return Response(
        buffer.getvalue(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, no-store"},
    )


@router.post(
    "/registrations/me/cancel",
    response_model=RegistrationOut,
    summary="Cancel my registration (a freed seat goes to the first person waiting)",
    responses=WRITE_ERRORS,
)
async def cancel_registration(session: SessionDep, access: EventDep) -> RegistrationOut:
    return await own_out(session, await service.cancel(session, access))


@router.delete(
    "/registrations/{registration_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a registration (organizers; a freed seat goes to the waitlist)",
    responses=WRITE_ERRORS,
)
async def remove_registration(
    registration_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> Response:
    await service.remove(session, access, registration_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/checkin",
    response_model=CheckinOut,
    summary="Check someone in by their code (organizers, volunteers); idempotent",
    responses=WRITE_ERRORS,
)
async def check_in(body: CheckinIn, session: SessionDep, access: EventOrganizerDep) -> CheckinOut:
    return checkin_out(await checkin.check_in(session, access, body.code))


def checkin_out(result: checkin.CheckIn) -> CheckinOut:
    registration = result.registration
    assert registration.checked_in_at is not None
    return CheckinOut(
        registration_id=registration.id,
        user=PersonOut.model_validate(result.user),
        checked_in_at=registration.checked_in_at,
        checked_in_by_id=registration.checked_in_by_id,
        already_checked_in=result.already,
    )


@router.get(
    "/checkin/search",
    response_model=DeskOut,
    summary="The check-in desk: find people by code, name or email (at most 20), and counts",
    responses=READ_ERRORS,
)
async def desk_search(
    session: SessionDep,
    access: EventOrganizerDep,
    q: Annotated[str, Query(min_length=1, max_length=200)],
) -> DeskOut:
    found = await checkin.search(session, access.event, q)
    checked_in, registered = await checkin.counts(session, access.event)
    return DeskOut(
        items=[admin_out(r, u) for r, u in found], checked_in=checked_in, registered=registered
    )


@router.post(
    "/registrations/{registration_id}/checkin",
    response_model=CheckinOut,
    summary="Check someone in from the desk's list (organizers); idempotent",
    responses=WRITE_ERRORS,
)
async def check_in_registration(
    registration_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> CheckinOut:
    return checkin_out(await checkin.check_in_by_id(session, access, registration_id))


@router.post(
    "/registrations/{registration_id}/undo-checkin",
    response_model=RegistrationAdminOut,
    summary="Undo a mistaken check-in (organizers; 409 not_checked_in when there is none)",
    responses=WRITE_ERRORS,
)
async def undo_check_in(
    registration_id: uuid.UUID,
    session: SessionDep,
    access: EventOrganizerDep,
    body: UndoCheckinIn | None = None,
) -> RegistrationAdminOut:
    reason = body.reason if body is not None else ""
    registration, user = await checkin.undo_check_in(
        session, access, registration_id, reason=reason
    )
    return admin_out(registration, user)


@router.get(
    "/waitlist",
    response_model=list[WaitlistEntryOut],
    summary="The waitlist in queue order, with positions (organizers; at most 500)",
    responses=READ_ERRORS,
)
async def list_waitlist(session: SessionDep, access: EventOrganizerDep) -> list[WaitlistEntryOut]:
    return [
        WaitlistEntryOut.model_validate({**admin_out(r, u).model_dump(), "position": position})
        for position, r, u in await waitlist.waitlist(session, access.event)
    ]


@router.post(
    "/registrations/{registration_id}/promote",
    response_model=RegistrationAdminOut,
    summary="Give a waitlisted person a seat (organizers; when full only with raise_capacity)",
    responses=WRITE_ERRORS,
)
async def promote(
    registration_id: uuid.UUID,
    session: SessionDep,
    access: EventOrganizerDep,
    body: PromoteIn | None = None,
) -> RegistrationAdminOut:
    raise_capacity = body.raise_capacity if body is not None else False
    registration = await waitlist.promote_one(
        session, access, registration_id, raise_capacity=raise_capacity
    )
    return admin_out(registration, await session.get_one(User, registration.user_id))


@router.post(
    "/registrations/{registration_id}/approve",
    response_model=RegistrationAdminOut,
    summary="Approve a pending registration: a seat, or the waitlist when full (organizers)",
    responses=WRITE_ERRORS,
)
async def approve(
    registration_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> RegistrationAdminOut:
    registration = await approval.approve(session, access, registration_id)
    return admin_out(registration, await session.get_one(User, registration.user_id))


@router.post(
    "/registrations/{registration_id}/decline",
    response_model=RegistrationAdminOut,
    summary="Decline a pending registration (organizers)",
    responses=WRITE_ERRORS,
)
async def decline(
    registration_id: uuid.UUID, session: SessionDep, access: EventOrganizerDep
) -> RegistrationAdminOut:
    registration = await approval.decline(session, access, registration_id)
    return admin_out(registration, await session.get_one(User, registration.user_id))


@mine.get(
    "/registrations",
    response_model=list[MyRegistrationOut],
    summary="My registrations, in every organization",
    responses=error_responses(401),
)
async def my_registrations(session: SessionDep, user: CurrentUserDep) -> list[MyRegistrationOut]:
    return [
        MyRegistrationOut(
            id=registration.id,
            status=registration.status,
            checkin_code=None if registration.status in NO_CODE else registration.checkin_code,
            created_at=registration.created_at,
            org_slug=org.slug if org is not None else None,
            event_slug=event.slug if event is not None else None,
            event_name=event.name if event is not None else None,
            starts_at=event.starts_at if event is not None else None,
        )
        for registration, event, org in await listing.list_mine(session, user)
    ]
