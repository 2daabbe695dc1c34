"""Charts for the dashboards: server-rendered SVG (pygal) shown inline, each with its data as a
table (the page's "Show as table") and as CSV.

Why inline SVG from pygal: the charts are drawn where the data already is (one request, the
figures read once), they need no script, and the text in them is real text the page's
stylesheet sizes and colours. The CSP (`style-src 'self'; script-src 'self'`) allows no
`<style>`, no `style=` and no `<script>` in the page — inline SVG is part of the page — so
`_clean` removes what pygal embeds (its stylesheet, its tooltip script and the tooltip box that
script would move) and `app.css` styles pygal's classes (`.pygal-chart …`) with our palette.
Each chart is a `role="img"` named by its `<title>` and described by its `<desc>`.

CSV: UTF-8 with a BOM (spreadsheets then read non-Latin text correctly); a text cell starting
with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe
(`hackops.spreadsheet`), so a spreadsheet never runs it as a formula. Numbers are written as
numbers. These are one chart's figures; the event's full data exports are `web/exports/`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pygal
from fastapi.responses import Response
from markupsafe import Markup
from pygal.etree import etree
from pygal.style import Style

from hackops import spreadsheet

Cell = str | int | float | None

#: Drawing size in SVG units: the chart scales to its box (`.chart svg` in app.css), and the
#: font sizes below are in the same units, so text stays readable on a phone.
WIDTH = 480
ROW_HEIGHT = 30  # per bar of a horizontal bar chart
FONT = 15
LEGEND_ROW = 40  # per row of the legend (three series a row)

_STYLE = Style(
    font_family="system-ui, sans-serif",
    label_font_size=FONT,
    major_label_font_size=FONT,
    legend_font_size=FONT,
    value_font_size=FONT,
    tooltip_font_size=FONT,
    title_font_size=FONT + 2,
    no_data_font_size=FONT + 2,
)
_CONFIG: dict[str, Any] = {
    "style": _STYLE,
    "js": [],
    "css": [],
    "no_prefix": True,
    "disable_xml_declaration": True,
    "width": WIDTH,
    "height": 300,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 3,
    "truncate_label": 20,
    "truncate_legend": 30,
    "print_values": False,
    "show_minor_x_labels": True,
    "margin": 12,
}


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Chart:
    """A chart of a dashboard: `key` names it in the page (its anchor) and in its CSV's
    address; `empty` is shown instead of the drawing when there is nothing to draw."""

    key: str
    title: str
    description: str
    table: Table
    svg: Markup | None = None
    empty: str = ""
    notes: list[str] = field(default_factory=list)


_STRIP_TAGS = {"style", "script"}
_SVG = "{http://www.w3.org/2000/svg}"


def _clean(chart: pygal.graph.graph.Graph, key: str, title: str, description: str) -> Markup:
    """pygal's SVG without what the CSP refuses, named and described for screen readers."""
    root = chart.render_tree()
    _prune(root)
    for old in [*root.findall(f"{_SVG}title"), *root.findall("title")]:  # pygal's "Pygal"
        root.remove(old)
    name = etree.Element(f"{_SVG}title", id=f"chart-{key}-title")
    name.text = title
    desc = etree.Element(f"{_SVG}desc", id=f"chart-{key}-desc")
    desc.text = description
    root.insert(0, desc)
    root.insert(0, name)
    root.set("id", f"chart-{key}")
    root.set("role", "img")
    root.set("aria-labelledby", f"chart-{key}-title chart-{key}-desc")
    root.set("focusable", "false")
    root.set("class", f"pygal-chart chart-{key}")
    # pygal escaped every text it drew; nothing here is markup from a person.
    return Markup(etree.tostring(root, encoding="unicode"))  # noqa: S704


def _prune(parent: Any) -> None:
    """Remove comments, `<style>`, `<script>` and the tooltip box (the script's, with a style
    attribute); drop every `style` attribute and pygal's ids (repeated in every chart)."""
    for element in list(parent):
        tag = element.tag if isinstance(element.tag, str) else ""
        classes = (element.get("class") or "").split() if tag else []
        if not tag or tag.removeprefix(_SVG) in _STRIP_TAGS or "tooltip-overlay" in classes:
            parent.remove(element)
            continue
        element.attrib.pop("style", None)
        element.attrib.pop("id", None)
        _prune(element)


def _make(kind: type[Any], **options: Any) -> Any:
    return kind(**{**_CONFIG, **options})


# pygal takes 10 to 50 ms a chart (its configuration is looked up attribute by attribute), more
# than the SQL of a whole dashboard. A chart is a pure function of its arguments, so the drawings
# are kept by their arguments: a dashboard read again redraws only the charts whose figures
# changed. Bounded (~50 KB a drawing); per process.
_DRAWN: OrderedDict[str, Markup] = OrderedDict()
_DRAWN_KEPT = 256


def _remembered(draw: Callable[..., Markup]) -> Callable[..., Markup]:
    def drawing(*args: Any, **options: Any) -> Markup:
        key = draw.__name__ + repr((args, sorted(options.items(), key=lambda kv: kv[0])))
        found = _DRAWN.get(key)
        if found is None:
            found = _DRAWN[key] = draw(*args, **options)
            while len(_DRAWN) > _DRAWN_KEPT:
                _DRAWN.popitem(last=False)
        else:
            _DRAWN.move_to_end(key)
        return found

    drawing.__name__, drawing.__doc__ = draw.__name__, draw.__doc__
    return drawing


@_remembered
def bars(
    key: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Any]]],
    *,
    horizontal: bool = True,
    stacked: bool = False,
    **options: Any,
) -> Markup:
    """A bar chart (horizontal by default: long labels stay readable). Horizontal bars are
    listed top to bottom in the order given."""
    if horizontal:
        kind = pygal.HorizontalStackedBar if stacked else pygal.HorizontalBar
        labels = list(reversed(labels))
        series = [(name, list(reversed(values))) for name, values in series]
        legend = LEGEND_ROW * -(-len(series) // 3) if len(series) > 1 else 0
        row = ROW_HEIGHT if stacked else ROW_HEIGHT + 14 * (len(series) - 1)
        options.setdefault("height", max(140, 70 + legend + row * len(labels)))
        if legend:  # pygal leaves no room for a horizontal chart's legend at the bottom
            options.setdefault("margin_bottom", legend)
    else:
        kind = pygal.StackedBar if stacked else pygal.Bar
    if "y_labels" not in options:
        low, high = _extent(series, stacked, options.get("range"))
        whole = all(isinstance(v, int) for _, values in series for v in values)
        options["y_labels"] = ticks(low, high, counts=whole)
    chart = _make(kind, show_legend=len(series) > 1, **options)
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return _clean(chart, key, title, description)


def _number(value: Any) -> float:
    return float(value["value"] if isinstance(value, dict) else value or 0)


def _extent(
    series: Sequence[tuple[str, Sequence[Any]]], stacked: bool, given: Any
) -> tuple[float, float]:
    if given is not None:
        return float(given[0]), float(given[1])
    if stacked:
        sums = [
            sum(_number(v) for v in column) for column in zip(*(v for _, v in series), strict=True)
        ]
        return min(0.0, *sums), max(0.0, *sums)
    values = [_number(v) for _, vs in series for v in vs]
    return min(0.0, *values), max(0.0, *values)


def ticks(low: float, high: float, most: int = 6, *, counts: bool = False) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart, at most `most` steps) covering
    low..high: the value axis's labels, few enough not to run into each other on a phone.
    `counts`: whole numbers only."""
    span = high - low
    if span <= 0:
        return [low, low + 1]
    power = 10 ** math.floor(math.log10(span / most))
    step = next(
        power * f
        for f in (1, 2, 5, 10, 20, 50, 100)
        if span / (power * f) <= most and (power * f >= 1 or not counts)
    )
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    whole = step >= 1
    return [int(i * step) if whole else round(i * step, 10) for i in range(first, last + 1)]


@_remembered
def line(
    key: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Any]]],
    **options: Any,
) -> Markup:
    """A line chart over `labels` (dates), at most ~8 of them written on the axis."""
    if len(series) > 1:  # as for horizontal bars: pygal leaves the legend too little room
        options.setdefault("margin_bottom", LEGEND_ROW * -(-len(series) // 3))
    if "y_labels" not in options:
        low, high = _extent(series, False, options.get("range"))
        whole = all(isinstance(v, int) for _, values in series for v in values)
        options["y_labels"] = ticks(low, high, counts=whole)
    chart = _make(
        pygal.Line,
        show_legend=len(series) > 1,
        show_minor_x_labels=False,
        x_labels_major_count=min(len(labels), 5),
        show_dots=len(labels) <= 40,
        x_label_rotation=0,
        **options,
    )
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return _clean(chart, key, title, description)


# --- CSV ------------------------------------------------------------------------------------


def defuse(value: Cell) -> Cell:
    """A text cell a spreadsheet could run as a formula (`spreadsheet.is_formula_like`), with a
    leading apostrophe. Numbers stay numbers (a leniency of -3.2 is a number, not text), which
    is why this is not `spreadsheet.defuse`, which makes every cell text."""
    if isinstance(value, str) and spreadsheet.is_formula_like(value):
        return "'" + value
    return value


def csv_text(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([defuse(c) for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if c is None else defuse(c) for c in row])
    return "\ufeff" + out.getvalue()


def csv_response(table: Table, filename: str) -> Response:
    """The table as a CSV download (UTF-8 with BOM), named `filename`."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-") or "chart.csv"
    return Response(
        csv_text(table).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{safe}"',
            "Cache-Control": "no-store",
        },
    )
