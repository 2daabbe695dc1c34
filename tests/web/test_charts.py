"""web/charts.py: the SVG the CSP allows (no style, script, comment or tooltip box; named and
described), value-axis labels few and round, CSV defused with a BOM."""

from __future__ import annotations

import re

from hackops.web import charts


def test_the_svg_has_nothing_the_csp_refuses_and_a_name() -> None:
    svg = str(
        charts.bars(
            "teams-size",
            "Teams <by> size",
            "How many & which",
            ["<b>one</b>", "two"],
            [("Teams", [3, 5]), ("Other", [1, 2])],
        )
    )
    assert svg.startswith("<svg")
    for refused in ("<style", "<script", "style=", "<!--", "tooltip-overlay", 'id="activate'):
        assert refused not in svg
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-teams-size-title chart-teams-size-desc"' in svg
    assert '<title id="chart-teams-size-title">Teams &lt;by&gt; size</title>' in svg
    assert '<desc id="chart-teams-size-desc">How many &amp; which</desc>' in svg
    assert "&lt;b&gt;one&lt;/b&gt;" in svg
    assert "<b>" not in svg
    assert re.findall(r'\bid="([^"]+)"', svg) == [
        "chart-teams-size",
        "chart-teams-size-title",
        "chart-teams-size-desc",
    ]
    assert 'class="pygal-chart chart-teams-size"' in svg


def test_value_axis_labels_are_few_and_round() -> None:
    assert charts.ticks(0, 26) == [0, 5, 10, 15, 20, 25, 30]
    assert charts.ticks(0, 560) == [0, 100, 200, 300, 400, 500, 600]
    assert charts.ticks(-28, 24) == [-30, -20, -10, 0, 10, 20, 30]
    assert charts.ticks(0.8, 1.2) == [0.8, 0.9, 1.0, 1.1, 1.2]
    assert charts.ticks(0, 3, counts=True) == [0, 1, 2, 3]
    assert charts.ticks(0, 1, counts=True) == [0, 1]
    assert charts.ticks(5, 5) == [5, 6]


def test_csv_is_utf8_with_bom_and_formulas_defused() -> None:
    table = charts.Table(
        ["=Name", "Count"],
        [["=1+2", 3], ["+x", -4], ["-y", 1.5], ["@z", None], ["\tt", 0], ["\rr", 0], ["東京", 2]],
    )
    assert charts.csv_text(table) == (
        "\ufeff'=Name,Count\r\n'=1+2,3\r\n'+x,-4\r\n'-y,1.5\r\n'@z,\r\n'\tt,0\r\n\"'\rr\",0\r\n"
        "東京,2\r\n"
    )
    response = charts.csv_response(table, "my event/chart.csv")
    assert response.headers["content-disposition"] == 'attachment; filename="my-event-chart.csv"'
    assert response.body.startswith(b"\xef\xbb\xbf")
