"""PDFs are parsed under a time and a memory bound, in workers of their own (docparse.py):
generated hostile files are refused with a reason, quickly, and an ordinary PDF still passes."""

from __future__ import annotations

import io
import threading

import pytest

from hackops.submissions.files import docparse
from hackops.submissions.files.service import FilePolicy, FileRejected, inspect_file
from tests.submissions.filehelpers import pdf_bytes, spool

MiB = 1024 * 1024


def pdf_with_pages(count: int, fanout: int = 500) -> bytes:
    """A well-formed PDF with `count` empty pages under a two-level page tree (arrays of at most
    `fanout`, below pypdf's own array limit): a huge object graph pypdf walks object by object."""
    nodes = -(-count // fanout)
    first_page = 3 + nodes
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count %d /Kids [%b] >>"
        % (count, b" ".join(b"%d 0 R" % (3 + n) for n in range(nodes))),
    ]
    for n in range(nodes):
        kids = range(first_page + n * fanout, first_page + min(count, (n + 1) * fanout))
        objects.append(
            b"<< /Type /Pages /Parent 2 0 R /Count %d /Kids [%b] >>"
            % (len(kids), b" ".join(b"%d 0 R" % k for k in kids))
        )
    for p in range(count):
        objects.append(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 10 10] >>" % (3 + p // fanout)
        )
    return _assemble(objects)


def _assemble(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


async def test_a_pdf_that_takes_too_long_is_refused_with_the_reason() -> None:
    limits = docparse.ParseLimits(seconds=0.5, memory_bytes=1024 * MiB)
    spooled = await spool(pdf_with_pages(300_000), max_bytes=100 * MiB)
    with spooled, pytest.raises(FileRejected) as refused:
        docparse.check_pdf(spooled.file, FilePolicy(), limits)
    assert refused.value.code == "pdf_too_complex"
    assert "longer than 0.5 seconds" in refused.value.message


@pytest.mark.timeout(240)  # past the parse's own 180 s deadline: that one must give out first
async def test_a_pdf_that_needs_too_much_memory_is_refused_with_the_reason() -> None:
    """90,000 page objects need far more than the 200 MiB allowed here. The deadline is generous
    (this test is about the memory cap, which a quiet machine reaches in ~5 s): on a busy 2-core
    machine the child's parse can be starved of CPU past a shorter deadline before it has
    allocated enough to hit the cap. (pytest's own 120 s timeout once stopped it first, in a
    fresh-clone CI run on a loaded machine.)"""
    limits = docparse.ParseLimits(seconds=180, memory_bytes=200 * MiB)
    spooled = await spool(pdf_with_pages(90_000), max_bytes=100 * MiB)
    with spooled, pytest.raises(FileRejected) as refused:
        docparse.check_pdf(spooled.file, FilePolicy(), limits)
    assert refused.value.code == "pdf_too_complex"
    assert "more than 200 MiB" in refused.value.message


async def test_an_ordinary_pdf_is_checked_and_read_in_the_bounded_worker() -> None:
    with await spool(pdf_bytes(pages=3, text="Hello judges")) as spooled:
        inspection = inspect_file(spooled, declared_name="pitch.pdf", policy=FilePolicy())
        text = docparse.extract_pdf_text(spooled.file, 10_000)
    assert inspection.details == {"pages": 3, "encrypted": False}
    assert "Hello judges 2" in text


async def test_parsing_runs_on_the_documents_threads_not_the_default_executor() -> None:
    names: list[str] = []

    def where() -> None:
        names.append(threading.current_thread().name)

    await docparse.in_document_pool(where)
    assert names[0].startswith("documents")
