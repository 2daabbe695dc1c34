"""Text a spreadsheet must not run: a CSV cell that starts with = + - @ (or a tab or carriage
return, which some programs skip before looking) is read as a formula by Excel, LibreOffice and
Google Sheets ("CSV injection"). Every CSV the application writes passes its cells through
`defuse`, which puts an apostrophe in front of such text: spreadsheets show the text as typed.

Below every domain (the registrations import's report, the results and the exports all write
CSV). XLSX needs no apostrophe: its writer stores text as text, never as a formula.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def defuse(value: object) -> str:
    """The cell's text for CSV: "" for None, an apostrophe in front of formula-like text."""
    text = "" if value is None else str(value)
    return "'" + text if is_formula_like(text) else text
