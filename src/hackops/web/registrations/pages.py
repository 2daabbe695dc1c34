"""Organizer pages of an event's registrations: the list (filter by state, search, pages),
removing someone, the CSV import (and links to the exports). (The check-in desk is `desk.py`,
the waitlist and approvals `waitlist.py`.)

Who may: the event's organizers (`OrganizerPageDep`, as the API's `EventOrganizerDep`).

The import runs in a savepoint: with an invalid file nothing is written, and the row-level report
comes back on the page (with `partial`, the good rows are imported and the bad ones reported).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from hackops.errors import AppError
from hackops.models import RegistrationStatus
from hackops.registrations import csv_io, listing, service
from hackops.web import eventkit, kit
from hackops.web.deps import OrganizerPageDep, page_router

router = page_router()

PAGE_SIZE = 50
STATUS_OPTIONS = [("", "Any state")] + [
    (s.value, kit.REGISTRATION_STATUS_LABELS[s.value]) for s in RegistrationStatus
]


async def list_filters(
    status: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
) -> dict[str, Any]:
    """The list's filters (and the export's) from the query string; an unknown state is none."""
    return {
        "status": status if status in {s.value for s in RegistrationStatus} else None,
        "q": q.strip()[:200] or None,
    }


FiltersDep = Annotated[dict[str, Any], Depends(list_filters)]


async def _list_page(
    page: eventkit.AdminPage,
    *,
    filters: Mapping[str, Any] | None = None,
    offset: int = 0,
    report: csv_io.ImportReport | None = None,
    import_form: kit.Form | None = None,
    status_code: int = 200,
) -> Response:
    filters = filters or {"status": None, "q": None}
    event = page.access.event
    rows, total = await listing.list_for_organizer(
        page.session, event, **filters, sort="created", limit=PAGE_SIZE, offset=offset
    )
    active = {k: v for k, v in filters.items() if v}

    def at(start: int) -> str:
        return "?" + urlencode({**active, "offset": start}) if start else "?" + urlencode(active)

    return await page.render(
        "registrations/list.html",
        "registrations",
        status_code=status_code,
        rows=rows,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        shown_to=offset + len(rows),
        filters={"status": filters["status"] or "", "q": filters["q"] or ""},
        status_options=STATUS_OPTIONS,
        status_labels=kit.REGISTRATION_STATUS_LABELS,
        when=eventkit.clock(event.timezone),
        newer_url=at(max(offset - PAGE_SIZE, 0)) if offset else None,
        older_url=at(offset + PAGE_SIZE) if offset + PAGE_SIZE < total else None,
        export_base=page.at("/exports/registrations"),
        export_query="?" + urlencode(active) if active else "",
        report=report,
        import_form=import_form or kit.Form(),
    )


@router.get(kit.ADMIN + "/registrations", name="event_registrations")
async def registrations_page(
    page: OrganizerPageDep,
    filters: FiltersDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    return await _list_page(page, filters=filters, offset=offset)


@router.post(kit.ADMIN + "/registrations/{registration_id}/remove")
async def remove_registration(registration_id: uuid.UUID, page: OrganizerPageDep) -> Response:
    return await page.act(
        page.at("/registrations"),
        lambda: service.remove(page.session, page.access, registration_id),
        "The registration is removed; a freed seat goes to the first person waiting.",
    )


@router.post(kit.ADMIN + "/registrations/import")
async def import_registrations(page: OrganizerPageDep) -> Response:
    submitted = await page.request.form()
    upload = submitted.get("file")
    partial = submitted.get("partial") == "on"
    form = kit.Form(values={"partial": "on" if partial else ""})
    data = b""
    if isinstance(upload, UploadFile):
        data = await upload.read(csv_io.MAX_IMPORT_BYTES + 1)
    if not data:
        form.errors["file"] = "Choose a CSV file."
    elif len(data) > csv_io.MAX_IMPORT_BYTES:
        form.errors["file"] = "The file is larger than 5 MB; split it."
    rows_refused: list[csv_io.ImportReport] = []  # an invalid file's report, for the page

    def refused(form: kit.Form, exc: AppError) -> int:
        if not isinstance(exc, csv_io.ImportInvalid):
            return kit.refuse(form, exc)
        errors = exc.details.get("errors", []) if isinstance(exc.details, dict) else []
        rows_refused.append(csv_io.ImportReport(errors=[csv_io.RowError(**e) for e in errors]))
        form.error = "Nothing was imported: fix the rows below, or tick “import the good rows”."
        return 422

    async def again(form: kit.Form, status: int) -> Response:
        report = rows_refused[0] if rows_refused else None
        return await _list_page(page, report=report, import_form=form, status_code=status)

    if form.errors:
        return await again(form, 422)
    return await kit.attempt(
        page.session,
        form,
        lambda: csv_io.import_rows(page.session, page.access, data, partial=partial),
        page=again,
        reply=lambda report: _list_page(page, report=report, import_form=form),
        refused=refused,
    )
