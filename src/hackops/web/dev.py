"""The dev mailbox: every outbound email, newest first, so sign-up, reset and invitation links
can be followed without an SMTP server. Only in dev mode; anywhere else it does not exist (404).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response
from markupsafe import Markup, escape
from sqlalchemy import select

from hackops.db import SessionDep
from hackops.errors import NotFound
from hackops.models import OutboundEmail
from hackops.web import kit
from hackops.web.deps import page_router

router = page_router()

MAILBOX_SIZE = 100
URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
TRAILING_PUNCTUATION = ".,;:!?)]}"


def linkify(text: str) -> Markup:
    """The text escaped, with each http(s) URL in it made a link (its text and href escaped)."""
    parts: list[Markup] = []
    position = 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(TRAILING_PUNCTUATION)
        if "://" not in url or url.endswith("://"):
            continue
        parts.append(escape(text[position : match.start()]))
        parts.append(Markup('<a href="{0}" rel="noreferrer">{0}</a>').format(url))
        position = match.start() + len(url)
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


@router.get("/dev/mailbox", name="dev_mailbox")
async def mailbox(
    request: Request,
    session: SessionDep,
    to: Annotated[str, Query(max_length=320)] = "",
) -> Response:
    if not kit.settings_of(request).is_dev:
        raise NotFound("There is no page at this address.")
    query = select(OutboundEmail).order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())
    recipient = to.strip().casefold()
    if recipient:
        query = query.where(OutboundEmail.to_address == recipient)
    emails = list(await session.scalars(query.limit(MAILBOX_SIZE)))
    context = {
        "emails": emails,
        "bodies": {email.id: linkify(email.body_text or "") for email in emails},
        "to": recipient,
        "limit": MAILBOX_SIZE,
    }
    return kit.render(request, "dev/mailbox.html", context)
