"""The waitlist and approvals (an event admin tab): who waits in which position, promoting one
person by hand, and the registrations awaiting approval (approve, decline).

Promoting by hand respects the capacity: a waitlisted person exists only while the event is full,
so the button says what it does — "Add a seat and promote" raises the capacity by one for that
person (`waitlist.promote_one` with `raise_capacity`), in the same transaction; a plain
"Promote" is offered only while a seat is free. A refusal (someone else took the seat, the person
cancelled meanwhile) is flashed in words from the service.
"""

from __future__ import annotations

import uuid

from fastapi.responses import Response

from hackops.models import RegistrationStatus, User
from hackops.registrations import approval, waitlist
from hackops.registrations.schemas import PromoteIn
from hackops.registrations.seats import free_seats
from hackops.web import eventkit, kit
from hackops.web.deps import OrganizerPageDep, page_router

router = page_router()


@router.get(kit.ADMIN + "/waitlist", name="event_waitlist")
async def waitlist_page(page: OrganizerPageDep) -> Response:
    event = page.access.event
    return await page.render(
        "registrations/waitlist.html",
        "waitlist",
        queue=await waitlist.waitlist(page.session, event),
        pending=await approval.pending(page.session, page.access),
        free=free_seats(event),
        limit=waitlist.MAX_SHOWN,
        when=eventkit.clock(event.timezone),
    )


@router.post(kit.ADMIN + "/waitlist/{registration_id}/promote")
async def promote(registration_id: uuid.UUID, page: OrganizerPageDep) -> Response:
    raise_capacity = (await page.request.form()).get("raise_capacity") == "on"

    async def act(body: PromoteIn) -> str:
        registration = await waitlist.promote_one(
            page.session, page.access, registration_id, raise_capacity=body.raise_capacity
        )
        user = await page.session.get_one(User, registration.user_id)
        added = f" The capacity is now {page.access.event.capacity}." if body.raise_capacity else ""
        return f"{user.name or user.email} has a seat and is told so by mail.{added}"

    return await page.act_checked(
        page.at("/waitlist"),
        model=PromoteIn,
        data={"raise_capacity": raise_capacity},
        action=act,
        done=kit.said,
    )


@router.post(kit.ADMIN + "/waitlist/{registration_id}/approve")
async def approve(registration_id: uuid.UUID, page: OrganizerPageDep) -> Response:
    async def act() -> str:
        registration = await approval.approve(page.session, page.access, registration_id)
        user = await page.session.get_one(User, registration.user_id)
        who = user.name or user.email
        if registration.status == RegistrationStatus.WAITLISTED:
            return f"{who} is approved; the event is full, so they are on the waitlist."
        return f"{who} is approved and has a seat; they are told by mail."

    return await page.act(page.at("/waitlist"), act, kit.said)


@router.post(kit.ADMIN + "/waitlist/{registration_id}/decline")
async def decline(registration_id: uuid.UUID, page: OrganizerPageDep) -> Response:
    async def act() -> str:
        registration = await approval.decline(page.session, page.access, registration_id)
        user = await page.session.get_one(User, registration.user_id)
        return f"The registration of {user.name or user.email} is declined; they are told by mail."

    return await page.act(page.at("/waitlist"), act, kit.said)
