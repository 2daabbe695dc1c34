"""The check-in desk (an event admin tab): one box for a check-in code, a name or an email.

Built for a barcode scanner, which types the code and presses Enter: one autofocused field, and
a code checks its holder in at once, the answer (who, when, or "already checked in at ...")
rendered by the POST itself rather than after a redirect, so the next scan is one round trip
away. Checking in is idempotent in the service, so a reload that re-posts changes nothing. A
code is not put back in the field (the scanner types the next one into it); a name or email is
kept, with the people who match listed below it, one "Check in" button per row (and "Undo" for
someone checked in by mistake, with an optional reason). The list's address (`?q=`) is where
those buttons come back to.

On phones whose browser has the BarcodeDetector API, `static/checkin-scan.js` adds a "Scan
with the camera" button (hidden otherwise; the box always works): it reads a QR code through
getUserMedia, puts the code in the box and submits the form. This page alone lets the camera
be asked for (`Permissions-Policy: camera=(self)`; everywhere else it is `camera=()`).
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query
from fastapi.responses import Response

from hackops.errors import AppError
from hackops.models import Registration, User
from hackops.registrations import checkin, listing
from hackops.registrations.schemas import UndoCheckinIn
from hackops.web import eventkit, kit
from hackops.web.deps import OrganizerPageDep, page_router

router = page_router()

RECENT_CHECKINS = 15
#: The desk may ask for the camera (the QR scanner); the other browser features stay off.
DESK_PERMISSIONS = {
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()",
}


def _back(page: eventkit.AdminPage, q: str) -> str:
    return page.at("/checkin") + ("?" + urlencode({"q": q}) if q.strip() else "")


async def _desk(
    page: eventkit.AdminPage,
    *,
    q: str = "",
    matches: list[tuple[Registration, User]] | None = None,
    result: checkin.CheckIn | None = None,
    form: kit.Form | None = None,
    status_code: int = 200,
) -> Response:
    event = page.access.event
    recent, _ = await listing.list_for_organizer(
        page.session,
        event,
        checked_in=True,
        sort="checked_in",
        descending=True,
        limit=RECENT_CHECKINS,
    )
    checked_in, registered = await checkin.counts(page.session, event)
    if matches is None and q.strip():
        matches = list(await checkin.search(page.session, event, q))
    return await page.render(
        "registrations/checkin.html",
        "checkin",
        status_code=status_code,
        headers=DESK_PERMISSIONS,
        result=result,
        form=form or kit.Form(values={"code": q}),
        q=q.strip(),
        matches=matches,
        back=_back(page, q),
        recent=recent,
        checked_in=checked_in,
        registered=registered,
        status_labels=kit.REGISTRATION_STATUS_LABELS,
        when=eventkit.clock(event.timezone),
    )


@router.get(kit.ADMIN + "/checkin", name="checkin_desk")
async def checkin_desk(
    page: OrganizerPageDep, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    return await _desk(page, q=q)


@router.post(kit.ADMIN + "/checkin")
async def look_up(page: OrganizerPageDep) -> Response:
    """The box: a code checks in; a name or an email lists who matches."""
    raw = (await page.request.form()).get("code")
    text = raw.strip()[:200] if isinstance(raw, str) else ""
    form = kit.Form()
    if not text:
        form.error = "Type or scan a check-in code, or type a name or an email."
        return await _desk(page, form=form, status_code=422)

    def refused(form: kit.Form, exc: AppError) -> int:
        messages = {
            checkin.NoMatch: f"Nobody matches “{text}”: no check-in code, name or email of this"
            " event's registrations.",
            checkin.NotSeated: f"Code {text} belongs to a registration without a seat"
            " (waitlisted, awaiting approval, declined or cancelled): not checked in.",
        }
        status = kit.refuse(form, exc)
        form.error = next((m for t, m in messages.items() if isinstance(exc, t)), form.error)
        return status

    async def reply(answer: checkin.CheckIn | list[tuple[Registration, User]]) -> Response:
        if isinstance(answer, checkin.CheckIn):
            return await _desk(page, result=answer)
        return await _desk(page, q=text, matches=answer)

    async def look() -> checkin.CheckIn | list[tuple[Registration, User]]:
        return await checkin.desk_lookup(page.session, page.access, text)

    return await kit.attempt(
        page.session,
        form,
        look,
        page=lambda form, status: _desk(page, form=form, status_code=status),
        reply=reply,
        refused=refused,
    )


def _who(result: checkin.CheckIn) -> str:
    person = result.user.name or result.user.email
    if result.already:
        return f"{person} was already checked in."
    return f"{person} is checked in."


@router.post(kit.ADMIN + "/checkin/{registration_id}")
async def check_in_from_list(registration_id: uuid.UUID, page: OrganizerPageDep) -> Response:
    q = (await page.request.form()).get("q")
    back = _back(page, q if isinstance(q, str) else "")
    return await page.act(
        back,
        lambda: checkin.check_in_by_id(page.session, page.access, registration_id),
        _who,
    )


@router.post(kit.ADMIN + "/checkin/{registration_id}/undo")
async def undo_check_in(registration_id: uuid.UUID, page: OrganizerPageDep) -> Response:
    submitted = await page.request.form()
    q = submitted.get("q")
    reason = submitted.get("reason")

    async def undo(body: UndoCheckinIn) -> str:
        _, user = await checkin.undo_check_in(
            page.session, page.access, registration_id, reason=body.reason
        )
        return f"The check-in of {user.name or user.email} is undone: registered, not checked in."

    return await page.act_checked(
        _back(page, q if isinstance(q, str) else ""),
        model=UndoCheckinIn,
        data={"reason": reason if isinstance(reason, str) else ""},
        action=undo,
        done=kit.said,
    )
