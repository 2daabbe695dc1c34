"""Exports API: an event's data as CSV, XLSX or JSON (organizers), and the registrations CSV
export under the registrations API's path (kept from before the exports existed; the same
table as the `registrations` dataset)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import StreamingResponse

from hackops.db import SessionDep
from hackops.errors import error_responses
from hackops.events.deps import EventOrganizerDep
from hackops.exports import service
from hackops.exports.download import download
from hackops.exports.formats import MEDIA_TYPES, Format
from hackops.exports.table import Dataset
from hackops.registrations.schemas import StatusName
from hackops.routing import Router

EVENT = "/organizations/{slug}/events/{event_slug}"
router = Router(prefix=EVENT, tags=["exports"])
registrations = Router(prefix=EVENT, tags=["registrations"])

FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {m: {} for m in MEDIA_TYPES.values()}, "description": "The file"}
}


@router.get(
    "/exports/{dataset}.{fmt}",
    summary="Export an event's data as CSV (UTF-8 with BOM), XLSX or JSON (organizers)",
    description=(
        "`dataset`: `registrations` (one column per registration question; the list's "
        "filters `status`, `checked_in`, `q` apply), `teams` (one row per member), "
        "`submissions` (links and file names), `judges` (one row per judge and assignment), "
        "`evaluations` (one column per criterion; `anonymize=true` writes judges as "
        '"Judge 1", "Judge 2" … numbered by their first evaluation, without names, addresses '
        "or private comments), `results` (the published results: overall, per track, awards; "
        "409 `results_not_published` before). CSV cells that start with = + - @ get a leading "
        "apostrophe; XLSX text is never a formula. Every export is recorded in the audit log."
    ),
    responses={**error_responses(401, 403, 404, 409, 422), **FILE},
    response_class=StreamingResponse,
)
async def export(
    dataset: Dataset,
    fmt: Format,
    session: SessionDep,
    access: EventOrganizerDep,
    anonymize: bool = False,
    status_: Annotated[StatusName | None, Query(alias="status")] = None,
    checked_in: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> StreamingResponse:
    filters: dict[str, Any] = {}
    if dataset is Dataset.REGISTRATIONS:
        filters = {"status": status_, "checked_in": checked_in, "q": q}
    table = await service.open_table(session, access, dataset, anonymize=anonymize, filters=filters)
    await service.record_export(
        session, access, dataset, fmt.value, anonymize=anonymize, filters=filters
    )
    name = f"{dataset.value}-anonymized" if anonymize and dataset is Dataset.EVALUATIONS else None
    return await download(access, table, fmt, name or dataset.value)


@registrations.get(
    "/registrations/export.csv",
    summary="Export registrations as CSV (organizers; same filters as the list)",
    description="The `registrations` export (`…/exports/registrations.csv`) at its first address.",
    responses={**error_responses(401, 403, 404, 422), 200: {"content": {"text/csv": {}}}},
    response_class=StreamingResponse,
)
async def export_registrations(
    session: SessionDep,
    access: EventOrganizerDep,
    status_: Annotated[StatusName | None, Query(alias="status")] = None,
    checked_in: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> StreamingResponse:
    return await export(
        Dataset.REGISTRATIONS, Format.CSV, session, access, False, status_, checked_in, q
    )
