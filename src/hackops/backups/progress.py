"""The Rich progress display both commands share."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


def size(value: float) -> str:
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GiB"  # pragma: no cover - unreachable


class DoneOfTotal(ProgressColumn):
    """`12/47 tables`, or `3.1 MiB/5.0 MiB` for a task counted in bytes."""

    def render(self, task: Task) -> Text:
        unit = str(task.fields.get("unit", ""))
        total = task.total or 0
        if unit == "bytes":
            return Text(f"{size(task.completed)}/{size(total)}")
        return Text(f"{int(task.completed)}/{int(total)} {unit}")


def steps(console: Console) -> Progress:
    """One bar per step: what, the bar, percent, done/total, time taken."""
    return Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        TaskProgressColumn(),
        DoneOfTotal(),
        TimeElapsedColumn(),
        console=console,
    )
