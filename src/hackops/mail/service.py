"""Queue an email in the current transaction; a job sends it after commit.

Every mail passes through `queue_email`, so its subject is made safe here, once: subjects are
built from names people typed (events, teams, submissions), and a CR/LF would be refused by the
mail library (or inject a header), one over the column's 300 characters would fail the whole
transaction that sends it.
"""

from __future__ import annotations

import re
import unicodedata
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from hackops import jobs
from hackops.models import OutboundEmail

SUBJECT_MAX_CHARS = 200
_SPACES = re.compile(r"\s+")


def clean_subject(subject: str) -> str:
    """One line of at most SUBJECT_MAX_CHARS characters: control and separator characters
    become spaces, runs of spaces one, and a longer subject ends with an ellipsis."""
    printable = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch for ch in subject
    )
    line = _SPACES.sub(" ", printable).strip()
    if len(line) > SUBJECT_MAX_CHARS:
        line = line[: SUBJECT_MAX_CHARS - 1].rstrip() + "…"
    return line


async def queue_email(
    session: AsyncSession,
    *,
    to: str,
    subject: str,
    body: str,
    user_id: uuid.UUID | None = None,
) -> OutboundEmail:
    from hackops.mail.tasks import send_email

    email = OutboundEmail(
        to_address=to, subject=clean_subject(subject), body_text=body, user_id=user_id
    )
    session.add(email)
    await session.flush()
    await jobs.enqueue(session, send_email, queue="notifications", email_id=str(email.id))
    return email
