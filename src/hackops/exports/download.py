"""An export as an HTTP download: the API route and the admin pages answer with the same."""

from __future__ import annotations

import re

from fastapi.responses import StreamingResponse

from hackops.events.access import EventAccess
from hackops.exports.formats import MEDIA_TYPES, Format, chunks, spool
from hackops.exports.table import Table


def filename(access: EventAccess, name: str, fmt: Format) -> str:
    slug = re.sub(r"[^a-z0-9-]", "", access.event.slug) or "event"
    return f"{slug}-{name}.{fmt.value}"


async def download(access: EventAccess, table: Table, fmt: Format, name: str) -> StreamingResponse:
    """The table written in full (rows read in the request's transaction, which the route then
    commits with the export's audit row), then sent from the spool with no connection held."""
    spooled = await spool(table, fmt)
    return StreamingResponse(
        chunks(spooled),
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{filename(access, name, fmt)}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
