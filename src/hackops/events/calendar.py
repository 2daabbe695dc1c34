"""An event as a calendar entry (iCalendar, RFC 5545) and its dates in words, for mail; and a
calendar of many events with their windows (`calendar_ics`, the personal feed of "my events").

Written with `icalendar` (pinned): RFC 5545's text escaping (`,` `;` `\\` and line breaks in
names people typed), folding of lines over 75 octets (multi-byte characters kept whole) and
CRLF line ends are easy to get subtly wrong by hand, and the library is the long-maintained
reference implementation for Python (also used to parse the entry back in the tests).

Times are written in UTC (`…Z`), so every calendar places them right with no VTIMEZONE block;
the event's own zone is named in `X-WR-TIMEZONE` and in the description. The event runs from
`starts_at` to `submissions_close_at` (the end of the hacking); an event without a start has no
entry. `METHOD:PUBLISH`: the entry is information, not a meeting invitation to answer.

The event's calendar (`agenda_ics`, the public page's "Add to calendar") holds the event's own
entry, its dates and its schedule items. Its times are on the event's wall clock with their zone
(`TZID` and the zone's `VTIMEZONE`, covering only the years the calendar spans), so a calendar
app shows a talk at 09:00 in Berlin as the organizers wrote it. Each entry's UID is made from
what it is (the event's id, the window's field, the item's id) and its DTSTAMP is when it last
changed, so two downloads are the same bytes and a subscribed calendar updates an entry in place
instead of adding it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from hackops.events.schedule.service import AgendaEntry
from hackops.models import Event, EventMode

PRODUCT_ID = "-//HackOps//Event calendar//EN"
DASH = "\N{EN DASH}"
UTC = ZoneInfo("UTC")


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
    calendar = _calendar(event)
    calendar.add_component(_event_entry(event, uid=uid, url=url, stamp=stamp, zone=UTC))
    return bytes(calendar.to_ical())


def _calendar(event: Event) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-timezone", event.timezone)
    return calendar


def _event_entry(
    event: Event, *, uid: str, url: str, stamp: datetime, zone: ZoneInfo
) -> CalendarEvent:
    """The event itself, from its start to its end (the event must have a start)."""
    assert event.starts_at is not None
    entry = CalendarEvent()
    entry.add("uid", uid)
    entry.add("dtstamp", stamp.astimezone(UTC))
    entry.add("dtstart", event.starts_at.astimezone(zone))
    end = event_end(event)
    if end is not None:
        entry.add("dtend", end.astimezone(zone))
    entry.add("summary", event.name)
    entry.add("location", location(event))
    entry.add("url", url)
    about = [event.tagline] if event.tagline else []
    about += [f"When: {local_span(event)}", url]
    entry.add("description", "\n\n".join(about))
    entry.add("status", "CONFIRMED")
    entry.add("transp", "OPAQUE")
    return entry


#: The category of the event's own dates in its calendar, as on its agenda.
EVENT_DATE = "Event date"


def agenda_ics(
    event: Event,
    entries: Sequence[AgendaEntry],
    *,
    host: str,
    url: str,
    stamps: dict[str, datetime],
) -> bytes:
    """The event's calendar: the event itself (when it has a start), then its agenda `entries`
    (its dates, marked with the category "Event date", and its schedule items). The event's
    start is its own entry, so the "starts" date is not repeated. `stamps` gives each entry's
    DTSTAMP by its key ("event" for the event and its dates), the moment it last changed."""
    zone = ZoneInfo(event.timezone)
    calendar = _calendar(event)
    calendar.add("name", event.name)
    calendar.add("x-wr-calname", event.name)
    event_stamp = stamps["event"]
    moments: list[datetime] = []
    if event.starts_at is not None:
        uid = f"event-{event.id}@{host}"
        calendar.add_component(_event_entry(event, uid=uid, url=url, stamp=event_stamp, zone=zone))
        moments += [m for m in (event.starts_at, event_end(event)) if m is not None]
    for item in entries:
        if item.window == "starts_at":
            continue
        entry = CalendarEvent()
        entry.add("uid", f"{item.key}.{event.id}@{host}")
        entry.add("dtstamp", stamps.get(item.key, event_stamp).astimezone(UTC))
        entry.add("dtstart", item.starts_at.astimezone(zone))
        if item.ends_at is not None:
            entry.add("dtend", item.ends_at.astimezone(zone))
        entry.add("summary", f"{event.name}: {item.title}" if item.derived else item.title)
        where = item.place or (location(event) if item.derived else "")
        if where:
            entry.add("location", where)
        entry.add("url", item.url or url)
        about = [item.description] if item.description else []
        about.append(url)
        entry.add("description", "\n\n".join(about))
        entry.add("categories", [EVENT_DATE if item.derived else item.kind.capitalize()])
        entry.add("status", "CONFIRMED")
        # A date is a moment to remember, not time to block; an item takes the time it lasts.
        entry.add("transp", "TRANSPARENT" if item.ends_at is None else "OPAQUE")
        calendar.add_component(entry)
        moments += [m for m in (item.starts_at, item.ends_at) if m is not None]
    if moments and zone.key != "UTC":
        first, last = min(moments), max(moments)
        calendar.add_missing_timezones(
            first_date=date(first.year - 1, 1, 1), last_date=date(last.year + 1, 12, 31)
        )
    return bytes(calendar.to_ical())


@dataclass(frozen=True)
class CalendarRow:
    """One event of a calendar: the event, its page's address, and why it is there (the roles
    the person holds: "participant", "organizer", "judge"), which decide its windows."""

    event: Event
    url: str
    roles: frozenset[str]


#: The windows of an event that each role cares about: (key, title prefix, roles).
WINDOWS = (
    ("registration-closes", "Registration closes", frozenset({"organizer"})),
    ("submissions-close", "Submissions close", frozenset({"participant", "organizer", "judge"})),
    ("judging-closes", "Judging closes", frozenset({"organizer", "judge"})),
)


def calendar_ics(rows: Sequence[CalendarRow], *, name: str, stamp: datetime) -> bytes:
    """A calendar of events (a feed: `METHOD:PUBLISH`, one `VEVENT` per event and window):
    the event from its start to its end, and its deadlines each as a moment of its own —
    submissions close, and for organizers and judges judging closes (and for organizers,
    registration closes). UIDs are `<event id>-<window>@hackops`, so a calendar that fetches the
    feed again updates its entries instead of adding new ones. An event without a start has
    only its deadlines."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    utc = ZoneInfo("UTC")
    for row in rows:
        event = row.event
        if event.starts_at is not None:
            entry = _entry(row, "event", event.name, event.starts_at, stamp)
            end = event_end(event)
            if end is not None:
                entry.add("dtend", end.astimezone(utc))
            entry.add("transp", "OPAQUE")
            calendar.add_component(entry)
        moments = {
            "registration-closes": event.registration_closes_at,
            "submissions-close": event.submissions_close_at,
            "judging-closes": event.judging_closes_at,
        }
        for key, title, roles in WINDOWS:
            moment = moments[key]
            if moment is None or not roles & row.roles:
                continue
            entry = _entry(row, key, f"{title}: {event.name}", moment, stamp)
            entry.add("dtend", moment.astimezone(utc))
            entry.add("transp", "TRANSPARENT")
            calendar.add_component(entry)
    return bytes(calendar.to_ical())


def _entry(row: CalendarRow, key: str, summary: str, start: datetime, stamp: datetime) -> Any:
    utc = ZoneInfo("UTC")
    entry = CalendarEvent()
    entry.add("uid", f"{row.event.id}-{key}@hackops")
    entry.add("dtstamp", stamp.astimezone(utc))
    entry.add("dtstart", start.astimezone(utc))
    entry.add("summary", summary)
    entry.add("location", location(row.event))
    entry.add("url", row.url)
    about = [row.event.tagline] if row.event.tagline else []
    about += [f"When: {local_span(row.event)}" if row.event.starts_at else "", row.url]
    entry.add("description", "\n\n".join(a for a in about if a))
    entry.add("status", "CONFIRMED")
    return entry
