"""bench/perf.py's verdicts and its table: from the report's measured rows to pass / fail per
target of issue 15, and the table as Markdown (what the closing note's before/after tables are).
"""

from __future__ import annotations

from typing import Any

FINDER_P95_MS = 50.0
DEADLINE_P95_MS = 500.0
SATURATION = 2.5  # p99 / p50 at most
STRETCH = {"register": 0.4}

TITLES = {
    "health": "/health vs bare FastAPI /health",
    "event_page": "public event page (HTML, anonymous)",
    "event_page_304": "public event page, If-None-Match (info)",
    "results": "published results (JSON, anonymous)",
    "results_304": "published results, If-None-Match (info)",
    "events_list": "public events list (JSON)",
    "events_list_304": "public events list, If-None-Match (info)",
    "gallery": "gallery search over 5,000 projects",
    "me": "authenticated one-row read (/api/v1/me)",
    "register": "registration (distinct users, one event)",
    "task_create": "team task create",
    "evaluation": "evaluation upsert",
    "submit": "submit",
    "finder": "team finder at 100k users",
    "deadline": "deadline spike (open loop)",
    "saturation": "every closed-loop row at saturation",
}
BASELINES = {
    "bare_health": "bare /health",
    "bare_row": "raw one-row read",
    "bare_gallery": "raw gallery query",
    "health": "our /health",
}


def _latencies(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in ("p50_ms", "p95_ms", "p99_ms", "p99_over_p50", "errors")}


def _closed_loop(key: str, row: dict[str, Any], rows: dict[str, Any]) -> dict[str, Any]:
    line: dict[str, Any] = {"key": key, "row": TITLES.get(key, key), "path": row["path"]}
    line["connections"] = row["connections"]
    if "broken" in row:
        return {**line, "ours": None, "pass": False, "note": f"not measured: {row['broken']}"}
    line |= {"ours": f"{row['rps']:,.0f} rps", **_latencies(row)}
    baseline = row.get("baseline")
    if baseline:
        base = rows.get(baseline, {})
        line["baseline"] = (
            f"{base['rps']:,.0f} rps ({BASELINES.get(baseline, baseline)})"
            if "rps" in base
            else None
        )
        line["ratio"] = row.get("ratio")
    target = row.get("target_ratio")
    if target is not None:
        line["target"] = f"≥ {target}" + (f" (stretch {STRETCH[key]})" if key in STRETCH else "")
        line["pass"] = line["ratio"] is not None and line["ratio"] >= target
        if key in STRETCH and line["pass"]:
            line["note"] = "stretch met" if line["ratio"] >= STRETCH[key] else "stretch not met"
        if "ratio_vs_bare_row" in row:
            line["note"] = f"{row['ratio_vs_bare_row']} x raw one-row read"
    elif key == "finder":
        line["target"] = f"p95 < {FINDER_P95_MS:.0f} ms"
        line["pass"] = row["p95_ms"] < FINDER_P95_MS
    else:
        line["target"] = "info"
        line["pass"] = None
    return line


def _deadline(deadline: dict[str, Any]) -> dict[str, Any]:
    failures = deadline["failures"]
    lost = (
        deadline["on_time_refused"] + deadline["database"]["versions_not_matching_accepted_submits"]
    )
    p50, p95, p99 = (deadline[f"on_time_p{q}_ms"] for q in (50, 95, 99))
    planned = deadline["planned"]
    return {
        "key": "deadline",
        "row": TITLES["deadline"],
        "path": (
            f"{planned['first']:,} teams in the last {deadline['window_s']:.0f} s"
            f" (+{planned['second']:,} second submits, {planned['late']:,} late)"
        ),
        "ours": f"{deadline['submits_per_s_over_window']:,.0f} submits/s",
        "target": f"p95 ≤ {DEADLINE_P95_MS:.0f} ms, 0 lost",
        "pass": p95 <= DEADLINE_P95_MS and not any(failures.values()),
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "p99_over_p50": round(p99 / p50, 2) if p50 else None,
        "errors": lost + deadline["late_accepted"],
        "note": (
            f"lost {lost} (5xx {deadline['responses_5xx']}, of which"
            f" {deadline.get('no_answer', '?')} unanswered)"
            + "".join(
                f", {k} {v}"
                for k, v in failures.items()
                if v and k not in {"responses_5xx", "on_time_refused", "teams_without_a_version"}
            )
        ),
    }


def _saturation(lines: list[dict[str, Any]]) -> dict[str, Any]:
    loops = [line for line in lines if line.get("p99_over_p50") is not None]
    worst = max(loops, key=lambda line: line["p99_over_p50"], default=None)
    errors = sum(line["errors"] for line in loops)
    return {
        "key": "saturation",
        "row": TITLES["saturation"],
        "path": f"{len(loops)} rows",
        "ours": f"worst p99/p50 {worst['p99_over_p50']} ({worst['key']})" if worst else None,
        "target": f"p99/p50 ≤ {SATURATION}, 0 errors",
        "pass": worst is not None and worst["p99_over_p50"] <= SATURATION and errors == 0,
        "p99_over_p50": worst["p99_over_p50"] if worst else None,
        "errors": errors,
        "note": ", ".join(
            f"{line['key']} {line['p99_over_p50']}"
            for line in loops
            if line["p99_over_p50"] > SATURATION
        ),
    }


def verdicts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The table's lines: every row of ours, the deadline, saturation (baselines left out)."""
    rows = report["rows"]
    lines = [
        _closed_loop(key, row, rows) for key, row in rows.items() if not key.startswith("bare_")
    ]
    if report.get("deadline"):
        lines.append(_deadline(report["deadline"]))
    lines.append(_saturation([line for line in lines if line["key"] != "deadline"]))
    return lines


def _cell(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return "pass"
    if value is False:
        return "**FAIL**"
    if isinstance(value, float):
        digits = {"ratio": 3, "p99_over_p50": 2}.get(key, 1)
        return f"{value:,.{digits}f}"
    return str(value)


COLUMNS = [
    ("row", "row"), ("path", "path"), ("ours", "ours"), ("baseline", "baseline"),
    ("ratio", "ratio"), ("target", "target"), ("pass", "pass"), ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"), ("p99_ms", "p99 ms"), ("p99_over_p50", "p99/p50"),
    ("errors", "errors"), ("note", "note"),
]  # fmt: skip


def markdown(report: dict[str, Any]) -> str:
    """The header lines and the table, in Markdown."""
    load = report["load_average"]
    phases = ", ".join(f"{k.removesuffix('_s')} {v:.0f} s" for k, v in report["phases"].items())
    out = [
        f"## bench/perf.py — {report['when']}, code {report['code']}"
        + (" (QUICK: a smoke run, not the acceptance figures)" if report["quick"] else ""),
        "",
        f"{report['cpus']} CPUs, {report['workers_per_server']} uvicorn worker(s) per server,"
        f" {report['rounds']} round(s) x {report['duration_s']:g} s per row,"
        f" {report['connections']} connections (finder 4); medians over rounds; ratios are the"
        " median of per-round ours / baseline.",
        f"Load average at start {load['start']}, at end {load['end']}. Phases: {phases}"
        + (
            " (seed: " + ", ".join(f"{k} {v:.0f} s" for k, v in report["seed_s"].items()) + ")."
            if report.get("seed_s")
            else "."
        ),
        f"Server RSS at end: HackOps {report['memory']['hackops_rss_mib']} MiB,"
        f" bare {report['memory']['bare_rss_mib']} MiB.",
        "",
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for line in report["table"]:
        out.append("| " + " | ".join(_cell(key, line.get(key)) for key, _ in COLUMNS) + " |")
    bases = [
        f"{label} {report['rows'][key]['rps']:,.0f} rps"
        f" (p50 {report['rows'][key]['p50_ms']} ms, errors {report['rows'][key]['errors']})"
        for key, label in BASELINES.items()
        if key.startswith("bare_") and "rps" in report["rows"].get(key, {})
    ]
    out += ["", "Baselines, same run: " + "; ".join(bases) + "."]
    failed = [line["key"] for line in report["table"] if line.get("pass") is False]
    out.append("Failed: " + ", ".join(failed) + "." if failed else "Every target met.")
    return "\n".join(out)
