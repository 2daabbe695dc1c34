"""What a mail carries besides its text: small attachments (stored on the row as base64 in JSON)
and the one-click unsubscribe header, which must reach the receiver on one line."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from email import policy
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.policy import Policy
from typing import Any

#: Attachments of one mail, at most (a QR code is ~1 KB, a calendar entry ~1 KB): the row is
#: read whole by the sender, and a mail is no file transfer.
MAX_ATTACHMENT_BYTES = 256 * 1024
_CONTENT_TYPE = re.compile(r"^[a-z]+/[a-z0-9.+-]+$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_CONTENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}@[A-Za-z0-9.-]{1,200}$")


@dataclass(frozen=True)
class Attachment:
    """A file sent with a mail. With a `content_id` it is an inline image the HTML part shows as
    `<img src="cid:CONTENT_ID">` (multipart/related); without one, an attachment.

    Names are chosen by the code, never by people (`checkin-qr.png`, `event.ics`): nothing a
    person typed reaches a MIME header."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None

    def __post_init__(self) -> None:
        if not _SAFE_NAME.match(self.filename):
            raise ValueError(f"unsafe attachment name {self.filename!r}")
        if not _CONTENT_TYPE.match(self.content_type):
            raise ValueError(f"bad content type {self.content_type!r}")
        if self.content_id is not None and not _CONTENT_ID.match(self.content_id):
            raise ValueError(f"bad content id {self.content_id!r}")

    def stored(self) -> dict[str, str]:
        out = {
            "filename": self.filename,
            "content_type": self.content_type,
            "data": base64.b64encode(self.data).decode("ascii"),
        }
        if self.content_id is not None:
            out["content_id"] = self.content_id
        return out

    @classmethod
    def from_stored(cls, value: dict[str, Any]) -> Attachment:
        return cls(
            filename=str(value["filename"]),
            content_type=str(value["content_type"]),
            data=base64.b64decode(value["data"]),
            content_id=value.get("content_id"),
        )


def stored_attachments(attachments: tuple[Attachment, ...] | list[Attachment]) -> list[Any]:
    """The JSON of `OutboundEmail.attachments`; refuses more than MAX_ATTACHMENT_BYTES."""
    if sum(len(a.data) for a in attachments) > MAX_ATTACHMENT_BYTES:
        raise ValueError(f"attachments over {MAX_ATTACHMENT_BYTES} bytes")
    return [a.stored() for a in attachments]


def loaded_attachments(value: list[dict[str, Any]] | None) -> list[Attachment]:
    return [Attachment.from_stored(item) for item in value or []]


class _OneLineHeader(UnstructuredHeader):
    """A header written on one line whatever its length (under 998): folded, a long
    `List-Unsubscribe: <https://…>` would be RFC 2047-encoded by the email package, and no
    mail client reads a URL out of an encoded word."""

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"  # type: ignore[attr-defined]


_HEADERS = HeaderRegistry()
# typeshed declares UnstructuredHeader apart from BaseHeader; the registry mixes them in.
_HEADERS.map_to_type("list-unsubscribe", _OneLineHeader)  # type: ignore[arg-type]
#: The policy of every message HackOps builds (`mail.tasks.build_message`).
MAIL_POLICY = policy.default.clone(header_factory=_HEADERS)
#: What may go into `List-Unsubscribe`: an http(s) URL of URL-safe characters, no spaces.
UNSUBSCRIBE_URL = re.compile(r"^https?://[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]{1,900}$")
