"""Times on the pages: an event's times on the event's clock with its zone and offset ("Sat 12
Dec 2026, 14:00 (Europe/Berlin, UTC+01:00)") on every page of the event — public, team,
registration, admin — never a bare UTC time beside them; times not tied to an event (the
notification centre, the account's sessions) in UTC, said on each."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx2
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import create_event_role_invitation, create_notification
from tests.people import build_cast
from tests.web.test_account_pages import use_session

#: A time with a bare zone abbreviation or UTC and no offset: "2026-12-07 03:12 UTC", "14:00 CET".
BARE = re.compile(r"\d\d:\d\d(?::\d\d)? (?:UTC|[A-Z]{3,4})\b(?! ?[+-]\d)")
ZONED = re.compile(r"\w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d \(Europe/Berlin, UTC\+0[12]:00\)")


def times_in(page: str) -> list[str]:
    return re.findall(r'<time [^>]*class="event-time"[^>]*>([^<]*)</time>', page)


async def test_an_events_pages_say_its_times_in_its_zone_with_the_offset(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    now = datetime.now(UTC)
    cast = await build_cast(
        session,
        timezone="Europe/Berlin",
        registration_opens_at=now - timedelta(days=2),
        registration_closes_at=now + timedelta(days=3),
        starts_at=now + timedelta(days=4),
        submissions_close_at=now + timedelta(days=5),
        judging_closes_at=now + timedelta(days=6),
    )
    await create_event_role_invitation(session, cast.event, email="later@example.org")
    event = f"/orgs/{cast.org.slug}/events/{cast.event.slug}"
    pages = {
        "captain": [event, f"{event}/teams/{cast.team.id}", f"{event}/registration"],
        "owner": [f"{event}/admin/windows", f"{event}/admin/roles", f"{event}/admin/registrations"],
    }
    seen = 0
    for who, addresses in pages.items():
        use_session(client, cast.tokens[who])
        for address in addresses:
            page = await client.get(address)
            assert page.status_code == 200, address
            assert not BARE.search(page.text), (address, BARE.search(page.text))
            for text in times_in(page.text):
                assert ZONED.fullmatch(text), (address, text)
                seen += 1
    assert seen >= 8  # the event's windows, registrations, invitations …


async def test_times_not_tied_to_an_event_say_utc(
    client: httpx2.AsyncClient, session: AsyncSession
) -> None:
    cast = await build_cast(session, timezone="Europe/Berlin")
    await create_notification(session, cast.users["captain"], title="Room change")
    use_session(client, cast.tokens["captain"])
    for address in ("/notifications", "/account/security"):
        page = await client.get(address)
        texts = times_in(page.text)
        assert texts, address
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", t) for t in texts), texts
