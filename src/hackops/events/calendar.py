"""An event as a calendar entry (iCalendar, RFC 5545) and its dates in words, for mail.

Written with `icalendar` (pinned): RFC 5545's text escaping (`,` `;` `\\` and line breaks in
names people typed), folding of lines over 75 octets (multi-byte characters kept whole) and
CRLF line ends are easy to get subtly wrong by hand, and the library is the long-maintained
reference implementation for Python (also used to parse the entry back in the tests).

Times are written in UTC (`…Z`), so every calendar places them right with no VTIMEZONE block;
the event's own zone is named in `X-WR-TIMEZONE` and in the description. The event runs from
`starts_at` to `submissions_close_at` (the end of the hacking); an event without a start has no
entry. `METHOD:PUBLISH`: the entry is information, not a meeting invitation to answer.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from hackops.models import Event, EventMode

PRODUCT_ID = "-//HackOps//Event calendar//EN"
DASH = "\N{EN DASH}"


def event_end(event: Event) -> datetime | None:
    """When the event ends: its submission deadline, when that follows the start."""
    if event.starts_at is None or event.submissions_close_at is None:
        return None
    return event.submissions_close_at if event.submissions_close_at > event.starts_at else None


def location(event: Event) -> str:
    """Where it happens, in words: the venue, online, or both."""
    if event.mode == EventMode.ONLINE or not event.venue:
        return "Online"
    if event.mode == EventMode.HYBRID:
        return f"{event.venue} (or online)"
    return event.venue


def local_span(event: Event) -> str:
    """The event's dates on its own clock, with the zone named ("" without a start), e.g.
    "Saturday 12 December 2026, 09:00 - Sunday 13 December 2026, 18:00 (Europe/Berlin)", with
    an en dash."""
    if event.starts_at is None:
        return ""
    zone = ZoneInfo(event.timezone)
    start = event.starts_at.astimezone(zone)
    text = f"{_day(start)}, {start:%H:%M}"
    end = event_end(event)
    if end is not None:
        end = end.astimezone(zone)
        same_day = end.date() == start.date()
        text += f"{DASH}{end:%H:%M}" if same_day else f" {DASH} {_day(end)}, {end:%H:%M}"
    return f"{text} ({zone.key})"


def _day(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def event_ics(event: Event, *, uid: str, url: str, stamp: datetime) -> bytes | None:
    """The event as a one-entry calendar (None without a start). `uid` names the entry for good
    (a second mail of the same registration updates the same entry); `stamp` is when the entry
    was made (DTSTAMP), fixed by the caller so the same input gives the same bytes."""
    if event.starts_at is None:
        return None
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-timezone", event.timezone)
    entry = CalendarEvent()
    entry.add("uid", uid)
    entry.add("dtstamp", stamp.astimezone(ZoneInfo("UTC")))
    entry.add("dtstart", event.starts_at.astimezone(ZoneInfo("UTC")))
    end = event_end(event)
    if end is not None:
        entry.add("dtend", end.astimezone(ZoneInfo("UTC")))
    entry.add("summary", event.name)
    entry.add("location", location(event))
    entry.add("url", url)
    about = [event.tagline] if event.tagline else []
    about += [f"When: {local_span(event)}", url]
    entry.add("description", "\n\n".join(about))
    entry.add("status", "CONFIRMED")
    entry.add("transp", "OPAQUE")
    calendar.add_component(entry)
    return bytes(calendar.to_ical())
