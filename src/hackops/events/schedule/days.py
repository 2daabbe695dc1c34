"""The agenda as people read it: grouped by the days of the event's own clock, each time on that
clock with its zone's abbreviation and offset ("09:00 CET (UTC+01:00)"), an entry that ends on
another day saying which ("until Sun 13 Dec, 01:00")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from hackops.events.schedule.service import AgendaEntry


def offset_label(moment: datetime, zone: ZoneInfo) -> str:
    """'CET (UTC+01:00)': the zone's abbreviation and offset at that moment."""
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    return f"{local.tzname()} (UTC{offset[:3]}:{offset[3:]})"


def day_label(day: date) -> str:
    """'Saturday 12 December 2026'."""
    return f"{day:%A} {day.day} {day:%B %Y}"


@dataclass(frozen=True)
class AgendaLine:
    entry: AgendaEntry
    start: str  # "09:00"
    end: str  # "10:30", "Sun 13 Dec, 01:00" on another day, or "" without an end
    zone: str  # "CET (UTC+01:00)" at the start


@dataclass(frozen=True)
class AgendaDay:
    day: date
    label: str
    lines: list[AgendaLine]


def by_day(entries: Iterable[AgendaEntry], zone_name: str) -> list[AgendaDay]:
    """The entries (in time order) grouped by their start's day on the event's clock."""
    zone = ZoneInfo(zone_name)
    days: dict[date, list[AgendaLine]] = {}
    for entry in entries:
        start = entry.starts_at.astimezone(zone)
        end = ""
        if entry.ends_at is not None:
            finish = entry.ends_at.astimezone(zone)
            end = f"{finish:%H:%M}"
            if finish.date() != start.date():
                end = f"{finish:%a} {finish.day} {finish:%b}, {end}"
        line = AgendaLine(entry, f"{start:%H:%M}", end, offset_label(entry.starts_at, zone))
        days.setdefault(start.date(), []).append(line)
    return [AgendaDay(day, day_label(day), lines) for day, lines in days.items()]
