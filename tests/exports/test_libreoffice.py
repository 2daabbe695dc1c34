"""The XLSX exports open in LibreOffice: each file converted back to CSV by
`soffice --headless --convert-to csv` holds the same cells as the JSON export (text as typed,
formula-like text still text, non-Latin text whole). Skipped where LibreOffice is not installed
(`apt-get install libreoffice-calc-nogui`)."""

from __future__ import annotations

import asyncio
import csv
import shutil
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.exports.helpers import NON_LATIN, build_scene, fetch, json_rows

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        SOFFICE is None,
        reason="LibreOffice is not installed (apt-get install libreoffice-calc-nogui); "
        "the XLSX round trip needs soffice on the PATH",
    ),
]
DATASETS = ("registrations", "teams", "submissions", "judges", "evaluations")
# comma, double quote, UTF-8 (76), from the first line
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1"


def cell(value: Any) -> str:
    """A JSON value as LibreOffice writes the cell to CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


async def test_xlsx_round_trips_through_libreoffice(
    client: httpx2.AsyncClient, session: AsyncSession, tmp_path: Path
) -> None:
    assert SOFFICE is not None
    s = await build_scene(session)
    expected: dict[str, list[list[str]]] = {}
    for dataset in DATASETS:
        (tmp_path / f"{dataset}.xlsx").write_bytes(
            (await fetch(client, s, f"{dataset}.xlsx")).content
        )
        objects = json_rows(await fetch(client, s, f"{dataset}.json"))
        expected[dataset] = [list(objects[0])] + [[cell(v) for v in o.values()] for o in objects]
    out = tmp_path / "out"
    process = await asyncio.create_subprocess_exec(
        SOFFICE,
        f"-env:UserInstallation=file://{tmp_path / 'profile'}",
        "--headless",
        "--convert-to",
        CSV_FILTER,
        "--outdir",
        str(out),
        *(str(tmp_path / f"{d}.xlsx") for d in DATASETS),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    log, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    assert process.returncode == 0, log.decode(errors="replace")
    for dataset in DATASETS:
        converted = out / f"{dataset}.csv"
        assert converted.exists(), log.decode(errors="replace")
        with converted.open(encoding="utf-8", newline="") as read:
            rows = list(csv.reader(read))
        assert rows == expected[dataset], dataset
    teams = (out / "teams.csv").read_text(encoding="utf-8")
    assert NON_LATIN in teams
    assert "+Second team" in teams  # text, not a formula, and no apostrophe
