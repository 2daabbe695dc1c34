"""The exports of an event for its organizers: the Exports tab (every dataset, each as CSV, XLSX
and JSON) and the downloads themselves, for a signed-in browser (the API's tables, writers and
audit row: `hackops.exports`). The pages that show the same data (registrations, teams,
submissions, judging, results) link to the same downloads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import Response

from hackops.exports import service
from hackops.exports.download import download
from hackops.exports.formats import Format
from hackops.exports.table import Dataset
from hackops.models import RegistrationStatus
from hackops.web import kit
from hackops.web.deps import OrganizerPageDep, page_router

router = page_router()

EXPORTS = kit.ADMIN + "/exports"
#: The order of the Exports tab: the event's life, from registration to results.
ORDER = (
    Dataset.REGISTRATIONS,
    Dataset.TEAMS,
    Dataset.SUBMISSIONS,
    Dataset.JUDGES,
    Dataset.EVALUATIONS,
    Dataset.RESULTS,
)


@router.get(EXPORTS, name="event_exports")
async def exports_page(page: OrganizerPageDep) -> Response:
    published = page.access.event.results_published_at is not None
    return await page.render(
        "exports/index.html",
        "exports",
        datasets=[(d.value, *service.TITLES[d]) for d in ORDER],
        results_published=published,
        exports=page.at("/exports"),
    )


@router.get(EXPORTS + "/{dataset}.{fmt}")
async def export_download(
    dataset: Dataset,
    fmt: Format,
    page: OrganizerPageDep,
    anonymize: bool = False,
    status: Annotated[str, Query(max_length=20)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """One export; results before publication come back to the Exports tab with the reason."""
    filters: dict[str, Any] = {}
    if dataset is Dataset.REGISTRATIONS:
        known = {s.value for s in RegistrationStatus}
        filters = {"status": status if status in known else None, "q": q.strip() or None}
    if dataset is Dataset.RESULTS and page.access.event.results_published_at is None:
        message = service.ResultsNotPublished.message
        return kit.flash_redirect(page.request, page.at("/exports"), message, "error")
    table = await service.open_table(
        page.session, page.access, dataset, anonymize=anonymize, filters=filters
    )
    await service.record_export(
        page.session, page.access, dataset, fmt.value, anonymize=anonymize, filters=filters
    )
    name = f"{dataset.value}-anonymized" if anonymize and dataset is Dataset.EVALUATIONS else None
    return await download(page.access, table, fmt, name or dataset.value)
