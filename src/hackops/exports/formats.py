"""Writing an export's table as CSV, XLSX or JSON into a spool file, and reading it back out.

Why a spool file and not rows streamed straight to the client: the rows are read in a database
transaction, and a client can download slowly (or stall). Written at disk speed into a spool
(memory up to `SPOOL_MEMORY`, then a temporary file), the table's transaction ends as soon as the
last row is written; the download that follows holds no connection, however slow the client, and
a client that goes away only closes (deletes) the file. Memory stays flat: the rows pass one
batch at a time (`table.BATCH`), the writers keep no rows, and XLSX is written with
xlsxwriter's `constant_memory` mode (each row flushed to its temporary sheet file once written).

- CSV: UTF-8 with a byte order mark (so spreadsheets read non-Latin text as UTF-8), CRLF line
  ends, every cell through `hackops.spreadsheet.defuse` (formula-like text gets an apostrophe).
- XLSX: one sheet; text is always written as text (`write_string`, and the workbook's automatic
  conversions of strings to formulas, numbers and links turned off), so no cell is a formula;
  numbers and yes/no as such; the header row bold and frozen.
- JSON: an array of objects keyed by the column names, values as they are (no apostrophes: JSON
  is not opened by spreadsheets as formulas).
"""

from __future__ import annotations

import csv
import enum
import io
import json
import tempfile
from collections.abc import AsyncIterator
from typing import IO, Any

import xlsxwriter

from hackops.exports.table import Table
from hackops.spreadsheet import defuse

SPOOL_MEMORY = 1024 * 1024
CHUNK = 64 * 1024
BOM = "\ufeff".encode()


class Format(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


MEDIA_TYPES = {
    Format.CSV: "text/csv; charset=utf-8",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.JSON: "application/json",
}


async def spool(table: Table, fmt: Format) -> IO[bytes]:
    """The table written in `fmt`, in a spool file positioned at its start (the caller closes
    it). Reads every row of the table."""
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115
    try:
        if fmt is Format.CSV:
            await _csv(table, out)
        elif fmt is Format.XLSX:
            await _xlsx(table, out)
        else:
            await _json(table, out)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out


async def _csv(table: Table, out: IO[bytes]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Any) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([defuse(_plain(c)) for c in cells])
        return buffer.getvalue().encode()

    out.write(BOM + line(table.columns))
    async for row in table.rows:
        out.write(line(row))


def _plain(value: Any) -> Any:
    """A cell's value for text formats: yes/no for booleans, enums by their value."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return value.value
    return value


async def _json(table: Table, out: IO[bytes]) -> None:
    out.write(b"[")
    first = True
    async for row in table.rows:
        item = json.dumps(dict(zip(table.columns, row, strict=True)), default=str)
        out.write((b"\n" if first else b",\n") + item.encode())
        first = False
    out.write(b"\n]\n" if not first else b"]\n")


SHEET_NAME_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


async def _xlsx(table: Table, out: IO[bytes]) -> None:
    book = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
        },
    )
    try:
        sheet = book.add_worksheet(table.dataset.value.translate(SHEET_NAME_FORBIDDEN)[:31])
        bold = book.add_format({"bold": True})
        for column, name in enumerate(table.columns):
            sheet.write_string(0, column, name, bold)
        sheet.freeze_panes(1, 0)
        number = 0
        async for row in table.rows:
            number += 1
            for column, value in enumerate(row):
                _cell(sheet, number, column, value)
    finally:
        book.close()


def _cell(sheet: Any, row: int, column: int, value: Any) -> None:
    if value is None or value == "":
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, column, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, column, value)  # NaN and infinities: error cells
    else:
        sheet.write_string(row, column, str(_plain(value)))


async def chunks(spooled: IO[bytes]) -> AsyncIterator[bytes]:
    """The spool file's bytes, then the file closed (also when the client goes away)."""
    try:
        while chunk := spooled.read(CHUNK):
            yield chunk
    finally:
        spooled.close()
