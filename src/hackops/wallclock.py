"""An instant as people read it on an event's wall clock, the zone named with its offset:
"Sat 12 Dec 2026, 14:00 (Europe/Berlin, UTC+01:00)" ("… (UTC)" for an event kept in UTC).

One wording for every event time a person reads — a page (`web.eventkit.Moment` wraps it in a
`<time>` element), a flash, an error message of a service — so a screen never mixes UTC and the
event's zone, nor a bare abbreviation ("CET") that does not say the offset."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def offset_minutes(local: datetime) -> int:
    """Minutes east of UTC of an aware datetime."""
    return int((local.utcoffset() or timedelta(0)).total_seconds() // 60)


def utc_offset(minutes: int) -> str:
    """60 → "UTC+01:00", -150 → "UTC-02:30"."""
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def on_clock(moment: datetime, zone: ZoneInfo | str) -> str:
    """`moment` on the wall clock of `zone`, with the zone's name and offset."""
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    local = moment.astimezone(zone)
    where = "UTC" if zone.key == "UTC" else f"{zone.key}, {utc_offset(offset_minutes(local))}"
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({where})"
