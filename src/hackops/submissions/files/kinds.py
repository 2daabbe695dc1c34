"""What an uploaded file may be: the kinds we accept, the per-event limits, and the refusal error.

The kind is decided from the first bytes only (magic numbers), never from the name or the
client's Content-Type, so a renamed file is caught. Detection is our own few comparisons rather
than a library: five formats with fixed signatures do not justify a dependency, and the MP4 rule
(an `ftyp` box with a known brand) is stricter than generic sniffers, which accept any ISO-BMFF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

MiB = 1024 * 1024

# Enough for every signature below, including an MP4 `ftyp` box with its compatible brands.
HEAD_BYTES = 4096

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
PDF_SIGNATURE = b"%PDF-"
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a first local entry, or an empty archive

# ISO base media brands that denote MP4 video. QuickTime (`qt  `), 3GPP and audio-only brands are
# deliberately absent: they are other formats that merely share the container.
MP4_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso3",
        b"iso4",
        b"iso5",
        b"iso6",
        b"iso7",
        b"iso8",
        b"iso9",
        b"mp41",
        b"mp42",
        b"mp71",
        b"avc1",
        b"av01",
        b"dash",
        b"mmp4",
        b"msnv",
        b"M4V ",
        b"M4VH",
        b"M4VP",
    }
)


class FileRejected(Exception):
    """An upload, a file or a download link that is refused, with a stable code for the API.

    `message` is meant for the person who uploaded: it names the limit that was hit.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FileKind(StrEnum):
    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    ZIP = "zip"
    MP4 = "mp4"

    @property
    def content_type(self) -> str:
        """The canonical media type we store and serve, whatever the client claimed."""
        return _CONTENT_TYPES[self]

    @property
    def extensions(self) -> tuple[str, ...]:
        """Lower-case name endings (with the dot) that match this kind; the first is preferred."""
        return _EXTENSIONS[self]

    @property
    def label(self) -> str:
        return _LABELS[self]


_CONTENT_TYPES = {
    FileKind.PDF: "application/pdf",
    FileKind.PNG: "image/png",
    FileKind.JPEG: "image/jpeg",
    FileKind.ZIP: "application/zip",
    FileKind.MP4: "video/mp4",
}
_EXTENSIONS = {
    FileKind.PDF: (".pdf",),
    FileKind.PNG: (".png",),
    FileKind.JPEG: (".jpg", ".jpeg"),
    FileKind.ZIP: (".zip",),
    FileKind.MP4: (".mp4", ".m4v"),
}
_LABELS = {
    FileKind.PDF: "PDF",
    FileKind.PNG: "PNG",
    FileKind.JPEG: "JPEG",
    FileKind.ZIP: "ZIP",
    FileKind.MP4: "MP4",
}


@dataclass(frozen=True, slots=True)
class FilePolicy:
    """An event's file limits; the defaults are the platform's (issue 5)."""

    max_bytes: int = 25 * MiB
    max_files: int = 10
    allowed_kinds: frozenset[FileKind] = field(default_factory=lambda: frozenset(FileKind))
    zip_max_entries: int = 1000
    zip_max_uncompressed: int = 100 * MiB
    image_max_side: int = 20_000
    # README-like entries kept from archives for text extraction (count, and bytes read of each).
    zip_text_max_entries: int = 20
    zip_text_max_entry_bytes: int = 256 * 1024

    def __post_init__(self) -> None:
        for name in (
            "max_bytes",
            "max_files",
            "zip_max_entries",
            "zip_max_uncompressed",
            "image_max_side",
            "zip_text_max_entries",
            "zip_text_max_entry_bytes",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"FilePolicy.{name} must be positive")
        if not self.allowed_kinds:
            raise ValueError("FilePolicy.allowed_kinds must not be empty")

    def allowed_labels(self) -> str:
        return ", ".join(kind.label for kind in FileKind if kind in self.allowed_kinds)


def human_size(size: int) -> str:
    """`26214400` → `25 MiB`: limits are quoted to people in the unit they were set in."""
    if size >= MiB and size % MiB == 0:
        return f"{size // MiB} MiB"
    if size >= MiB:
        return f"{size / MiB:.1f} MiB"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} bytes"


def file_too_large(max_bytes: int) -> FileRejected:
    return FileRejected(
        "file_too_large", f"The file is larger than the limit of {human_size(max_bytes)}."
    )


def ensure_room_for_file(current_count: int, policy: FilePolicy) -> None:
    """Refuse one more file when the submission already holds `policy.max_files`."""
    if current_count >= policy.max_files:
        raise FileRejected(
            "too_many_files",
            f"A submission can hold at most {policy.max_files} files; remove one first.",
        )


def detect_kind(head: bytes) -> FileKind | None:
    """The kind the first bytes prove, or None when they match no accepted format."""
    if head.startswith(PDF_SIGNATURE):
        return FileKind.PDF
    if head.startswith(PNG_SIGNATURE):
        return FileKind.PNG
    if head.startswith(JPEG_SIGNATURE):
        return FileKind.JPEG
    if head.startswith(ZIP_SIGNATURES):
        return FileKind.ZIP
    if _is_mp4(head):
        return FileKind.MP4
    return None


def _is_mp4(head: bytes) -> bool:
    if len(head) < 16 or head[4:8] != b"ftyp":
        return False
    box_size = int.from_bytes(head[0:4], "big")
    if box_size < 16:
        return False
    if head[8:12] in MP4_BRANDS:
        return True
    # Compatible brands follow the major brand and minor version, four bytes each.
    end = min(box_size, len(head))
    return any(head[i : i + 4] in MP4_BRANDS for i in range(16, end - 3, 4))
